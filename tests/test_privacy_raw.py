"""Raw-socket privacy: malformed and well-formed requests carrying a marker, sent to every
way kb runs (gunicorn with gunicorn.conf.py, `kb serve`, `flask --app wsgi run`); the
marker must appear in no byte any of them logs. The servers' own refusals (invalid request
lines, bad versions, NUL bytes, tabs, spaces in the URL, HTTP/0.9 lines, over-long lines)
are what kb.logprivacy scrubs, so they are the point of this test.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import pytest

from tests.test_privacy_logs import ROOT, dev_server, free_port, gunicorn, server, written

pytestmark = pytest.mark.slow

MARK = "qzmarkerzq"
M = MARK.encode()

RAW = [
    b"GET /api/v1/search?q=" + M + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v1/search?q=" + M + b"&limit=3 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v1/search?q=th\xc3\xa9rapie+" + M + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v1/search?q=th\xe9rapie+" + M + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v1/search?q=a\t" + M + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v1/search?q=a\x00" + M + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v1/search?q=a " + M + b" b HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v1/search?q=" + M + b"\r\n\r\n",  # HTTP/0.9 style
    b"GET /api/v1/search?q=" + M + b" HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /api/v1/search?q=" + M + b" FTP/1.1\r\nHost: x\r\n\r\n",
    b"G(ET /api/v1/search?q=" + M + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"get /api/v1/search?q=" + M + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v1/search?q=" + M + b"x" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET http://127.0.0.1/api/v1/search?q=" + M + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v1/search??q=" + M + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v1/nowhere?q=" + M + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /api/v1/search?q=" + M + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    b"GET /api/v1/search?q=a HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: " + M + b"\r\n\r\n",
    b"GET /api/v1/search?q=a HTTP/1.1\r\nHost: x\r\nReferer: http://c/?q=" + M + b"\r\n\r\n",
    b"GET /api/v1/search?q=a HTTP/1.1\r\nHost: " + M + b"\r\n\r\n",
    b"GET /api/v1/search?q=a HTTP/1.1\r\nHost: x\r\nBad Header " + M + b"\r\n\r\n",
    b"GET /api/v1/search?q=a HTTP/1.1\r\nHost: x\r\nX-Long: " + M * 900 + b"\r\n\r\n",
    b"GET /api/v1/suggest?q=" + M + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /?q=" + M + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v1/search?q=" + M + b"#frag HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x00\xa5" + M,  # a TLS hello to a plain HTTP port
]


def send_raw(base: str, payload: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except OSError:
            pass
    return b"".join(chunks)


def flask_run(index_dir: Path, logs: Path):
    port = free_port()
    args = [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)]
    env = {
        "KB_INDEX_DIR": str(index_dir),
        "KB_RATE_LIMIT": "",
        "KB_LOG_QUERIES": "false",
        "KB_PROXY_COUNT": "1",
        "PYTHONUNBUFFERED": "1",
    }
    return server(args, env, logs, port)


def gunicorn_proxied(index_dir, logs):
    return gunicorn(index_dir, logs, KB_PROXY_COUNT="1")


def dev_server_proxied(index_dir, logs):
    return dev_server(index_dir, logs, KB_PROXY_COUNT="1")


@pytest.mark.parametrize(
    "start",
    [gunicorn_proxied, dev_server_proxied, flask_run],
    ids=["gunicorn", "kb-serve", "flask-run"],
)
def test_no_log_stream_holds_the_marker(index_dir, tmp_path, start):
    with start(index_dir, tmp_path) as base:
        answered = [send_raw(base, payload) for payload in RAW]
        time.sleep(0.5)  # let the last log lines reach the files
    assert sum(1 for a in answered if a.startswith(b"HTTP/1.")) >= 20, answered
    text = written(tmp_path)
    assert text.strip(), "the server logged nothing at all: the test would prove nothing"
    lines = [line for line in text.splitlines() if MARK in line.lower()]
    assert not lines, "marker in the logs:\n" + "\n".join(line[:300] for line in lines[:10])


def test_the_marker_is_found_when_logging_is_unfiltered(index_dir, tmp_path, monkeypatch):
    """The control: with the filter bypassed, werkzeug's request lines do hold the marker."""
    env = {"KB_UNSCRUBBED_FOR_TEST": "1"}
    port = free_port()
    args = [
        sys.executable,
        "-c",
        "import kb.logprivacy as p; p.install = lambda *a, **k: None; "
        "from flask.cli import main; main()",
        "--app",
        "wsgi",
        "run",
        "--port",
        str(port),
    ]
    with server(
        args, {"KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": "", **env}, tmp_path, port
    ) as base:
        for payload in RAW[:3]:
            send_raw(base, payload)
        time.sleep(0.5)
    assert MARK in written(tmp_path)


assert os.path.isdir(ROOT)


def test_gunicorn_refusals_are_json_in_the_error_shape(index_dir, tmp_path):
    import json

    with gunicorn(index_dir, tmp_path) as base:
        answers = {
            "line": send_raw(base, b"GET /api/v1/search?q=a " + M + b" b HTTP/1.1\r\n\r\n"),
            "long": send_raw(base, b"GET /?q=" + M * 1000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
            "header": send_raw(base, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"),
        }
    for name, raw in answers.items():
        head, _, body = raw.partition(b"\r\n\r\n")
        assert b"Content-Type: application/json" in head, (name, raw[:300])
        error = json.loads(body)["error"]
        assert error["status"] in (400, 414, 431) and error["code"], (name, error)
        assert MARK not in body.decode(), (name, body)
    assert json.loads(answers["long"].partition(b"\r\n\r\n")[2])["error"]["code"] == "uri_too_long"


def test_gunicorn_refusals_keep_the_crisis_notice(index_dir, tmp_path):
    """A crisis query whose request line gunicorn refuses (a raw non-ASCII byte) still gets
    the notice; an ordinary refused query does not."""
    import json

    with gunicorn(index_dir, tmp_path) as base:
        crisis = send_raw(base, b"GET /api/v1/search?q=I+want+to+kill+myself\xff HTTP/1.1\r\n\r\n")
        plain = send_raw(base, b"GET /api/v1/search?q=therapy\xff HTTP/1.1\r\n\r\n")
    body = json.loads(crisis.partition(b"\r\n\r\n")[2])
    assert body["error"]["status"] == 400
    assert body["notices"][0]["kind"] == "crisis"
    assert "notices" not in json.loads(plain.partition(b"\r\n\r\n")[2])
