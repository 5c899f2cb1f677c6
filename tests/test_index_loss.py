"""The index directory removed or moved while kb serves it (`rm -rf`, `mv`).

Under gunicorn (2 workers x 4 threads) and under `kb serve`, every request then answers
503 `index_unavailable` (a crisis query still with its notice), /api/v1/health included,
never a 500; putting the directory back, or building anew, serves again without a restart.
"""

from __future__ import annotations

import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

from kb.index import build_index
from tests.test_faults import (
    SHIPPED_CORPUS,
    built_name,
    free_port,
    get,
    gunicorn,
    kb_command,
    logged_server,
    run_kb_build,
)

pytestmark = pytest.mark.slow

PATHS = (
    "/api/v1/search?q=therapy",
    "/api/v1/search?q=" + quote("I want to kill myself"),
    "/api/v1/sections/bpd-treatment-in-real-sessions:introduction",
    "/api/v1/sections/bpd-treatment-in-real-sessions:introduction/related",
    "/api/v1/suggest?q=ment",
    "/api/v1/articles",
    "/api/v1/health",
)


@contextmanager
def kb_serve(index: Path, logs: Path):
    port = free_port()
    log_path = logs / f"serve-{port}.log"
    env = {**os.environ, "KB_RATE_LIMIT": ""}
    args = [*kb_command(), "serve", "--no-build", "--index", str(index), "--port", str(port)]
    with logged_server(args, env, log_path, port) as served:
        yield served


def gunicorn_4_threads(index: Path, logs: Path):
    return gunicorn(index, logs, KB_THREADS="4")


def concurrently(base: str, rounds: int = 3) -> list[tuple[str, int, dict]]:
    """Every path `rounds` times, 8 at once; (path, status, body) for each."""
    jobs = [path for _ in range(rounds) for path in PATHS]
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda path: (path, *get(base + path)), jobs))


def assert_all_unavailable(base: str, log_path: Path) -> None:
    for path, status, body in concurrently(base):
        assert status == 503, (path, status, body, log_path.read_text(errors="replace"))
        assert body["error"]["code"] == "index_unavailable", body
        if "kill" in path:
            assert body["notices"] and body["notices"][0]["kind"] == "crisis", body


def assert_all_served(base: str) -> None:
    for path, status, body in concurrently(base, rounds=1):
        assert status == 200, (path, status, body)


@pytest.mark.parametrize("server", [gunicorn_4_threads, kb_serve], ids=["gunicorn", "kb-serve"])
@pytest.mark.parametrize("loss", ["rm", "mv"])
def test_losing_the_index_while_serving_answers_503_and_recovers(tmp_path, server, loss):
    index = tmp_path / "index"
    build_index_dir = run_kb_build(SHIPPED_CORPUS, index)
    first = built_name(build_index_dir)
    with server(index, tmp_path) as (base, proc, log_path):
        assert_all_served(base)  # every worker thread has opened its searcher

        moved = tmp_path / "index.moved"
        if loss == "rm":
            shutil.rmtree(index)
        else:
            index.rename(moved)
        assert_all_unavailable(base, log_path)

        if loss == "rm":
            new = built_name(run_kb_build(SHIPPED_CORPUS, index))
            assert new != first
        else:
            moved.rename(index)
            new = first
        assert_all_served(base)
        status, health = get(f"{base}/api/v1/health")
        assert (status, health["build"]) == (200, new)

        assert proc.poll() is None
        log = log_path.read_text(errors="replace")
        assert "Traceback" not in log, log


def test_a_build_whose_files_vanish_is_refused_in_process(tmp_path, shipped_articles):
    """The library check itself: the served KnowledgeBase notices a missing segment file."""
    from kb.index import IndexNotFound
    from kb.search import LiveKnowledgeBase

    index = tmp_path / "index"
    build_index(shipped_articles, index)
    live = LiveKnowledgeBase(index)
    kb = live.get()
    assert kb.search("therapy").total >= 1
    victim = next(p for p in kb.build_dir.iterdir() if p.suffix == ".seg")
    victim.unlink()
    with pytest.raises(IndexNotFound, match="lost"):
        live.get()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))
