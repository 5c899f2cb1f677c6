"""The OpenAPI document: every route, parameter and error response is described."""

from __future__ import annotations

import pytest

ROUTES = {
    "/api/v1/search": {"q", "limit", "offset", "topic", "article", "syntax"},
    "/api/v1/sections/{section_id}": {"section_id"},
    "/api/v1/sections/{section_id}/related": {"section_id", "limit"},
    "/api/v1/articles": set(),
    "/api/v1/articles/{slug}": {"slug"},
    "/api/v1/topics": set(),
    "/api/v1/topics/{topic_id}": {"topic_id"},
    "/api/v1/suggest": {"q", "limit"},
    "/api/v1/health": set(),
}


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_every_route_and_parameter_is_documented(spec):
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == set(ROUTES)
    for path, params in ROUTES.items():
        documented = {p["name"] for p in spec["paths"][path]["get"].get("parameters", [])}
        documented |= {p["name"] for p in spec["paths"][path].get("parameters", [])}
        assert documented == params, path


def test_every_operation_documents_the_error_shape(spec):
    error = spec["components"]["schemas"]["Error"]
    # `notices` only on errors to a crisis query (tests/test_crisis_errors.py).
    assert set(error["properties"]) == {"error", "notices"}
    assert error["required"] == ["error"]
    detail = spec["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"status", "code", "message", "details"}
    for path in ROUTES:
        responses = spec["paths"][path]["get"]["responses"]
        assert "200" in responses
        assert "default" in responses, path  # any error status, in the Error shape
        if "{" in path and "health" not in path:
            assert "404" in responses, path
        if any(p.get("in") == "query" for p in spec["paths"][path]["get"].get("parameters", [])):
            assert "422" in responses, path


def test_docs_page_is_served_without_external_assets(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/search" in page
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page


def test_the_document_is_valid_and_every_operation_is_complete(client):
    from openapi_spec_validator import validate

    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    operations = [
        (path, op)
        for path, ops in spec["paths"].items()
        for op in ops.values()
        if "responses" in op
    ]
    ids = [op["operationId"] for _, op in operations]
    assert len(ids) == len(set(ids)) == len(operations)
    for path, op in operations:
        assert op.get("summary") or op.get("description"), path
        for status in ("429", "503"):
            assert status in op["responses"], (path, status)
        assert "Retry-After" in op["responses"]["429"]["headers"], path
        if "headers" in op["responses"]["200"]:
            assert {"ETag", "Cache-Control"} <= set(op["responses"]["200"]["headers"]), path
    assert ("/api/v1/sections/{section_id}/related", "getSectionsRelated") in {
        (path, op["operationId"]) for path, op in operations
    }
