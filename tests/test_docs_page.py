"""The API reference page (/api/v1/docs) and the examples the OpenAPI document carries.

The page shows every operation of the document, with its operationId, parameters,
responses, headers, fields and example, and its Markdown rendered (no raw backticks). The
examples are real: each validates against its response schema, and the live API on the
shipped corpus answers its curl line with a body of the same fields at every level (and
the cache headers the document names), so an example cannot drift from the API.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import lxml.html
import pytest
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

from kb.api import create_app
from kb.api.docs_page import docs_context, operations
from kb.api.errors import API_HINTS, CODES
from kb.api.openapi import ERROR_CODES, EXAMPLE_BASE_URL, EXAMPLES

# Every operation has an example; the index the fixtures serve is the shipped corpus.
OPERATION_IDS = sorted(EXAMPLES)


@pytest.fixture(scope="module")
def docs_app(index_dir):
    return create_app({"TESTING": True, "KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": ""})


@pytest.fixture(scope="module")
def spec(docs_app):
    return docs_app.test_client().get("/api/v1/openapi.json").get_json()


@pytest.fixture(scope="module")
def page(docs_app):
    response = docs_app.test_client().get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return lxml.html.fromstring(response.get_data(as_text=True))


def text_of(element) -> str:
    return " ".join(element.text_content().split())


def ops(spec):
    return {op["operationId"]: (path, method, op) for path, method, op in operations(spec)}


# -- the page ------------------------------------------------------------------------------


def test_every_operation_appears_with_its_operation_id(spec, page):
    assert set(ops(spec)) == set(OPERATION_IDS)
    toc = page.get_element_by_id("toc-title").getparent()
    for op_id, (path, method, op) in ops(spec).items():
        section = page.get_element_by_id(op_id)
        heading = text_of(section.find("h3"))
        assert heading == f"{method.upper()} {path}", op_id
        assert f"operationId {op_id}" in text_of(section), op_id
        assert toc.xpath(f'.//a[@href="#{op_id}"]'), op_id
        # grouped under its tag, in a section the table of contents links to
        group = section.getparent()
        assert text_of(group.find("h2")) == op["tags"][0]
        assert toc.xpath(f'.//a[@href="#{group.get("id")}"]'), op_id


def test_every_parameter_response_and_header_is_shown(spec, page):
    for op_id, (path, _, op) in ops(spec).items():
        section = page.get_element_by_id(op_id)
        names = [text_of(c) for c in section.xpath(".//dl/div/dt/code[@class='name']")]
        params = op.get("parameters", []) + spec["paths"][path].get("parameters", [])
        for param in params:
            assert param["name"] in names, (op_id, param["name"])
        statuses = [text_of(s) for s in section.xpath(".//h5/span[contains(@class,'status')]")]
        assert statuses == sorted(op["responses"], key=lambda s: (not s.isdigit(), s))
        for response in section.xpath(".//div[@class='response']"):
            status = text_of(response.find("h5")).split()[0]
            listed = {text_of(c) for c in response.xpath(".//dt/code[@class='name']")}
            if status in ("429", "503"):
                assert "Retry-After" in listed, (op_id, status)
            if status == "200":
                expected = {"Cache-Control"} if op_id == "getHealth" else {"ETag", "Cache-Control"}
                assert expected <= listed, op_id
                schema = op["responses"]["200"]["content"]["application/json"]["schema"]
                body = spec["components"]["schemas"][schema["$ref"].rpartition("/")[2]]
                assert set(body["properties"]) <= listed, op_id
            # every response says what it means
            assert response.xpath("./p[not(@class)]"), (op_id, status)


def test_no_raw_markdown_is_left_in_the_text(page):
    """Backticks became <code>: no text outside code holds one."""
    texts = page.xpath("//body//text()[not(ancestor::code) and not(ancestor::pre)]")
    assert [t for t in texts if "`" in t] == []
    assert page.xpath("//code[text()='did_you_mean']")  # from the search description


def test_each_operation_has_a_curl_line_and_an_example_body(spec, page):
    for op_id, (_, _, op) in ops(spec).items():
        blocks = page.get_element_by_id(op_id).xpath(".//pre")
        assert len(blocks) == 2, op_id
        curl = op["x-codeSamples"][0]["source"]
        assert text_of(blocks[0]) == curl
        assert curl.startswith(f"curl '{EXAMPLE_BASE_URL}/api/v1/")
        assert text_of(blocks[1]).startswith("{")
        assert blocks[0].get("tabindex") == "0"  # a box that scrolls can be scrolled by keys


def test_the_error_shape_and_every_error_code_are_documented_once(spec, page):
    errors = page.get_element_by_id("errors")
    text = text_of(errors)
    for code in ERROR_CODES:
        assert code in text, code
    assert page.get_element_by_id("schema-Error") is not None
    assert len(page.xpath("//*[@id='schema-Error']")) == 1
    for name in ("status", "code", "message", "details"):
        assert errors.xpath(f".//dt/code[text()='{name}']"), name
    # every 4xx/5xx response links to it rather than repeating it
    assert page.xpath("//div[@class='response']//a[@href='#errors']")


def test_every_code_kb_sends_is_in_the_list():
    kinds = {"section", "article", "topic"}
    assert {f"{kind}_not_found" for kind in kinds} == set(API_HINTS)
    sent = set(CODES.values()) | set(API_HINTS) | {"index_unavailable"}
    assert sent == set(ERROR_CODES)


def test_shared_schemas_are_listed_once_and_every_link_has_a_target(page):
    ids = [e.get("id") for e in page.xpath("//*[@id]")]
    assert len(ids) == len(set(ids))
    for link in page.xpath("//a[starts-with(@href, '#')]"):
        assert link.get("href")[1:] in ids, link.get("href")
    for name in ("Hit", "Notice", "SectionRef", "Facets", "Interpretation"):
        assert f"schema-{name}" in ids


def test_markdown_in_the_document_is_sanitized():
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1", "description": "<script>alert(1)</script>"},
        "paths": {
            "/x": {
                "get": {
                    "operationId": "getX",
                    "summary": "`x` <img src=x onerror=alert(1)>",
                    "description": "[a](javascript:alert(1)) see getX",
                    "responses": {"200": {"description": "OK"}},
                }
            }
        },
    }
    context = docs_context(spec)
    (op,) = context["groups"][0].operations
    html = str(context["description"]) + str(op.summary) + str(op.description)
    assert "<script" not in html
    assert "<img" not in html
    assert 'href="javascript' not in html
    assert "<code>x</code>" in html
    assert '<a href="#getX" rel="noopener noreferrer">getX</a>' in html


def test_the_page_needs_no_index(tmp_path):
    app = create_app({"TESTING": True, "KB_INDEX_DIR": str(tmp_path), "KB_RATE_LIMIT": ""})
    response = app.test_client().get("/api/v1/docs")
    assert response.status_code == 200
    assert "getSearch" in response.get_data(as_text=True)


def test_the_page_loads_nothing_but_its_own_stylesheets(docs_app, page):
    response = docs_app.test_client().get("/api/v1/docs")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert not page.xpath("//script | //iframe | //*[@style] | //style")
    sheets = [link.get("href") for link in page.xpath("//link[@rel='stylesheet']")]
    assert "/static/kb-docs.css" in sheets
    assert docs_app.test_client().get("/static/kb-docs.css").status_code == 200


# -- the examples ----------------------------------------------------------------------------


def validate(spec, schema: dict, instance) -> None:
    OAS30ReadValidator(
        {**schema, "components": spec["components"]}, format_checker=oas30_format_checker
    ).validate(instance)


@pytest.mark.parametrize("op_id", OPERATION_IDS)
def test_the_example_validates_against_its_response_schema(spec, op_id):
    _, _, op = ops(spec)[op_id]
    content = op["responses"]["200"]["content"]["application/json"]
    assert content["example"] == EXAMPLES[op_id]["response"]
    validate(spec, content["schema"], content["example"])


def test_the_error_example_validates_against_the_error_schema(spec):
    error = spec["components"]["schemas"]["Error"]
    validate(spec, {"$ref": "#/components/schemas/Error"}, error["example"])


def same_fields(example, live, where: str = "body") -> list[str]:
    """Where `example` and `live` differ in their fields (names and order) or types."""
    if isinstance(example, dict):
        if not isinstance(live, dict):
            return [f"{where}: an object in the example, {type(live).__name__} live"]
        if list(example) != list(live):
            return [f"{where}: fields {list(example)} in the example, {list(live)} live"]
        return [
            p for key in example for p in same_fields(example[key], live[key], where + "." + key)
        ]
    if isinstance(example, list):
        if not isinstance(live, list):
            return [f"{where}: an array in the example, {type(live).__name__} live"]
        if example and not live:
            return [f"{where}: items in the example, none live"]
        pairs = zip(example, live, strict=False)
        return [p for i, (e, v) in enumerate(pairs) for p in same_fields(e, v, f"{where}[{i}]")]
    if example is not None and live is not None:
        number = (int, float)
        if not (isinstance(example, number) and isinstance(live, number)):
            if type(example) is not type(live):
                return [f"{where}: {type(example).__name__} in the example, {live!r} live"]
    return []


def live_get(client, curl: str):
    url = re.fullmatch(r"curl '(.+)'", curl).group(1)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == EXAMPLE_BASE_URL
    return client.get(parts.path, query_string=parts.query, base_url=EXAMPLE_BASE_URL)


@pytest.mark.parametrize("op_id", OPERATION_IDS)
def test_the_live_api_answers_the_example_with_the_same_fields(spec, docs_app, op_id):
    _, _, op = ops(spec)[op_id]
    response = live_get(docs_app.test_client(), op["x-codeSamples"][0]["source"])
    assert response.status_code == 200, response.get_data(as_text=True)
    live = response.get_json()
    example = op["responses"]["200"]["content"]["application/json"]["example"]
    problems = same_fields(example, live)
    assert problems == [], f"update EXAMPLES[{op_id!r}] in kb/api/openapi.py to {live!r}"
    headers = op["responses"]["200"]["headers"]
    cache_control = headers["Cache-Control"]["$ref"].rpartition("/")[2]
    documented = spec["components"]["headers"][cache_control]["example"]
    assert response.headers["Cache-Control"] == documented
    assert ("ETag" in response.headers) == ("ETag" in headers), op_id


def test_the_live_api_answers_the_error_example_exactly(spec, docs_app):
    error = spec["components"]["schemas"]["Error"]
    response = live_get(docs_app.test_client(), error["x-example-request"])
    assert response.status_code == error["example"]["error"]["status"]
    assert response.get_json() == error["example"]


def test_same_fields_sees_a_renamed_nested_field():
    example = {"hits": [{"id": "a", "score": 1.0}], "total": 1}
    assert same_fields(example, {"hits": [{"id": "b", "score": 2}], "total": 3}) == []
    assert same_fields(example, {"hits": [{"id": "b", "rank": 2}], "total": 3}) != []
    assert same_fields(example, {"hits": [], "total": 0}) != []
    assert same_fields(example, {"total": 1, "hits": []}) != []  # order is documented too


def test_a_503_sends_the_documented_retry_after(tmp_path):
    app = create_app({"TESTING": True, "KB_INDEX_DIR": str(tmp_path), "KB_RATE_LIMIT": ""})
    response = app.test_client().get("/api/v1/search?q=x")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
