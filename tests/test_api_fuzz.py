"""Property-based API fuzzing with schemathesis against kb's own openapi.json.

Every operation gets generated valid and invalid inputs; every response must be a non-5xx
answer that conforms to the documented schema (status, content type, body). This is the
bounded CI run; benchmarks/fuzz.py runs the same checks for longer.
"""

from __future__ import annotations

import tempfile

import schemathesis
from hypothesis import HealthCheck, settings

from kb.api import create_app
from kb.corpus import load_corpus
from kb.index import build_index
from tests.conftest import SHIPPED_CORPUS

MAX_EXAMPLES = 40  # per operation: 9 operations -> a few hundred cases


def _app():
    # Built at import: schemathesis' fixture loader does not support this pytest version.
    index_dir = tempfile.mkdtemp(prefix="kb-fuzz-")
    build_index(load_corpus(SHIPPED_CORPUS), index_dir)
    return create_app({"KB_INDEX_DIR": index_dir, "KB_RATE_LIMIT": ""})


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_its_schema(case):
    # The WSGI transport does not decode compressed bodies: ask for them as they are.
    case.call_and_validate(headers={"Accept-Encoding": "identity"})
