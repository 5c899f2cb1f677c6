"""What an open-internet deployment needs around the API: privacy headers, conditional GET,
size limits, per-client rate limits, and logs that never hold a query unless asked to.
"""

from __future__ import annotations

import hashlib
import logging
import time
from urllib.parse import unquote_to_bytes

from flask import Flask, current_app, g, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, RequestURITooLarge

from kb.api.state import get_kb

log = logging.getLogger("kb.requests")

# Search and suggest URLs hold what someone typed about their health: no browser or proxy
# should keep them. Other reads are public documents and may be cached briefly.
PRIVATE_ENDPOINTS = {"api.Search", "api.Suggest"}
PRIVATE_CACHE = "no-store"
PUBLIC_CACHE = "public, max-age=300"
# Pages that run a search per request share the API's per-client rate limit.
RATE_LIMITED_PAGES = {"pages.search"}


def init_app(app: Flask) -> None:
    app.config.setdefault("MAX_CONTENT_LENGTH", app.config["KB_MAX_BODY_BYTES"])
    # Registered first, so it runs last (Flask runs after_request hooks in reverse order),
    # after the rate limiter and CORS have added their headers.
    app.after_request(_final_headers)
    _init_rate_limits(app)
    app.before_request(_refuse_oversized_requests)
    app.before_request(_answer_not_modified)
    app.after_request(_security_headers)
    app.after_request(_cache_headers)
    if app.config["KB_LOG_QUERIES"]:
        _enable_query_log()
        app.before_request(_start_timer)
        app.after_request(_log_query)


def _refuse_oversized_requests():
    """414/413 for oversized requests, 400 for a query string that is not UTF-8.

    Werkzeug would quietly turn undecodable bytes into U+FFFD and search for that; a
    client sending them has a bug worth hearing about.
    """
    try:
        unquote_to_bytes(request.query_string.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the query string is not valid UTF-8 once percent-decoded") from None
    limit = current_app.config["KB_MAX_URL_LENGTH"]
    if len(request.full_path) > limit:
        raise RequestURITooLarge(f"the URL is longer than {limit} characters")
    body_limit = current_app.config["KB_MAX_BODY_BYTES"]
    if (request.content_length or 0) > body_limit:
        raise RequestEntityTooLarge(f"the request body is larger than {body_limit} bytes")


def _is_conditional_read() -> bool:
    return (
        request.method in ("GET", "HEAD")
        and request.endpoint is not None
        and request.endpoint.startswith("api.")
        and request.endpoint != "api.Health"
    )


def _etag() -> str:
    """Same index build + same URL = same body, so the build version makes a strong ETag."""
    key = f"{get_kb().version}\0{request.host}\0{request.full_path}"  # urls in bodies are absolute
    digest = hashlib.sha256(key.encode()).hexdigest()
    return digest[:32]


# A compressed body is other bytes, so its ETag names the coding too ("<tag>-gzip").
CODINGS = ("", "-gzip", "-br")


def _answer_not_modified():
    if _is_conditional_read() and request.if_none_match:
        g.etag = _etag()
        for coding in CODINGS:
            if request.if_none_match.contains(g.etag + coding):
                response = current_app.response_class(status=304)
                response.set_etag(g.etag + coding)
                return response
    return None


def _start_timer():
    g.request_started = time.perf_counter()


def _security_headers(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Cross-Origin-Resource-Policy", "cross-origin")
    return response


def _cache_headers(response):
    if not _is_conditional_read() or response.status_code not in (200, 304):
        if request.endpoint and request.endpoint.startswith("api."):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
    private = request.endpoint in PRIVATE_ENDPOINTS
    response.headers["Cache-Control"] = PRIVATE_CACHE if private else PUBLIC_CACHE
    if response.status_code == 200:
        coding = response.headers.get("Content-Encoding")
        response.set_etag((g.get("etag") or _etag()) + (f"-{coding}" if coding else ""))
    return response


def _enable_query_log() -> None:
    """The operator asked for it: make sure the records reach stderr at INFO."""
    log.setLevel(logging.INFO)
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        log.addHandler(handler)
        log.propagate = False


def _log_query(response):
    """The opt-in query log (KB_LOG_QUERIES): full URL, status and time of each request.

    Off by default. Access logs (kb.serving, gunicorn.conf.py) never include query strings.
    """
    elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    log.info(
        "%s %s %s %.1fms",
        request.method,
        request.full_path.rstrip("?"),
        response.status_code,
        elapsed,
    )
    return response


def _final_headers(response):
    """Retry-After only where retrying is the answer (429, 503), and never 0: the rate
    limiter adds it to every response. API answers vary by Origin (CORS), so shared caches
    must key on it."""
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    elif response.headers.get("Retry-After", "").strip() in ("0", "-0"):
        # The limiter rounds a sub-second wait down to "0", which tells a client to ask
        # again at once, and be refused again: the window ends within the next second.
        response.headers["Retry-After"] = "1"
    if request.path.startswith("/api/"):
        response.vary.add("Origin")
    if request.method == "OPTIONS" and response.status_code == 200 and not response.data:
        # Flask's automatic OPTIONS answer is an empty "text/html" 200. Without an Origin
        # (no CORS preflight) say "no content" with Allow; a preflight keeps its 200 and
        # Access-Control-* headers. Neither claims to be HTML.
        response.headers.pop("Content-Type", None)
        if "Origin" not in request.headers:
            response.status_code = 204
            response.headers.pop("Content-Length", None)
    return response


def _client_key() -> str:
    return request.remote_addr or "unknown"


def _init_rate_limits(app: Flask) -> None:
    """Per-client limits (flask-limiter), in memory by default; off when the setting is empty."""
    from flask_limiter import Limiter

    limits = app.config["KB_RATE_LIMIT"]
    limiter = Limiter(
        _client_key,
        app=app,
        default_limits=[limits] if limits else [],
        storage_uri=app.config["KB_RATE_LIMIT_STORAGE"],
        headers_enabled=True,
        enabled=bool(limits),
        default_limits_exempt_when=lambda: (
            not (
                (request.endpoint or "").startswith("api.")
                or request.endpoint in RATE_LIMITED_PAGES
            )
        ),
    )
    app.extensions["kb-limiter"] = limiter
