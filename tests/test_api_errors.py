"""Every error source answers with the one error shape (asserted by tests.helpers.assert_error)."""

from __future__ import annotations

import pytest

from tests.helpers import assert_error


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/nope", 404, "not_found"),
        ("get", "/nope", 404, "not_found"),
        ("post", "/api/v1/search?q=x", 405, "method_not_allowed"),
        ("delete", "/api/v1/sections/a:b", 405, "method_not_allowed"),
        ("get", "/api/v1/search", 422, "invalid_parameter"),
        ("get", "/api/v1/search?q=", 422, "invalid_parameter"),
        ("get", "/api/v1/search?q=x&limit=0", 422, "invalid_parameter"),
        ("get", "/api/v1/search?q=x&limit=51", 422, "invalid_parameter"),
        ("get", "/api/v1/search?q=x&limit=ten", 422, "invalid_parameter"),
        ("get", "/api/v1/search?q=x&offset=-1", 422, "invalid_parameter"),
        ("get", "/api/v1/search?q=x&offset=99999999", 422, "invalid_parameter"),
        ("get", "/api/v1/search?q=x&topic=nonsense", 422, "invalid_parameter"),
        ("get", "/api/v1/search?q=x&topic=Bad%20Topic", 422, "invalid_parameter"),
        ("get", "/api/v1/search?q=x&article=no-such-article", 404, "article_not_found"),
        ("get", "/api/v1/search?q=x&syntax=regex", 422, "invalid_parameter"),
        ("get", "/api/v1/search?q=" + "a" * 1001, 422, "invalid_parameter"),
        ("get", "/api/v1/suggest?q=m", 422, "invalid_parameter"),
        ("get", "/api/v1/sections/nope:nope", 404, "section_not_found"),
        ("get", "/api/v1/sections/..%2F..%2Fetc%2Fpasswd", 404, None),
        ("get", "/api/v1/sections/a:b/related?limit=0", 422, "invalid_parameter"),
        ("get", "/api/v1/sections/a:b/related", 404, "section_not_found"),
        ("get", "/api/v1/articles/nope", 404, "article_not_found"),
        ("get", "/api/v1/topics/nope", 404, "topic_not_found"),
    ],
)
def test_error_sources_share_one_shape(client, method, path, status, code):
    assert_error(getattr(client, method)(path), status, code)


def test_validation_errors_name_the_field(client):
    error = assert_error(client.get("/api/v1/search?q=x&limit=0"), 422)
    assert "limit" in error["details"]["query"]
    assert "limit" in error["message"]


def test_405_says_which_methods_are_allowed(client):
    response = client.post("/api/v1/search")
    assert_error(response, 405)
    assert "GET" in response.headers["Allow"]


def test_unexpected_exceptions_become_500_in_the_same_shape(app, monkeypatch):
    from kb.search import KnowledgeBase

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(KnowledgeBase, "search", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    error = assert_error(app.test_client().get("/api/v1/search?q=x"), 500, "internal_error")
    assert "boom" not in error["message"]


def test_missing_index_is_503_with_a_hint(tmp_path):
    from kb.api import create_app

    client = create_app({"KB_INDEX_DIR": str(tmp_path / "none")}).test_client()
    error = assert_error(client.get("/api/v1/health"), 503, "index_unavailable")
    assert "kb build" in error["message"]
    assert_error(client.get("/api/v1/search?q=x"), 503, "index_unavailable")
