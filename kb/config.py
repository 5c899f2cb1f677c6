"""Settings: documented defaults, overridden by KB_* environment variables, then by a test dict.

Every key is listed here with its default and meaning; README's configuration table is
checked against this dict by tests/test_docs.py, so a new setting cannot go undocumented.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from kb.safety import DEFAULT_MESSAGE, DEFAULT_TITLE

SETTINGS: dict[str, tuple[object, str]] = {
    "KB_CORPUS_DIR": ("corpus", "Directory of Markdown articles that `kb build` reads."),
    "KB_INDEX_DIR": ("index", "Directory of index builds that the server reads."),
    "KB_TAXONOMY": (
        "",
        "Path of a taxonomy YAML file to use instead of the packaged kb/data/taxonomy.yaml "
        "(read by `kb build` and the server from the environment).",
    ),
    "KB_CORS_ORIGINS": (
        [],
        "Origins allowed to call the API from a browser, as a JSON list "
        '(e.g. `["https://clinic.example"]`). Empty: no cross-origin access.',
    ),
    "KB_LOG_QUERIES": (False, "Log raw query text. Off by default: queries are health data."),
    "KB_RATE_LIMIT": (
        "20 per second;600 per minute",
        "Per-client request limit for the API (flask-limiter syntax). Empty: no limit.",
    ),
    "KB_RATE_LIMIT_STORAGE": (
        "memory://",
        "Where rate-limit counters live, e.g. `redis://host:6379` to share them across "
        "processes. In memory, each worker process counts on its own.",
    ),
    "KB_PROXY_COUNT": (
        0,
        "How many reverse proxies in front of kb to trust for the client address "
        "(X-Forwarded-For), which the rate limit keys on.",
    ),
    "KB_MAX_URL_LENGTH": (8000, "Longest accepted URL path and query string (else 414)."),
    "KB_MAX_BODY_BYTES": (16384, "Largest accepted request body (else 413)."),
    "KB_CRISIS_TITLE": (DEFAULT_TITLE, "Title of the notice shown for crisis queries."),
    "KB_CRISIS_MESSAGE": (DEFAULT_MESSAGE, "Text of the notice shown for crisis queries."),
    "KB_CRISIS_RESOURCES": (
        [],
        'Crisis resources as a JSON list of objects, e.g. `[{"name": "Clinic line", '
        '"phone": "555-0100", "url": "https://..."}]`.',
    ),
}


def defaults() -> dict[str, object]:
    return {key: value for key, (value, _doc) in SETTINGS.items()}


def _decode(raw: str, default: object) -> object:
    """Environment values are strings; JSON-decode those whose default is not a string."""
    if isinstance(default, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        raise ValueError(f"expected JSON for this setting, got {raw!r}") from None


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    environ = os.environ if environ is None else environ
    settings = {}
    for key, (default, _doc) in SETTINGS.items():
        if key in environ:
            try:
                settings[key] = _decode(environ[key], default)
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
    return settings


def load_settings(overrides: Mapping[str, object] | None = None) -> dict[str, object]:
    settings = defaults()
    settings.update(from_environment())
    settings.update(overrides or {})
    return settings
