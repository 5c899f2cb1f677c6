"""Every request and response shape of the API; they validate, serialize and document it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kb.models import SECTION_ID_SEPARATOR
from kb.topics import load_taxonomy

MAX_LIMIT = 50
MAX_OFFSET = 10_000
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SECTION_ID_PATTERN = rf"^[a-z0-9]+(?:-[a-z0-9]+)*{SECTION_ID_SEPARATOR}[a-z0-9]+(?:-[a-z0-9]+)*$"


MAX_QUERY_LENGTH = 200


class QueryArgsSchema(Schema):
    """Query-string arguments. Unknown parameters are ignored (cache-busters must not fail)."""


# Control characters other than tab and line breaks: never typed by a person.
CONTROL_CHARACTERS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def query_text(max_length: int, required: bool = True, minimum: int = 1):
    return fields.String(
        required=required,
        validate=[
            validate.Length(min=minimum, max=max_length),
            validate.Regexp(CONTROL_CHARACTERS, error="must not contain control characters"),
        ],
        metadata={"description": "Plain text; quotes, colons and operators are just text."},
    )


class SearchArgsSchema(QueryArgsSchema):
    q = query_text(MAX_QUERY_LENGTH)
    limit = fields.Integer(
        load_default=10,
        validate=validate.Range(1, MAX_LIMIT),
        metadata={"description": f"Hits per page, 1-{MAX_LIMIT}."},
    )
    offset = fields.Integer(
        load_default=0,
        validate=validate.Range(0, MAX_OFFSET),
        metadata={"description": "Hits to skip, for paging."},
    )
    topic = fields.String(
        validate=validate.OneOf([t.id for t in load_taxonomy().topics]),
        metadata={"description": "Only sections with this topic id (see /api/v1/topics)."},
    )
    article = fields.String(
        validate=validate.Regexp(SLUG_PATTERN),
        metadata={"description": "Only sections of this article slug."},
    )
    syntax = fields.String(
        load_default="plain",
        validate=validate.OneOf(["plain", "advanced"]),
        metadata={
            "description": "`advanced` enables Whoosh query syntax "
            '(AND, OR, "phrases", field:term).'
        },
    )


class SuggestArgsSchema(QueryArgsSchema):
    q = query_text(100, minimum=2)
    limit = fields.Integer(load_default=8, validate=validate.Range(1, 20))


class RelatedArgsSchema(QueryArgsSchema):
    limit = fields.Integer(load_default=5, validate=validate.Range(1, 20))


class FacetSchema(Schema):
    value = fields.String(required=True)
    label = fields.String(required=True)
    count = fields.Integer(required=True)


class FacetsSchema(Schema):
    topics = fields.List(fields.Nested(FacetSchema), required=True)
    articles = fields.List(fields.Nested(FacetSchema), required=True)


class ResourceSchema(Schema):
    name = fields.String(required=True)
    phone = fields.String()
    url = fields.String()
    text = fields.String()


class NoticeSchema(Schema):
    kind = fields.String(required=True, metadata={"description": "`crisis`"})
    title = fields.String(required=True)
    message = fields.String(required=True)
    resources = fields.List(fields.Nested(ResourceSchema), required=True)


class HitSchema(Schema):
    id = fields.String(required=True, metadata={"description": "Section id, for /sections/{id}."})
    article = fields.String(required=True, metadata={"description": "Article slug."})
    article_title = fields.String(required=True)
    title = fields.String(required=True)
    anchor = fields.String(required=True)
    breadcrumb = fields.List(fields.String(), required=True)
    snippet = fields.String(
        required=True,
        metadata={"description": "HTML: escaped text, matches wrapped in <mark>."},
    )
    score = fields.Float(required=True)
    topics = fields.List(fields.String(), required=True)
    url = fields.String(required=True, metadata={"description": "Where to read the section."})


class SearchResultSchema(Schema):
    query = fields.String(required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)
    hits = fields.List(fields.Nested(HitSchema), required=True)
    facets = fields.Nested(FacetsSchema, required=True)
    did_you_mean = fields.String(allow_none=True, required=True)
    corrected = fields.Boolean(
        required=True,
        metadata={"description": "True when results are for `did_you_mean`, not `query`."},
    )
    notices = fields.List(fields.Nested(NoticeSchema), required=True)


class SectionRefSchema(Schema):
    id = fields.String(required=True)
    article = fields.String(required=True)
    title = fields.String(required=True)
    anchor = fields.String(required=True)
    level = fields.Integer(required=True)


class SectionSchema(Schema):
    id = fields.String(required=True)
    article = fields.String(required=True)
    article_title = fields.String(required=True)
    title = fields.String(required=True)
    anchor = fields.String(required=True)
    level = fields.Integer(required=True)
    breadcrumb = fields.List(fields.String(), required=True)
    position = fields.Integer(required=True)
    topics = fields.List(fields.String(), required=True)
    word_count = fields.Integer(required=True)
    text = fields.String(required=True, metadata={"description": "Markdown."})
    html = fields.String(required=True, metadata={"description": "Rendered, escaped HTML."})
    url = fields.String(required=True)
    previous = fields.String(allow_none=True, required=True)
    next = fields.String(allow_none=True, required=True)
    related = fields.List(fields.String(), required=True)


class RelatedSchema(Schema):
    section = fields.String(required=True)
    related = fields.List(fields.Nested(SectionRefSchema), required=True)


class ArticleSummarySchema(Schema):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    summary = fields.String(required=True)
    source = fields.String(required=True)
    published = fields.Date(allow_none=True, required=True)
    url = fields.String(required=True)
    section_count = fields.Integer(required=True)
    topics = fields.List(fields.String(), required=True)


class ArticleListSchema(Schema):
    articles = fields.List(fields.Nested(ArticleSummarySchema), required=True)


class ArticleSchema(ArticleSummarySchema):
    toc = fields.List(fields.Nested(SectionRefSchema), required=True)


class TopicSchema(Schema):
    id = fields.String(required=True)
    label = fields.String(required=True)
    parent = fields.String(allow_none=True, required=True)
    abbreviations = fields.List(fields.String(), required=True)
    synonyms = fields.List(fields.String(), required=True)
    section_count = fields.Integer(required=True)


class TopicListSchema(Schema):
    topics = fields.List(fields.Nested(TopicSchema), required=True)


class TopicDetailSchema(TopicSchema):
    sections = fields.List(fields.Nested(SectionRefSchema), required=True)


class SuggestionSchema(Schema):
    text = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "section, topic or term"})
    section_id = fields.String(allow_none=True, required=True)


class SuggestResultSchema(Schema):
    query = fields.String(required=True)
    suggestions = fields.List(fields.Nested(SuggestionSchema), required=True)


class HealthSchema(Schema):
    status = fields.String(required=True)
    build = fields.String(required=True)
    built_at = fields.String(required=True)
    articles = fields.Integer(required=True)
    sections = fields.Integer(required=True)


class ErrorDetailSchema(Schema):
    status = fields.Integer(required=True)
    code = fields.String(
        required=True,
        metadata={"description": "Stable machine-readable code, e.g. invalid_parameter."},
    )
    message = fields.String(required=True)
    details = fields.Dict(
        required=True,
        metadata={"description": "Per-location, per-field messages for 422; else {}."},
    )


class ErrorSchema(Schema):
    """The one error body of every route and every failure."""

    error = fields.Nested(ErrorDetailSchema, required=True)
