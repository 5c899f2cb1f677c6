"""Every error response to a crisis query still carries the crisis notice."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from kb.api import create_app

CRISIS = "I want to kill myself"


def crisis_notice(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error", "notices"}, body
    (notice,) = body["notices"]
    assert notice["kind"] == "crisis" and notice["message"]
    return notice


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": CRISIS + " " + "x" * 1000}, 422),  # longer than the query limit
        ({"q": CRISIS, "limit": "0"}, 422),
        ({"q": CRISIS, "limit": "many"}, 422),
        ({"q": CRISIS, "topic": "nonsense"}, 422),
        ({"q": CRISIS, "syntax": "regex"}, 422),
        ({"q": CRISIS, "article": "no-such-article"}, 404),
    ],
)
def test_validation_and_lookup_errors_keep_the_notice(client, params, status):
    response = client.get("/api/v1/search?" + urlencode(params))
    assert response.status_code == status
    crisis_notice(response)


def test_unknown_route_and_wrong_method_keep_the_notice(client):
    assert crisis_notice(client.get("/api/v1/nope?" + urlencode({"q": CRISIS})))
    response = client.post("/api/v1/search?" + urlencode({"q": CRISIS}))
    assert response.status_code == 405
    crisis_notice(response)


def test_rate_limited_keeps_the_notice(index_dir):
    app = create_app({"KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": "1 per minute"})
    client = app.test_client()
    client.get("/api/v1/search?q=dbt")
    response = client.get("/api/v1/search?" + urlencode({"q": CRISIS}))
    assert response.status_code == 429
    crisis_notice(response)


def test_missing_index_keeps_the_notice(tmp_path):
    app = create_app({"KB_INDEX_DIR": str(tmp_path / "none"), "KB_RATE_LIMIT": ""})
    response = app.test_client().get("/api/v1/search?" + urlencode({"q": CRISIS}))
    assert response.status_code == 503
    crisis_notice(response)


def test_server_error_keeps_the_notice(index_dir, monkeypatch):
    app = create_app({"KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": ""})
    kb = app.extensions["kb"].get()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(kb, "search", broken)
    response = app.test_client().get("/api/v1/search?" + urlencode({"q": CRISIS}))
    assert response.status_code == 500
    crisis_notice(response)


def test_configured_resources_reach_error_bodies(index_dir):
    resources = [{"name": "Clinic line", "phone": "555-0100"}]
    app = create_app(
        {"KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": "", "KB_CRISIS_RESOURCES": resources}
    )
    response = app.test_client().get("/api/v1/search?" + urlencode({"q": CRISIS, "limit": 0}))
    assert crisis_notice(response)["resources"] == resources


def test_ordinary_errors_have_no_notices(client):
    response = client.get("/api/v1/search?" + urlencode({"q": "dbt", "limit": 0}))
    assert response.status_code == 422
    assert set(response.get_json()) == {"error"}
