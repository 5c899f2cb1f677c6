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
    """Everything the page loads is kb's own (the example URLs it shows are only text)."""
    import lxml.html

    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert "/api/v1/search" in page.text_content()
    assert not page.xpath("//script | //iframe | //object | //embed | //style | //*[@style]")
    for element in page.xpath("//link | //img | //source"):
        url = element.get("href") or element.get("src") or ""
        assert url.startswith(("/", "data:")) and not url.startswith("//"), url
    for link in page.xpath("//a[@href]"):
        url = link.get("href")
        assert url.startswith(("/", "#")) and not url.startswith("//"), url


def resolve(spec, obj: dict) -> dict:
    """`obj`, or the component its $ref names."""
    if "$ref" not in obj:
        return obj
    _, _, kind, name = obj["$ref"].split("/")
    return spec["components"][kind][name]


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
    tags = {t["name"] for t in spec["tags"]}
    for path, op in operations:
        assert op.get("summary") and op.get("description"), path
        assert len(op["tags"]) == 1 and op["tags"][0] in tags, path
        for status in ("429", "503"):
            assert status in op["responses"], (path, status)
            headers = resolve(spec, op["responses"][status])["headers"]
            assert resolve(spec, headers["Retry-After"])["schema"]["minimum"] == 1, path
        for response in op["responses"].values():
            assert resolve(spec, response)["description"], path
        headers = set(op["responses"]["200"]["headers"])
        if op["operationId"] == "getHealth":  # readiness: never cached, no ETag
            assert headers == {"Cache-Control"}
            assert "304" not in op["responses"]
        else:
            assert headers == {"ETag", "Cache-Control"}, path
            assert "304" in op["responses"], path
        assert op["x-codeSamples"][0]["source"].startswith("curl '"), path
        assert "example" in op["responses"]["200"]["content"]["application/json"], path
    assert set(tags) == {t for _, op in operations for t in op["tags"]}
    assert ("/api/v1/sections/{section_id}/related", "getSectionsRelated") in {
        (path, op["operationId"]) for path, op in operations
    }


def test_the_shared_error_answers_say_what_they_mean(spec):
    responses = spec["components"]["responses"]
    assert "invalid_parameter" in responses["UNPROCESSABLE_ENTITY"]["description"]
    assert "Error shape" in responses["DEFAULT_ERROR"]["description"]
    error = spec["components"]["schemas"]["Error"]
    assert "`section_not_found` (404)" in error["description"]
    assert error["example"]["error"]["code"] == "invalid_parameter"
