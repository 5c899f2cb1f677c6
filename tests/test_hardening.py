"""kb.api.hardening: privacy headers, conditional GET, size limits, rate limits, hostile input."""

from __future__ import annotations

import pytest

from kb.api import create_app
from tests.helpers import assert_error


def test_privacy_and_security_headers(client):
    paths = ["/api/v1/search?q=dbt", "/api/v1/health", "/articles/bpd-treatment-in-real-sessions"]
    for path in paths:
        response = client.get(path)
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Set-Cookie" not in response.headers


def test_html_pages_have_a_strict_content_security_policy(client):
    csp = client.get("/articles/bpd-treatment-in-real-sessions").headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "http" not in csp and "unsafe-inline" not in csp


@pytest.mark.parametrize("path", ["/api/v1/search?q=dbt", "/api/v1/suggest?q=dbt"])
def test_queries_are_never_stored_by_caches(client, path):
    response = client.get(path)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["ETag"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/articles",
        "/api/v1/topics",
        "/api/v1/articles/bpd-treatment-in-real-sessions",
        "/api/v1/sections/bpd-treatment-in-real-sessions:introduction",
        "/api/v1/search?q=dbt",
    ],
)
def test_conditional_get_answers_304(client, path):
    first = client.get(path)
    etag = first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_read_endpoints_are_cacheable_and_etag_follows_the_index(tmp_path, make_article):
    from kb.corpus import load_corpus
    from kb.index import build_index

    make_article("a.md", "DBT skills.\n")
    build_index(load_corpus(make_article.corpus), tmp_path / "index")
    client = create_app({"KB_INDEX_DIR": str(tmp_path / "index")}).test_client()
    first = client.get("/api/v1/articles")
    assert first.headers["Cache-Control"] == "public, max-age=300"
    build_index(load_corpus(make_article.corpus), tmp_path / "index")
    second = client.get("/api/v1/articles", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200  # a new build invalidates every ETag
    assert second.headers["ETag"] != first.headers["ETag"]


def test_health_is_never_cached(client):
    assert client.get("/api/v1/health").headers["Cache-Control"] == "no-store"


def test_long_urls_are_414_and_large_bodies_413(client):
    assert_error(client.get("/api/v1/search?q=dbt&x=" + "a" * 9000), 414, "uri_too_long")
    assert_error(client.get("/api/v1/search?q=dbt", data="x" * 20000), 413, "request_too_large")


def test_rate_limit_answers_429_with_retry_after(index_dir):
    client = create_app(
        {"KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": "3 per minute"}
    ).test_client()
    statuses = [client.get("/api/v1/search?q=dbt").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = client.get("/api/v1/search?q=dbt")
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/articles/bpd-treatment-in-real-sessions").status_code == 200  # pages exempt
    # ...but not the results page, which runs a search per request like the API.
    pages = [client.get("/search?q=dbt").status_code for _ in range(4)]
    assert pages == [200, 200, 200, 429]


def test_a_sub_second_window_never_says_retry_after_0(index_dir):
    client = create_app(
        {"KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": "2 per second"}
    ).test_client()
    responses = [client.get("/api/v1/search?q=dbt") for _ in range(4)]
    limited = [r for r in responses if r.status_code == 429]
    assert limited and all(int(r.headers["Retry-After"]) >= 1 for r in limited)


def test_rate_limit_is_per_client(index_dir):
    client = create_app(
        {"KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": "1 per minute"}
    ).test_client()
    assert client.get("/api/v1/health", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200
    assert client.get("/api/v1/health", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200
    assert client.get("/api/v1/health", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 429


HOSTILE_QUERIES = [
    "a" * 200,
    "\x00",
    "dbt\x00dbt",
    "\x01\x02\x1f\x7f",
    "\u202e\u200b\ufeff",
    "\ud7ff\ue000",
    "'; DROP TABLE sections; --",
    "1 OR 1=1",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "%00",
    "%%%%",
    "\\x00",
    "((((((((((",
    '"' * 50,
    "*" * 100,
    "~" * 30,
    "title:dbt body:*",
    "🙂" * 50,
    "ǅǆǄ",
    "ß" * 10,
    "\n\r\t",
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
@pytest.mark.parametrize("syntax", ["plain", "advanced"])
def test_hostile_queries_never_5xx(client, query, syntax):
    response = client.get("/api/v1/search", query_string={"q": query, "syntax": syntax})
    assert response.status_code < 500
    if response.status_code != 200:
        assert_error(response, response.status_code)
    suggest = client.get("/api/v1/suggest", query_string={"q": query})
    assert suggest.status_code < 500


@pytest.mark.parametrize("query", ["\x00", "dbt\x00dbt", "\x01\x02\x1f\x7f", "a\x1bb"])
def test_control_characters_are_422(client, query):
    response = client.get("/api/v1/search", query_string={"q": query})
    assert "control characters" in assert_error(response, 422, "invalid_parameter")["message"]


@pytest.mark.parametrize(
    "raw_query",
    [
        "q=%FF%FE",
        "q=%C0%AF",
        "q=%ED%A0%80",
        "q=dbt&limit=-1",
        "q=dbt&limit=99999999999999999999",
        "q=dbt&offset=1e10",
        "q=dbt&offset=NaN",
        "q=dbt&limit=1.5",
        "q=" + "x" * 1001,
        "q=dbt&topic=../../x",
        "q=dbt&article=%00",
        "q=dbt&limit=&offset=",
    ],
)
def test_malformed_parameters_are_4xx_in_the_error_shape(client, raw_query):
    response = client.get("/api/v1/search?" + raw_query)
    assert 400 <= response.status_code < 500, raw_query
    assert_error(response, response.status_code)


@pytest.mark.parametrize(
    "section_id",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "..",
        "%00",
        "a:b%00",
        "<script>",
        "x" * 500,
        "a:" + "b" * 3000,
        "%FF",
        "bpd-treatment-in-real-sessions:introduction%0A",
    ],
)
def test_hostile_section_ids_are_404(client, section_id):
    response = client.get(f"/api/v1/sections/{section_id}")
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)


def test_retry_after_only_where_retrying_is_the_answer(index_dir):
    from kb.api import create_app

    app = create_app({"KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": "2 per minute"})
    client = app.test_client()
    first = client.get("/api/v1/articles")
    assert first.status_code == 200 and "Retry-After" not in first.headers
    assert "X-RateLimit-Limit" in first.headers
    client.get("/api/v1/articles")
    limited = client.get("/api/v1/articles")
    assert limited.status_code == 429 and "Retry-After" in limited.headers


@pytest.mark.parametrize("path", ["/api/v1/articles", "/api/v1/search?q=dbt", "/api/v1/nope"])
def test_api_answers_vary_by_origin_for_shared_caches(client, path):
    response = client.get(path, headers={"Origin": "https://clinic.example"})
    assert "Origin" in response.vary


def test_options_answers_204_with_allow_and_no_html(client):
    response = client.options("/api/v1/search")
    assert response.status_code == 204
    assert "GET" in response.headers["Allow"]
    assert "Content-Type" not in response.headers
    assert response.data == b""


def test_responses_are_compressed_when_the_client_accepts_it(client):
    import gzip

    plain = client.get("/api/v1/search?q=therapy")
    packed = client.get("/api/v1/search?q=therapy", headers={"Accept-Encoding": "gzip"})
    assert plain.headers.get("Content-Encoding") is None
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data()) / 2
    # Other bytes, other validator; each revalidates to a 304.
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
    for response, encoding in ((plain, "identity"), (packed, "gzip")):
        again = client.get(
            "/api/v1/search?q=therapy",
            headers={"Accept-Encoding": encoding, "If-None-Match": response.headers["ETag"]},
        )
        assert again.status_code == 304


def test_small_answers_are_not_compressed(client):
    response = client.get("/api/v1/health", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") is None
