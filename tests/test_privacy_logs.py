"""Query text is health data: no log kb writes may hold it unless KB_LOG_QUERIES asks for it.

Both ways of running kb are checked as they really run: gunicorn with the repo's
gunicorn.conf.py (access log on stdout, as shipped, and to a file via KB_ACCESS_LOG), and
the development server (`kb serve --no-build`, whose handler is
kb.serving.PrivateRequestHandler). Each gets searches, suggestions, a 404, 422s, a 414, a 405
and a page view carrying a distinctive query; then every byte the process wrote (stdout,
stderr, access log file) is searched for the query's words. The same run with
KB_LOG_QUERIES=true must show the query, which proves the switch (and this test) works.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.helpers import stop_process

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 90

QUERY = "zebraquery selfharm medicaton"
WORDS = ("zebraquery", "selfharm", "medicaton")

# (method, path, expected status): every kind of answer, each carrying the query.
REQUESTS = [
    ("GET", "/api/v1/search?" + urlencode({"q": QUERY}), 200),
    ("GET", "/api/v1/search?" + urlencode({"q": QUERY, "limit": 3, "offset": 1}), 200),
    ("GET", "/api/v1/suggest?" + urlencode({"q": "zebraquery"}), 200),
    ("GET", "/api/v1/suggest?" + urlencode({"q": "medicaton selfharm"}), 200),
    ("GET", "/api/v1/no-such-endpoint?" + urlencode({"q": QUERY}), 404),
    ("GET", "/api/v1/sections/no-such-section?" + urlencode({"q": QUERY}), 404),
    ("GET", "/api/v1/search?" + urlencode({"q": QUERY, "limit": "zebraquery"}), 422),
    ("GET", "/api/v1/search?" + urlencode({"q": QUERY, "topic": "zebraquery"}), 422),
    # Longer than KB_MAX_URL_LENGTH (set to 2048 below), shorter than gunicorn's line limit.
    ("GET", "/api/v1/search?" + urlencode({"q": (QUERY + " ") * 90}), 414),
    ("POST", "/api/v1/search?" + urlencode({"q": QUERY}), 405),
    ("GET", "/?" + urlencode({"q": QUERY}), 200),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(base: str, method: str, path: str) -> int:
    req = urllib.request.Request(
        base + path,
        method=method,
        data=b"" if method == "POST" else None,
        headers={
            "Referer": "https://clinic.example/help?" + urlencode({"q": QUERY}),
            "User-Agent": "privacy-test",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code


def run_requests(base: str) -> None:
    for method, path, expected in REQUESTS:
        assert request(base, method, path) == expected, (method, path)


@contextmanager
def server(args: list[str], env: dict[str, str], logs: Path, port: int):
    """Run a server process with stdout and stderr in files; stop it (TERM) on exit."""
    out_path, err_path = logs / "stdout.log", logs / "stderr.log"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while True:
                assert proc.poll() is None, err_path.read_text() + out_path.read_text()
                try:
                    request(base, "GET", "/api/v1/health")
                    break
                except OSError:
                    assert time.monotonic() < deadline, err_path.read_text()
                    time.sleep(0.1)
            yield base
        finally:
            stop_process(proc)


def gunicorn(index_dir: Path, logs: Path, **env: str):
    port = free_port()
    environment = {
        "KB_BIND": f"127.0.0.1:{port}",
        "KB_INDEX_DIR": str(index_dir),
        "KB_RATE_LIMIT": "",
        "KB_WORKERS": "2",
        "KB_THREADS": "2",
        "KB_LOG_QUERIES": "false",
        "KB_MAX_URL_LENGTH": "2048",
        **env,
    }
    args = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"]
    return server(args, environment, logs, port)


def dev_server(index_dir: Path, logs: Path, **env: str):
    port = free_port()
    kb = Path(sys.executable).with_name("kb")
    command = (
        [str(kb)] if kb.exists() else [sys.executable, "-c", "from kb.cli import main; main()"]
    )
    environment = {
        "KB_INDEX_DIR": str(index_dir),
        "KB_RATE_LIMIT": "",
        "KB_LOG_QUERIES": "false",
        "KB_MAX_URL_LENGTH": "2048",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    return server(
        [*command, "serve", "--no-build", "--host", "127.0.0.1", "--port", str(port)],
        environment,
        logs,
        port,
    )


def written(logs: Path) -> str:
    """Everything the server wrote: stdout, stderr and any log files, as one text."""
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in sorted(logs.glob("*.log"))
    )


def assert_no_query(text: str) -> None:
    lowered = text.lower()
    leaked = [w for w in WORDS if w in lowered]
    lines = [line for line in text.splitlines() if any(w in line.lower() for w in WORDS)]
    assert not leaked, f"query words {leaked} in the logs:\n" + "\n".join(lines[:10])


# -- gunicorn --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("access_log", ["stdout", "file"])
def test_gunicorn_logs_hold_no_query_text(index_dir, tmp_path, access_log):
    env = {"KB_ACCESS_LOG": str(tmp_path / "access.log")} if access_log == "file" else {}
    with gunicorn(index_dir, tmp_path, **env) as base:
        run_requests(base)
    text = written(tmp_path)
    # The access log really ran, with paths and statuses but without the query string.
    for line in (
        '"GET /api/v1/search HTTP/1.1" 200',
        '"GET /api/v1/suggest HTTP/1.1" 200',
        '"GET /api/v1/no-such-endpoint HTTP/1.1" 404',
        '"GET /api/v1/search HTTP/1.1" 422',
        '"GET /api/v1/search HTTP/1.1" 414',
        '"POST /api/v1/search HTTP/1.1" 405',
    ):
        assert line in text, text
    if access_log == "file":
        assert "/api/v1/search" in (tmp_path / "access.log").read_text()
    assert_no_query(text)


@pytest.mark.slow
def test_gunicorn_logs_the_query_when_asked(index_dir, tmp_path):
    with gunicorn(index_dir, tmp_path, KB_LOG_QUERIES="true") as base:
        run_requests(base)
    assert "zebraquery" in written(tmp_path)


# -- development server ----------------------------------------------------------------------


@pytest.mark.slow
def test_dev_server_logs_hold_no_query_text(index_dir, tmp_path):
    with dev_server(index_dir, tmp_path) as base:
        run_requests(base)
    text = written(tmp_path)
    for line in (
        '"GET /api/v1/search" 200',
        '"GET /api/v1/suggest" 200',
        '"GET /api/v1/no-such-endpoint" 404',
        '"GET /api/v1/search" 422',
        '"GET /api/v1/search" 414',
        '"POST /api/v1/search" 405',
    ):
        assert line in text, text
    assert_no_query(text)


@pytest.mark.slow
def test_dev_server_logs_the_query_when_asked(index_dir, tmp_path):
    with dev_server(index_dir, tmp_path, KB_LOG_QUERIES="true") as base:
        run_requests(base)
    assert "zebraquery" in written(tmp_path)
