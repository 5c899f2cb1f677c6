"""One JSON error shape for every failure: routing, validation, lookups, limits and crashes.

kb's library raises kb.errors.NotFound (a section, article or topic that does not exist)
and kb.errors.InvalidQuery; one handler each turns them into this shape, so views never
catch them. The library's messages say what was not found; the hint saying where to look
is the API's, from API_HINTS (kb.cli strips exactly these hints and gives its own).
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from kb.errors import InvalidQuery, NotFound
from kb.metrics import record_crisis_notice

log = logging.getLogger("kb.api")

CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "invalid_parameter",
    429: "rate_limited",
    431: "headers_too_large",
    500: "internal_error",
    503: "unavailable",
}

# Where to find valid ids, by error code: appended to the library's message as "; <hint>".
API_HINTS = {
    "section_not_found": "find ids with /api/v1/search",
    "article_not_found": "list them with /api/v1/articles",
    "topic_not_found": "list them with /api/v1/topics",
}


def crisis_notices_for_request() -> list[dict]:
    """Crisis notices for the raw `q` of the request, whatever else went wrong with it.

    The check runs on the text as sent, before validation, rate limiting or the index: a
    person in crisis whose message is too long, whose filter is wrong, who was rate limited
    or who reached a server without an index still sees where to get help. It never raises:
    an error response must not fail.
    """
    try:
        raw = request.args.get("q")
        settings = current_app.extensions.get("kb-crisis")
        if not raw or settings is None:
            return []
        from kb.api.schemas import NoticeSchema
        from kb.safety import crisis_notices

        return NoticeSchema(many=True).dump(crisis_notices(raw, settings))
    except Exception:  # noqa: BLE001 - never turn an error response into a crash
        log.warning("crisis check failed on an error path", exc_info=True)
        return []


def with_hint(message: str, code: str) -> str:
    """The message, then the API's hint for `code` when there is one."""
    hint = API_HINTS.get(code)
    return f"{message}; {hint}" if hint else message


def error_body(
    status: int, message: str, code: str | None = None, details: dict | None = None
) -> dict:
    """The error contract: ``{"error": {"status", "code", "message", "details"}}``.

    `code` is stable and machine-readable; `message` is for people and may change;
    `details` is ``{}`` except for invalid parameters, where it holds per-field messages.
    """
    return {
        "error": {
            "status": status,
            "code": code or CODES.get(status, "error"),
            "message": message,
            "details": details or {},
        }
    }


def error_response(
    status: int,
    message: str,
    code: str | None = None,
    details: dict | None = None,
    headers: dict | None = None,
):
    body = error_body(status, message, code, details)
    notices = crisis_notices_for_request()
    if notices:
        body["notices"] = notices
        record_crisis_notice()
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_http_exception(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    details = data.get("messages") or data.get("errors") or {}
    message = data.get("message") or exc.description or exc.name
    if exc.code == 422 and details:
        message = "invalid parameter: " + _summarise(details)
    headers = dict(data.get("headers") or {})
    if exc.code == 405 and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    if exc.code == 429:
        message = f"too many requests (limit: {exc.description}); retry after the Retry-After delay"
    response = error_response(exc.code or 500, message, data.get("code"), details, headers)
    for name, value in exc.get_headers() if exc.response is None else []:
        if name.lower() not in ("content-type", "content-length"):
            response.headers.setdefault(name, value)
    return response


def _summarise(details: dict) -> str:
    parts = []
    for location, fields in details.items():
        if isinstance(fields, dict):
            for name, messages in fields.items():
                text = messages[0] if isinstance(messages, list) and messages else messages
                parts.append(f"{name}: {text}")
        else:
            parts.append(f"{location}: {fields}")
    return "; ".join(parts) or "invalid request"


def handle_not_found(exc: NotFound):
    """404 for any unknown section, article or topic, e.g. code `section_not_found`."""
    code = f"{exc.kind}_not_found"
    return error_response(404, with_hint(str(exc), code), code)


def handle_invalid_query(exc: InvalidQuery):
    """422 `invalid_parameter`; details shaped like a failed query-string validation."""
    details = {"query": {exc.field: [str(exc)]}} if exc.field else {}
    message = "invalid parameter: " + _summarise(details) if details else str(exc)
    return error_response(422, message, "invalid_parameter", details)


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    log.exception("unhandled error")  # the traceback names no query text
    return handle_http_exception(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(NotFound, handle_not_found)
    app.register_error_handler(InvalidQuery, handle_invalid_query)
    app.register_error_handler(Exception, handle_unexpected)
