"""No query text in any server log, by construction: one logging filter for every server.

kb's own access logs leave the query string out by their format, but the servers log more
than access lines: gunicorn's "Invalid request from ip=...: Invalid HTTP request line:
'GET /api/v1/search?q=...'" warnings, its "Error handling request /search?q=..." tracebacks,
werkzeug's request lines under `flask run` and its "Bad request syntax ('GET /?q=...')"
errors. `install()` (called by kb.api.create_app, so `kb serve`, `flask run` and gunicorn
alike) puts `ScrubQueries` on those loggers. It rewrites each record's message before any
handler sees it:

- a quoted request line (what the servers quote when they refuse one) is replaced whole
  by its method and path, up to the first ``?``;
- gunicorn's "Invalid request from ip=...: reason: 'detail'" keeps the reason only;
- werkzeug's "code 400, message Bad request syntax ('...')" keeps code and reason, and
  its access lines keep method and path (a line that has none is not logged at all);
- anything else from a ``?`` that follows a path to the end of that URL (the next quote,
  or `` HTTP/``, or the end of the line) becomes ``?[query removed]``.

The opt-in query log (KB_LOG_QUERIES, logger ``kb.queries``) is not touched.
"""

from __future__ import annotations

import logging
import re

LOGGERS = ("werkzeug", "gunicorn.error", "gunicorn.access", "kb.access")
REMOVED = "?[query removed]"

# A URL's query: from a "?" that ends a path (a word with a "/"), to a closing quote, " HTTP/", a
# line end or the end of the message. Spaces and tabs inside (malformed lines) go with it.
_QUERY = re.compile(r"(/[^\s?'\"]*)\?.*?(?=['\"](?:[\s),]|$)|\s+HTTP/|[\r\n]|$)", re.S)
# A whole quoted request line, as servers repr() a line they refuse.
_QUOTED_LINE = re.compile(r"""(['"])[A-Za-z_-]{1,20}[ \t]+[^'"\n]*\1""")
# gunicorn's refusals: "Invalid request from ip=1.2.3.4: Invalid HTTP Version: 'q b'" quote
# a piece of the line (sometimes only the words after a space in the URL): keep the reason.
_INVALID_REQUEST = re.compile(r"^(Invalid request from ip=\S*: [^:'\"\n]*).*$", re.S)
# werkzeug's refusals: "code 400, message Bad request syntax ('...')": keep code and reason.
_WERKZEUG_REFUSAL = re.compile(r"(code \d{3}, message [^(\n]*?)\s*\(.*\)\s*$", re.S)
# werkzeug's access line: "<request line>" <status> <size>, the line coloured with ANSI codes.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ACCESS_LINE = re.compile(r'"(?P<line>[^"\n]*)" (?P<status>\d{3}|-) ')
_REQUEST_START = re.compile(r"^(?P<method>[A-Za-z_-]{1,20})[ \t]+(?P<path>[^?'\"\s]*)")
_VERSION = re.compile(r" HTTP/\d(?:\.\d)?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _safe_request_line(line: str) -> str:
    """Method, path and version of a request line; its query, and any line without a
    method and path, are not kept."""
    start = _REQUEST_START.match(line)
    if not start:
        return "[request line not logged]"
    query = REMOVED if "?" in line else ""
    version = _VERSION.search(line)
    return f"{start['method']} {start['path']}{query}{version[0] if version else ''}"


def scrub(text: str) -> str:
    """`text` with every URL query removed (see the module docstring)."""
    text = _INVALID_REQUEST.sub(r"\1 (request line not logged)", text)
    text = _WERKZEUG_REFUSAL.sub(r"\1 (request line not logged)", _ANSI.sub("", text))
    text = _ACCESS_LINE.sub(lambda m: f'"{_safe_request_line(m["line"])}" {m["status"]} ', text)
    text = _QUOTED_LINE.sub(lambda m: m[1] + _safe_request_line(m[0][1:-1]) + m[1], text)
    text = _QUERY.sub(lambda m: m[1] + REMOVED, text)
    return _CONTROL.sub("?", text)


class ScrubQueries(logging.Filter):
    """Rewrites a record's message with `scrub`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot format: say only that
            message = f"{record.msg!s} (arguments not logged)"
        clean = scrub(message)
        if clean != message or record.args:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks are formatted later from exc_info; pre-format them scrubbed.
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_FILTER = ScrubQueries()


def install(loggers: tuple[str, ...] = LOGGERS) -> None:
    """Put the one ScrubQueries filter on each server logger (idempotent)."""
    for name in loggers:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
