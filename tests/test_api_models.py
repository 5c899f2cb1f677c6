"""Views return kb's models; the schemas are the only list of response fields.

Also: every unknown section, article and topic becomes a 404 in the one handler of
kb.api.errors, and the library's own messages name no API path.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from marshmallow import Schema

from kb import errors as kb_errors
from kb import models
from kb.api import errors as api_errors
from kb.api import schemas
from kb.client import NotFound as ClientNotFound


def _dumps(schema: Schema, obj) -> list[tuple[type[Schema], dict]]:
    """(schema class, dumped object) for the object and, recursively, each nested object."""
    data = schema.dump(obj)
    found = [(type(schema), data)]
    for name, field in schema.dump_fields.items():
        nested = getattr(field, "inner", field)
        if not hasattr(nested, "schema") or not hasattr(nested, "nested"):
            continue
        if type(nested).__name__ == "Pluck":
            continue
        values = field.get_value(obj, field.attribute or name)
        if values is None:
            continue
        many = nested is not field or nested.many
        for value in values if many else [values]:
            found += _dumps(nested.schema, value)
    return found


@pytest.fixture
def section(kb):
    """A section in the middle of an article: it has both neighbours, and topics."""
    articles = sorted(kb.articles.values(), key=lambda a: a.slug)
    article = next(a for a in articles if len(a.sections) > 2)
    return next(s for s in article.sections[1:-1] if s.topics)


@pytest.fixture
def request_context(app):
    with app.test_request_context("/api/v1/", base_url="http://kb.test"):
        yield


@pytest.fixture
def responses(kb, section, request_context):
    """One model per response schema, built as the views build them."""
    topic = kb.get_topic("dbt")
    return {
        schemas.SearchResultSchema: kb.search("suicide crisis skills", limit=5),
        schemas.SectionSchema: models.SectionDetail(
            section, kb.article_of(section), kb.related(section.id)
        ),
        schemas.RelatedSchema: models.RelatedSections(section.id, kb.related(section.id)),
        schemas.ArticleListSchema: models.ArticleList(tuple(kb.articles.values())),
        schemas.ArticleSchema: kb.article_of(section),
        schemas.TopicListSchema: models.TopicList(
            tuple(models.TopicSummary(t, 1) for t in kb.taxonomy.topics)
        ),
        schemas.TopicDetailSchema: models.TopicDetail(topic, tuple(kb.sections_with_topic("dbt"))),
        schemas.SuggestResultSchema: models.Suggestions("dia", kb.suggest("dia")),
        schemas.HealthSchema: models.IndexStatus("ok", kb.version, kb.built_at, 1, 2),
    }


def test_every_response_schema_is_covered(client, responses):
    """Each schema that a route documents for its 200 response has a model case here."""
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = set()
    for operations in spec["paths"].values():
        content = operations["get"]["responses"]["200"]["content"]["application/json"]
        name = content["schema"]["$ref"].rpartition("/")[2]
        documented.add(getattr(schemas, name + "Schema"))
    assert documented == set(responses)


def test_each_schema_dumps_every_field_it_declares_in_order(responses):
    for schema_class, model in responses.items():
        for dumped_class, data in _dumps(schema_class(), model):
            fields = dumped_class().dump_fields
            assert list(data) == [name for name in fields if name in data], dumped_class
            assert {name for name, f in fields.items() if f.required} <= set(data), dumped_class


def test_response_fields_are_all_required():
    """So a field the model cannot give fails the dump test above instead of vanishing."""
    optional = {
        "ResourceSchema": {"phone", "url", "sms", "text"},  # as the clinic configured it
        "ErrorSchema": {"notices"},  # only for crisis queries
    }
    for name in dir(schemas):
        schema = getattr(schemas, name)
        if not (isinstance(schema, type) and issubclass(schema, Schema)):
            continue
        if schema is Schema or "Args" in name:
            continue
        missing = {n for n, f in schema().dump_fields.items() if not f.required}
        assert missing == optional.get(name, set()), name


def test_a_hit_is_read_where_its_article_says(kb, request_context):
    """Hit.article_url is used as it is; without one, kb's own article page."""
    hit = kb.search("skills").hits[0]
    elsewhere = models.Hit(hit.section, hit.article_title, "https://clinic.example/a", 1.0, "")
    assert schemas.HitSchema().dump(elsewhere)["url"] == (
        f"https://clinic.example/a#{hit.section.anchor}"
    )
    here = models.Hit(hit.section, hit.article_title, None, 1.0, "")
    assert schemas.HitSchema().dump(here)["url"] == (
        f"http://kb.test/articles/{hit.section.article}#{hit.section.anchor}"
    )


def test_section_detail_knows_its_neighbours(kb, section):
    article = kb.article_of(section)
    first, second = article.sections[0], article.sections[1]
    assert models.SectionDetail(first, article).previous is None
    assert models.SectionDetail(first, article).next == second
    assert models.SectionDetail(second, article).previous == first
    last = article.sections[-1]
    assert models.SectionDetail(last, article).next is None


def test_schemas_module_does_not_read_the_taxonomy_when_imported():
    code = (
        "import kb.taxonomy\n"
        "def refuse(*args, **kwargs):\n"
        "    raise SystemExit('taxonomy read at import')\n"
        "kb.taxonomy.load_taxonomy = kb.taxonomy._load = refuse\n"
        "import kb.api.schemas, kb.api.views\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_openapi_lists_the_topic_ids(client, kb):
    spec = client.get("/api/v1/openapi.json").get_json()
    (topic,) = [
        p for p in spec["paths"]["/api/v1/search"]["get"]["parameters"] if p["name"] == "topic"
    ]
    assert topic["schema"]["enum"] == [t.id for t in kb.taxonomy.topics]


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda kb: kb.get_section("nope:nope"),
            kb_errors.SectionNotFound,
            "no section 'nope:nope'",
        ),
        (lambda kb: kb.related("nope:nope"), kb_errors.SectionNotFound, "no section 'nope:nope'"),
        (lambda kb: kb.get_article("nope"), kb_errors.ArticleNotFound, "no article 'nope'"),
        (lambda kb: kb.get_topic("nope"), kb_errors.TopicNotFound, "no topic 'nope'"),
        (lambda kb: kb.search("x", article="nope"), kb_errors.ArticleNotFound, "no article 'nope'"),
        (lambda kb: kb.search("x", topic="nope"), kb_errors.InvalidQuery, "unknown topic 'nope'"),
    ],
)
def test_library_messages_name_no_api_path(kb, call, error, message):
    with pytest.raises(error) as caught:
        call(kb)
    assert str(caught.value) == message
    assert "/api/v1" not in str(caught.value)


def test_an_unknown_topic_filter_names_its_parameter(kb):
    with pytest.raises(kb_errors.InvalidQuery) as caught:
        kb.search("x", topic="nope")
    assert caught.value.field == "topic"


@pytest.fixture
def spied_app(index_dir, monkeypatch):
    """An app whose not-found handler records what it handled."""
    from kb.api import create_app

    handled = []
    handler = api_errors.handle_not_found

    def spy(exc):
        handled.append(exc)
        return handler(exc)

    monkeypatch.setattr(api_errors, "handle_not_found", spy)
    app = create_app({"TESTING": True, "KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": ""})
    app.handled = handled
    return app


@pytest.mark.parametrize(
    ("path", "error", "code", "message"),
    [
        (
            "/api/v1/sections/nope:nope",
            kb_errors.SectionNotFound,
            "section_not_found",
            "no section 'nope:nope'; find ids with /api/v1/search",
        ),
        (
            "/api/v1/sections/nope:nope/related",
            kb_errors.SectionNotFound,
            "section_not_found",
            "no section 'nope:nope'; find ids with /api/v1/search",
        ),
        (
            "/api/v1/articles/nope",
            kb_errors.ArticleNotFound,
            "article_not_found",
            "no article 'nope'; list them with /api/v1/articles",
        ),
        (
            "/api/v1/topics/nope",
            kb_errors.TopicNotFound,
            "topic_not_found",
            "no topic 'nope'; list them with /api/v1/topics",
        ),
        (
            "/api/v1/search?q=x&article=nope",
            kb_errors.ArticleNotFound,
            "article_not_found",
            "no article 'nope' to filter by; list them with /api/v1/articles",
        ),
    ],
)
def test_every_not_found_comes_from_the_one_handler(spied_app, path, error, code, message):
    from tests.helpers import assert_error

    response = spied_app.test_client().get(path)
    body = assert_error(response, 404, code)
    assert body == {"status": 404, "code": code, "message": message, "details": {}}
    assert [type(e) for e in spied_app.handled] == [error]
    assert message.endswith("; " + api_errors.API_HINTS[code])


def test_an_unknown_topic_filter_is_refused_like_a_parameter(client, kb):
    from tests.helpers import assert_error

    error = assert_error(client.get("/api/v1/search?q=x&topic=nope"), 422, "invalid_parameter")
    expected = "Must be one of: " + ", ".join(t.id for t in kb.taxonomy.topics) + "."
    assert error["details"] == {"query": {"topic": [expected]}}
    assert error["message"] == f"invalid parameter: topic: {expected}"


def test_an_invalid_query_without_a_field_has_no_details(app):
    with app.test_request_context():
        response = api_errors.handle_invalid_query(kb_errors.InvalidQuery("cannot parse"))
    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "status": 422,
        "code": "invalid_parameter",
        "message": "cannot parse",
        "details": {},
    }


@pytest.mark.parametrize(
    ("code", "message", "shown"),
    [
        ("section_not_found", "no section 'x'; find ids with /api/v1/search", "no section 'x'"),
        (
            "article_not_found",
            "no article 'x' to filter by; list them with /api/v1/articles",
            "no article 'x' to filter by",
        ),
        ("topic_not_found", "no topic 'x'; list them with /api/v1/topics", "no topic 'x'"),
        ("invalid_parameter", "invalid parameter: a; b", "invalid parameter: a; b"),
    ],
)
def test_the_cli_strips_exactly_the_api_hint(code, message, shown):
    from kb.cli_lookups import _error_line

    line = _error_line(ClientNotFound(404, code, message), "section", None)
    assert line.startswith(shown + ".") or line == shown
    assert "/api/v1" not in line


def test_nested_schemas_are_checked_too(responses):
    visited = {c for s, m in responses.items() for c, _ in _dumps(s(), m)}
    nested = {schemas.HitSchema, schemas.FacetsSchema, schemas.FacetSchema}
    nested |= {schemas.NoticeSchema, schemas.SectionRefSchema}
    nested |= {schemas.ArticleSummarySchema, schemas.TopicSchema, schemas.SuggestionSchema}
    assert nested <= visited
