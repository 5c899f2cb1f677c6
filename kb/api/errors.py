"""One JSON error shape for every failure: routing, validation, lookups, limits and crashes."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

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
    response = jsonify(error_body(status, message, code, details))
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


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    log.exception("unhandled error")  # the traceback names no query text
    return handle_http_exception(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
