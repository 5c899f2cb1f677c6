"""kb serve's request handler: malformed request lines get an answer and leave no query in logs."""

from __future__ import annotations

import logging
import socket
import threading

import pytest
from werkzeug.serving import make_server

from kb.serving import PrivateRequestHandler

MARKER = "zebraquerymarker"


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


@pytest.fixture
def server():
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=PrivateRequestHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    thread.join(5)


def raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "request_line",
    [
        f"GET /api/v1/search?q={MARKER} leak HTTP/1.1\r\n\r\n",
        f"GET /api/v1/search?q={MARKER}\tx HTTP/1.1\r\n\r\n",
        f"GET /api/v1/search?q={MARKER} HTTP/9.9\r\n\r\n",
        f"BREW /api/v1/search?q={MARKER} HTTP/1.1 extra\r\n\r\n",
        f"GET /api/v1/search?q={MARKER}\r\n\r\n",
        f"GET /api/v1/search?q={MARKER} HTTP/1.1\r\n\r\n",
    ],
)
def test_request_lines_get_an_answer_and_never_reach_the_log(server, caplog, request_line):
    caplog.set_level(logging.DEBUG)
    answer = raw(server, request_line.encode())
    assert answer  # a response, not a dropped connection
    assert MARKER not in caplog.text
    assert caplog.records  # something was logged (the status), just not the query
