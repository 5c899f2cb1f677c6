"""gunicorn's worker for kb: requests gunicorn itself refuses get kb's one error shape.

gunicorn answers a request it cannot parse (a bad request line, a URL or header over its
limits) before the app runs, with a small HTML page that quotes part of the request. This
worker (`worker_class` in gunicorn.conf.py) is gunicorn's gthread worker with that page
replaced by kb's Error JSON, ``{"error": {"status", "code", "message", "details"}}``, whose
message names the reason only, never the request's text.

A crisis notice survives these refusals too: when the refused request line carries a `q`
that kb.safety reads as a crisis query (raw bytes such as "q=suicide\\xff" make gunicorn
refuse the line), the error body has the same `notices` as every other error of kb. The
request's text is read in memory for that check only, never written anywhere.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

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


# The crisis settings of the app this worker serves (set when the app is loaded).
_crisis = {"settings": None}
_Q_RE = re.compile(r"[?&]q=([^&\s'\"]*)")


def crisis_notices_in(mesg) -> list[dict]:
    """Crisis notices for the `q` quoted in gunicorn's message about a refused request.

    Never raises: an error response must not fail.
    """
    try:
        match = _Q_RE.search(str(mesg))
        if not match:
            return []
        from kb.api.schemas import NoticeSchema
        from kb.safety import CrisisSettings, crisis_notices

        text = unquote(match.group(1).replace("+", " "), errors="replace")
        notices = crisis_notices(text, _crisis["settings"] or CrisisSettings())
        return NoticeSchema(many=True).dump(notices)
    except Exception:  # noqa: BLE001
        return []


def error_response(status: int, reason: str, mesg="") -> bytes:
    """The whole HTTP response gunicorn sends for a request it refused."""
    payload: dict = {
        "error": {
            "status": status,
            "code": CODES.get(status, "error"),
            "message": f"{reason.lower()}: the server could not read the request",
            "details": {},
        }
    }
    notices = crisis_notices_in(mesg)
    if notices:
        payload["notices"] = notices
    body = json.dumps(payload).encode()
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
    """Drop-in for gunicorn.util.write_error; `mesg` (it quotes the request) is only read
    for a crisis query, never sent back or logged."""
    util.write_nonblock(sock, error_response(int(status_int), str(reason), mesg))


class KbThreadWorker(ThreadWorker):
    """gunicorn's gthread worker whose own error pages are kb's Error JSON."""

    def init_process(self):
        util.write_error = write_json_error
        super().init_process()

    def load_wsgi(self):
        super().load_wsgi()
        extensions = getattr(self.wsgi, "extensions", {})
        _crisis["settings"] = extensions.get("kb-crisis")
