"""kb.client.KBClient: every method over real HTTP, error mapping, paging and retries."""

from __future__ import annotations

import json
import socket

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from kb.api import create_app
from kb.cli_local import in_process_client
from kb.client import (
    MAX_RETRY_AFTER,
    InvalidRequest,
    KBClient,
    KBError,
    NotFound,
    RateLimited,
    ServerError,
    Unavailable,
)
from tests.helpers import serve_app

MBT_QUERY = "mentalization"


@pytest.fixture(scope="module")
def kb_client(live_server):
    return KBClient(live_server, retries=0)


@pytest.fixture(scope="module")
def some_section(kb_client):
    return kb_client.search("therapy", limit=1)["hits"][0]["id"]


# --- every method over HTTP -------------------------------------------------------------


def test_health_reports_the_served_build(kb_client, shipped_articles):
    health = kb_client.health()
    assert health["status"] == "ok"
    assert health["articles"] == len(shipped_articles)


def test_search_returns_the_api_json(kb_client):
    results = kb_client.search(MBT_QUERY, limit=3)
    assert set(results) == {
        "query",
        "total",
        "limit",
        "offset",
        "hits",
        "facets",
        "did_you_mean",
        "corrected",
        "notices",
        "interpretation",
    }
    assert results["query"] == MBT_QUERY and results["limit"] == 3
    assert results["hits"] and len(results["hits"]) <= 3


def test_search_filters_by_article_and_topic(kb_client, some_section):
    article = some_section.split(":")[0]
    hits = kb_client.search("therapy", article=article, limit=50)["hits"]
    assert hits and {h["article"] for h in hits} == {article}
    topic = kb_client.topics()["topics"][0]["id"]
    for hit in kb_client.search("therapy", topic=topic, limit=50)["hits"]:
        assert topic in hit["topics"]


def test_search_offset_pages_through_results(kb_client):
    first = kb_client.search("therapy", limit=1)
    second = kb_client.search("therapy", limit=1, offset=1)
    assert first["total"] > 1 and second["offset"] == 1
    assert first["hits"][0]["id"] != second["hits"][0]["id"]


def test_search_reports_a_misspelling(kb_client):
    assert kb_client.search("medicaton")["did_you_mean"] == "medication"


def test_section_related_and_article(kb_client, some_section):
    section = kb_client.section(some_section)
    assert section["id"] == some_section and section["text"]
    related = kb_client.related(some_section, limit=2)
    assert related["section"] == some_section and len(related["related"]) <= 2
    assert some_section not in {r["id"] for r in related["related"]}
    article = kb_client.article(section["article"])
    assert some_section in {ref["id"] for ref in article["toc"]}


def test_articles_lists_every_article(kb_client, shipped_articles):
    slugs = [a["slug"] for a in kb_client.articles()["articles"]]
    assert slugs == sorted(a.slug for a in shipped_articles)


def test_topics_and_topic(kb_client):
    topics = kb_client.topics()["topics"]
    used = next(t for t in topics if t["section_count"])
    topic = kb_client.topic(used["id"])
    assert topic["id"] == used["id"]
    assert len(topic["sections"]) == used["section_count"]


def test_suggest_completes_a_prefix(kb_client):
    result = kb_client.suggest("ment", limit=3)
    assert result["query"] == "ment" and 0 < len(result["suggestions"]) <= 3


def test_base_url_may_end_with_the_api_prefix(live_server):
    assert KBClient(live_server + "/api/v1/").health()["status"] == "ok"


def test_in_process_client_answers_like_the_server(kb_client, index_dir, some_section):
    local = in_process_client(str(index_dir))

    def same_host(body):  # links are absolute; in-process requests come from localhost
        return json.loads(
            json.dumps(body).replace(kb_client.base_url.rstrip("/"), "http://localhost")
        )

    assert local.search(MBT_QUERY) == same_host(kb_client.search(MBT_QUERY))
    assert local.section(some_section) == same_host(kb_client.section(some_section))
    assert local.articles() == same_host(kb_client.articles())


# --- paging -------------------------------------------------------------------------------


def test_iter_hits_collects_every_hit_once(kb_client):
    total = kb_client.search("therapy")["total"]
    assert total > 2, "the query must need several pages"
    ids = [hit["id"] for hit in kb_client.iter_hits("therapy", page_size=2)]
    assert len(ids) == total
    assert len(set(ids)) == total


def test_iter_hits_follows_the_search_ranking(kb_client):
    paged = [hit["id"] for hit in kb_client.iter_hits("therapy", page_size=3)]
    one_page = [hit["id"] for hit in kb_client.search("therapy", limit=50)["hits"]]
    assert paged == one_page


def test_iter_hits_is_lazy(live_server):
    adapter = CountingAdapter()
    client = KBClient(live_server, retries=0, session=session_with(adapter))
    next(client.iter_hits("therapy", page_size=1))
    assert adapter.calls == 1


def test_iter_hits_of_nothing_is_empty(kb_client):
    assert list(kb_client.iter_hits("zzzqqqxxx")) == []


# --- error mapping ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.section("no-such-article:nothing"), "section_not_found"),
        (lambda c: c.related("no-such-article:nothing"), "section_not_found"),
        (lambda c: c.article("no-such-article"), "article_not_found"),
        (lambda c: c.topic("no-such-topic"), "topic_not_found"),
    ],
)
def test_unknown_things_raise_not_found(kb_client, call, code):
    with pytest.raises(NotFound) as caught:
        call(kb_client)
    assert caught.value.status == 404 and caught.value.code == code
    assert caught.value.message


def test_a_slash_in_an_id_cannot_reach_another_route(kb_client):
    with pytest.raises(NotFound):
        kb_client.section("../articles")


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.search("therapy", limit=99),
        lambda c: c.search("therapy", offset=-1),
        lambda c: c.search("therapy", topic="Not A Slug"),
        lambda c: c.suggest("a"),
        lambda c: c.related("x:y", limit=0),
    ],
)
def test_invalid_parameters_raise_invalid_request(kb_client, call):
    with pytest.raises(InvalidRequest) as caught:
        call(kb_client)
    assert caught.value.status == 422 and caught.value.code == "invalid_parameter"
    assert caught.value.details


def test_every_error_is_a_kb_error():
    for cls in (NotFound, InvalidRequest, ServerError, Unavailable):
        assert issubclass(cls, KBError)
    assert issubclass(Unavailable, ServerError)


def test_a_server_without_index_is_unavailable(tmp_path):
    for url in serve_app(create_app({"KB_INDEX_DIR": str(tmp_path)})):
        with pytest.raises(Unavailable) as caught:
            KBClient(url, retries=1, backoff=0).health()
        assert caught.value.status == 503 and caught.value.code == "index_unavailable"


def test_no_server_is_unavailable_after_retries():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nobody listens there
    with pytest.raises(Unavailable) as caught:
        KBClient(f"http://127.0.0.1:{port}", retries=1, backoff=0).health()
    assert caught.value.status is None and caught.value.code == "connection_error"
    assert str(port) in caught.value.message


def test_a_bad_url_is_a_kb_error_not_a_requests_one():
    with pytest.raises(KBError) as caught:
        KBClient("htp://nowhere").health()
    assert caught.value.code == "request_error" and caught.value.status is None


# --- retries (scripted transport, no real waiting) ------------------------------------------


class ScriptedAdapter(BaseAdapter):
    """Answers each request with the next step: an exception to raise or (status, body, hdrs)."""

    def __init__(self, *steps):
        super().__init__()
        self.steps = list(steps)
        self.calls = 0

    def send(self, request, **kwargs):
        self.calls += 1
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        status, body, headers = step
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **headers})
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


class CountingAdapter(requests.adapters.HTTPAdapter):
    """A real HTTP transport that counts the requests it sends."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def send(self, request, **kwargs):
        self.calls += 1
        return super().send(request, **kwargs)


def session_with(adapter) -> requests.Session:
    session = requests.Session()
    session.mount("http://", adapter)
    return session


def error(status, code):
    return (status, {"error": {"status": status, "code": code, "message": code, "details": {}}}, {})


OK = (200, {"status": "ok"}, {})


@pytest.fixture
def sleeps(monkeypatch):
    """Records every wait of the client instead of sleeping."""
    waited = []
    monkeypatch.setattr("kb.client.time.sleep", waited.append)
    return waited


def scripted_client(*steps, **options):
    adapter = ScriptedAdapter(*steps)
    options.setdefault("backoff", 0)
    return KBClient("http://kb.test", session=session_with(adapter), **options), adapter


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("refused"),
        requests.Timeout("slow"),
        error(503, "unavailable"),
    ],
)
def test_transient_failures_are_retried(failure, sleeps):
    client, adapter = scripted_client(failure, failure, OK, retries=3)
    assert client.health() == {"status": "ok"}
    assert adapter.calls == 3


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_errors_are_never_retried(status, sleeps):
    client, adapter = scripted_client(error(status, "nope"), OK, retries=3)
    with pytest.raises(KBError) as caught:
        client.health()
    assert caught.value.status == status
    assert adapter.calls == 1 and sleeps == []


def test_other_server_errors_are_not_retried(sleeps):
    client, adapter = scripted_client(error(500, "internal_error"), OK, retries=3)
    with pytest.raises(ServerError) as caught:
        client.health()
    assert not isinstance(caught.value, Unavailable)
    assert adapter.calls == 1


def test_backoff_doubles_between_retries(sleeps):
    failure = requests.ConnectionError("refused")
    client, adapter = scripted_client(failure, failure, failure, failure, retries=3, backoff=0.1)
    with pytest.raises(Unavailable) as caught:
        client.health()
    assert caught.value.code == "connection_error"
    assert adapter.calls == 4
    assert sleeps == pytest.approx([0.1, 0.2, 0.4])


def test_timeouts_after_every_retry_are_unavailable(sleeps):
    client, _ = scripted_client(requests.Timeout("slow"), retries=0)
    with pytest.raises(Unavailable) as caught:
        client.health()
    assert caught.value.code == "timeout" and caught.value.status is None


def test_retry_after_is_respected_and_capped(sleeps):
    client, _ = scripted_client(
        (503, {}, {"Retry-After": "2"}),
        (503, {}, {"Retry-After": "3600"}),
        OK,
        retries=3,
        backoff=0.1,
    )
    assert client.health() == {"status": "ok"}
    assert sleeps == [2.0, MAX_RETRY_AFTER]


def test_a_429_is_retried_after_retry_after_and_then_raised_as_rate_limited(sleeps):
    limited = (
        429,
        {"error": {"status": 429, "code": "rate_limited", "message": "slow"}},
        {"Retry-After": "1"},
    )
    client, adapter = scripted_client(limited, OK, retries=3)
    assert client.health() == {"status": "ok"}
    assert sleeps == [1.0]
    client, adapter = scripted_client(limited, limited, retries=1)
    with pytest.raises(RateLimited) as caught:
        client.health()
    assert caught.value.status == 429 and caught.value.retry_after == 1.0
    assert adapter.calls == 2


def test_a_per_call_timeout_overrides_the_clients():
    class Recorder(requests.adapters.HTTPAdapter):
        def send(self, request, **kwargs):
            seen.append(kwargs["timeout"])
            raise requests.ConnectionError("no")

    seen: list = []
    session = requests.Session()
    session.mount("http://", Recorder())
    client = KBClient("http://kb.test", timeout=5.0, retries=0, session=session)
    for call in (lambda: client.health(), lambda: client.health(timeout=0.5)):
        with pytest.raises(Unavailable):
            call()
    assert seen == [5.0, 0.5]


def test_a_loop_against_a_rate_limited_server_finishes(index_dir):
    """40 searches against a real server allowing 10 per second: the client waits out each
    429 as the server's Retry-After says, and iteration loses and repeats nothing."""
    from kb.api import create_app
    from tests.helpers import serve_app

    app = create_app({"KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": "10 per second"})
    server = serve_app(app)
    base = next(server)
    try:
        client = KBClient(base, retries=8)
        for i in range(40):
            assert client.search(f"therapy {i}", limit=1)["limit"] == 1
        ids = [hit["id"] for hit in client.iter_hits("therapy", page_size=1)]
        assert len(ids) == len(set(ids)) == client.search("therapy")["total"]
    finally:
        next(server, None)


def test_a_503_after_the_last_retry_is_unavailable(sleeps):
    client, adapter = scripted_client(
        error(503, "index_unavailable"), error(503, "index_unavailable"), retries=1
    )
    with pytest.raises(Unavailable) as caught:
        client.health()
    assert caught.value.code == "index_unavailable" and adapter.calls == 2


def test_an_error_page_that_is_not_json_still_maps(sleeps):
    client, _ = scripted_client((502, b"<html>Bad gateway</html>", {"Content-Type": "text/html"}))
    with pytest.raises(ServerError) as caught:
        client.health()
    assert caught.value.status == 502 and caught.value.code == "http_502"


def test_a_success_that_is_not_json_is_an_error(sleeps):
    client, _ = scripted_client((200, b"<html>hello</html>", {"Content-Type": "text/html"}))
    with pytest.raises(KBError) as caught:
        client.health()
    assert caught.value.code == "invalid_response"
