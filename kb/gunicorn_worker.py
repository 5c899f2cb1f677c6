"""gunicorn's worker for kb: requests gunicorn itself refuses get kb's one error shape.

gunicorn answers a request it cannot parse (a bad request line, a URL or header over its
limits) before the app runs, with a small HTML page that quotes part of the request. This
worker (`worker_class` in gunicorn.conf.py) is gunicorn's gthread worker with that page
replaced by kb's Error JSON, ``{"error": {"status", "code", "message", "details"}}``, whose
message names the reason only, never the request's text.
"""

from __future__ import annotations

import json

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

# The same codes as kb.api.errors.CODES for the statuses gunicorn answers by itself.
CODES = {
    400: "bad_request",
    403: "forbidden",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
}


def error_response(status: int, reason: str) -> bytes:
    """The whole HTTP response gunicorn sends for a request it refused."""
    body = json.dumps(
        {
            "error": {
                "status": status,
                "code": CODES.get(status, "error"),
                "message": f"{reason.lower()}: the server could not read the request",
                "details": {},
            }
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "Cache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def write_json_error(sock, status_int, reason, mesg) -> None:
    """Drop-in for gunicorn.util.write_error; `mesg` (it quotes the request) is unused."""
    util.write_nonblock(sock, error_response(int(status_int), str(reason)))


class KbThreadWorker(ThreadWorker):
    """gunicorn's gthread worker whose own error pages are kb's Error JSON."""

    def init_process(self):
        util.write_error = write_json_error
        super().init_process()
