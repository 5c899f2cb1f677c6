"""What every operation of the OpenAPI document says beyond its view: an operationId, and
the answers any route can give (429 rate limited, 503 no index) with their headers.

flask-smorest documents each view from its decorators; the rate limiter, the index check
and the cache headers apply to every route, so they are added here, once, after the
blueprint is registered (`complete_operations`).
"""

from __future__ import annotations

import re

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
RETRY_AFTER = {
    "description": "Seconds to wait before asking again (at least 1).",
    "schema": {"type": "integer", "minimum": 1},
}
COMMON_RESPONSES = {
    "429": {
        "description": "Too many requests from this client (the server's KB_RATE_LIMIT): "
        "code `rate_limited`. Ask again after `Retry-After` seconds.",
        "headers": {"Retry-After": RETRY_AFTER},
        "content": ERROR,
    },
    "503": {
        "description": "No usable index build (code `index_unavailable`): none built yet, "
        "or its files went away. Ask again after `Retry-After` seconds, or run `kb build`.",
        "headers": {"Retry-After": RETRY_AFTER},
        "content": ERROR,
    },
}
OK_HEADERS = {
    "ETag": {
        "description": "Names the index build and the URL (and the coding when compressed); "
        "send it back in If-None-Match to get a 304.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "How long shared and private caches may keep the answer.",
        "schema": {"type": "string"},
    },
}


def operation_id(method: str, path: str) -> str:
    """A stable operationId from the route: GET /api/v1/sections/{section_id}/related ->
    getSectionsRelated; a path ending in a parameter names one thing (getSection)."""
    parts = [p for p in path.split("/") if p and p not in ("api", "v1")]
    words = [p for p in parts if not p.startswith("{")]
    if parts and parts[-1].startswith("{") and words:
        words[-1] = re.sub(r"s$", "", words[-1])  # /articles/{slug}: one article
    name = "".join(w[:1].upper() + w[1:] for w in re.split(r"[-_.]", "-".join(words)) if w)
    return method.lower() + (name or "Root")


def complete_operations(spec) -> None:
    """Add operationIds, 429 and 503, and the 200's cache headers to every operation."""
    for path, operations in spec._paths.items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            operation.setdefault("operationId", operation_id(method, path))
            responses = operation.setdefault("responses", {})
            for status, response in COMMON_RESPONSES.items():
                responses.setdefault(status, response)
            ok = responses.get("200")
            if isinstance(ok, dict) and "$ref" not in ok:
                ok.setdefault("headers", {}).update(OK_HEADERS)
