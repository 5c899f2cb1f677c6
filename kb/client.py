"""A small Python client for kb's JSON API (/api/v1), built on `requests` and nothing else.

It imports neither Flask nor Whoosh nor kb's server code, so it installs and starts light;
the `kb` command's in-process lookups (no server) live in kb.cli_local.

Results are the API's own JSON, decoded to plain dicts and lists, with exactly the keys the
API documents (see /api/v1/openapi.json). There are no client-side models on purpose: a dict
cannot drift from the server, and the `kb` command prints these dicts unchanged.

Errors become exceptions that carry the API's error body (``{"error": {"status", "code",
"message", "details"}}``)::

    KBError                   status, code, message, details
    ├── NotFound              404: unknown section, article, topic or path
    ├── InvalidRequest        400, 422 and every other 4xx: the request itself is wrong
    ├── RateLimited           429 after every retry (`retry_after`: what the server asked)
    └── ServerError           5xx
        └── Unavailable       503, or no connection / timeout after every retry

GETs are retried on connection errors, timeouts, 429 (rate limited) and 503: after the
server's Retry-After (capped at MAX_RETRY_AFTER seconds), else with exponential backoff
(``backoff * 2 ** attempt`` seconds). Any other 4xx is never retried because asking again
cannot change the answer. Every method takes a `timeout` (seconds per request) that
overrides the client's. (urllib3's `Retry`, mounted on the session, was the alternative
considered: it cannot cap a long Retry-After, and after the last retry it raises its own
error instead of the response, so the API's error body would be lost.)

Example::

    from kb.client import KBClient
    kb = KBClient("http://127.0.0.1:5000")
    for hit in kb.search("mentalization", limit=3)["hits"]:
        print(hit["id"], hit["title"])
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import quote

import requests

from kb import __version__

API_PREFIX = "/api/v1"
MAX_RETRY_AFTER = 10.0  # seconds: a server asking for longer is treated as asking for this


class KBError(Exception):
    """Any failed API call. `status` is None when no HTTP response arrived at all.

    `code` is the API's stable machine-readable code (e.g. ``section_not_found``); for
    transport failures it is ``connection_error`` or ``timeout``. `message` is for people.
    """

    def __init__(self, status: int | None, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r})"
        )


class NotFound(KBError):
    """404: the section, article, topic or path does not exist."""


class InvalidRequest(KBError):
    """400, 422 or another 4xx: the request is wrong; `details` holds per-field messages."""


class RateLimited(KBError):
    """429 after every retry: the server's rate limit; `retry_after` is its Retry-After."""

    retry_after: float | None = None


class ServerError(KBError):
    """5xx: the server failed; asking again later may work."""


class Unavailable(ServerError):
    """503 (e.g. no index yet), or the server could not be reached after every retry."""


def error_class(status: int) -> type[KBError]:
    """The exception class for an HTTP error status (see the module docstring's tree)."""
    if status == 404:
        return NotFound
    if status == 429:
        return RateLimited
    if status == 503:
        return Unavailable
    if status >= 500:
        return ServerError
    return InvalidRequest


def error_from_response(response: requests.Response) -> KBError:
    """Build the exception for an error response, from the API's error body if it has one.

    A body that is not kb's error shape (a proxy's HTML page, say) still gives a usable
    error: the code falls back to ``http_<status>`` and the message to the reason phrase.
    """
    status = response.status_code
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
        details = error.get("details") or {}
    except (ValueError, KeyError, TypeError):
        code, message, details = f"http_{status}", f"HTTP {status} {response.reason or ''}", {}
    error = error_class(status)(status, code, message.strip(), details)
    if isinstance(error, RateLimited):
        error.retry_after = retry_after_seconds(response)
    return error


def retry_after_seconds(response: requests.Response) -> float | None:
    """Retry-After in seconds, capped at MAX_RETRY_AFTER; None when absent or an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return None


class KBClient:
    """Talks to one kb server. Every method returns the API's JSON as dicts (never models).

    `base_url` is the server root, e.g. ``http://127.0.0.1:5000`` (a trailing ``/api/v1`` is
    accepted too). `retries` is how many times a GET is repeated after a connection error,
    timeout, 429 or 503; `backoff` is the first wait in seconds, doubled each time, used
    when the server sends no Retry-After. Pass your own
    `session` to share connections, add headers or mount adapters.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 5.0,
        retries: int = 5,
        backoff: float = 0.2,
        session: requests.Session | None = None,
    ):
        base = base_url.rstrip("/")
        if base.endswith(API_PREFIX):
            base = base[: -len(API_PREFIX)]
        self.base_url = base
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.session = session or requests.Session()
        self.session.headers.setdefault("Accept", "application/json")
        self.session.headers["User-Agent"] = f"kb-client/{__version__}"

    # --- the API, one method per route -----------------------------------------------------

    def search(
        self,
        q: str,
        *,
        limit: int = 10,
        offset: int = 0,
        topic: str | None = None,
        article: str | None = None,
        syntax: str | None = None,
        timeout: float | None = None,
    ) -> dict:
        """One page of search results: ``{"query", "total", "limit", "offset", "hits",
        "facets", "did_you_mean", "corrected", "notices"}``.

        `topic` and `article` filter by topic id and article slug; `syntax="advanced"` turns
        on Whoosh query syntax. A bad parameter (e.g. limit over 50) raises InvalidRequest.
        """
        params = {
            "q": q,
            "limit": limit,
            "offset": offset,
            "topic": topic,
            "article": article,
            "syntax": syntax,
        }
        return self._get("/search", params, timeout)

    def iter_hits(
        self,
        q: str,
        *,
        page_size: int = 50,
        topic: str | None = None,
        article: str | None = None,
        timeout: float | None = None,
    ) -> Iterator[dict]:
        """Every hit of a search, page by page (each hit is a dict as in ``search()["hits"]``).

        Pages are fetched lazily, so stopping early costs nothing. A page that meets a rate
        limit is retried (see the module docstring) and the iteration goes on where it was;
        a hit seen on an earlier page is skipped, so an index rebuilt mid-way cannot make the
        caller see it twice.
        """
        seen: set[str] = set()
        offset = 0
        while True:
            page = self.search(
                q, limit=page_size, offset=offset, topic=topic, article=article, timeout=timeout
            )
            for hit in page["hits"]:
                if hit["id"] not in seen:
                    seen.add(hit["id"])
                    yield hit
            offset += len(page["hits"])
            if not page["hits"] or offset >= page["total"]:
                return

    def section(self, id: str, *, timeout: float | None = None) -> dict:
        """One section by id (``<article-slug>:<anchor>``): its Markdown `text`, `html`,
        breadcrumb, topics, `previous`/`next` ids and `related` ids. Unknown: NotFound."""
        return self._get(f"/sections/{quote(id, safe='')}", timeout=timeout)

    def related(self, id: str, limit: int = 5, *, timeout: float | None = None) -> dict:
        """Sections most like section `id`: ``{"section": id, "related": [refs]}``, where a
        ref is ``{"id", "article", "title", "anchor", "level"}``. Unknown id: NotFound."""
        return self._get(
            f"/sections/{quote(id, safe='')}/related", {"limit": limit}, timeout=timeout
        )

    def article(self, slug: str, *, timeout: float | None = None) -> dict:
        """One article with its table of contents (`toc`, a list of section refs)."""
        return self._get(f"/articles/{quote(slug, safe='')}", timeout=timeout)

    def articles(self, *, timeout: float | None = None) -> dict:
        """Every article, in slug order: ``{"articles": [summaries]}`` (no toc)."""
        return self._get("/articles", timeout=timeout)

    def topics(self, *, timeout: float | None = None) -> dict:
        """The topic taxonomy with section counts: ``{"topics": [topics]}``."""
        return self._get("/topics", timeout=timeout)

    def topic(self, id: str, *, timeout: float | None = None) -> dict:
        """One topic and the sections tagged with it (`sections`, a list of section refs)."""
        return self._get(f"/topics/{quote(id, safe='')}", timeout=timeout)

    def suggest(self, q: str, limit: int = 8, *, timeout: float | None = None) -> dict:
        """As-you-type completions: ``{"query", "suggestions": [{"text", "kind",
        "section_id"}]}``; `q` needs at least 2 characters (else InvalidRequest)."""
        return self._get("/suggest", {"q": q, "limit": limit}, timeout=timeout)

    def health(self, *, timeout: float | None = None) -> dict:
        """Which index build is served and its size; raises Unavailable when there is none."""
        return self._get("/health", timeout=timeout)

    # --- transport ------------------------------------------------------------------------

    def _get(self, path: str, params: dict | None = None, timeout: float | None = None) -> dict:
        """GET an API path and decode its JSON, retrying what a retry can fix."""
        url = f"{self.base_url}{API_PREFIX}{path}"
        params = {k: v for k, v in (params or {}).items() if v is not None}
        attempt = 0
        while True:
            try:
                response = self.session.get(
                    url, params=params, timeout=self.timeout if timeout is None else timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt >= self.retries:
                    raise _transport_error(exc, self.base_url) from exc
                self._sleep(attempt)
            except requests.RequestException as exc:  # a bad URL: retrying cannot help
                raise KBError(None, "request_error", f"cannot ask {url}: {exc}") from exc
            else:
                if response.status_code not in (429, 503) or attempt >= self.retries:
                    return _decode(response)
                self._sleep(attempt, retry_after_seconds(response))
            attempt += 1

    def _sleep(self, attempt: int, retry_after: float | None = None) -> None:
        """Wait before retry number `attempt` + 1: the server's Retry-After, else backoff."""
        delay = retry_after if retry_after is not None else self.backoff * 2**attempt
        if delay > 0:
            time.sleep(delay)


def _decode(response: requests.Response) -> dict:
    """The JSON body of a 2xx response; an error response becomes its exception."""
    if not response.ok:
        raise error_from_response(response)
    try:
        return response.json()
    except ValueError:
        raise KBError(
            response.status_code,
            "invalid_response",
            f"expected JSON from {response.url}, got "
            f"{response.headers.get('Content-Type', 'no content type')}",
        ) from None


def _transport_error(exc: Exception, base_url: str) -> Unavailable:
    """Unavailable for a request that got no response: says which server and why."""
    if isinstance(exc, requests.Timeout):
        return Unavailable(None, "timeout", f"kb at {base_url} did not answer in time")
    return Unavailable(None, "connection_error", f"cannot connect to kb at {base_url}")
