"""Every request and response shape of the API; they validate, serialize and document it.

Response schemas dump kb's models (kb.models) as they are: each schema is the one place
its response fields are named, in the order they appear in the JSON. A field reads its
model through `attribute=` ("section.title"), plucks ids from nested models, or, when it
needs more than the model, is a Method field: absolute URLs need the request
(`url_for(..., _external=True)`) and `html` is the API's rendering of the Markdown. Those
are computed here, at dump time, rather than by the views, so the models stay plain data
and no view has to know which fields a response derives.

Request schemas check what they can alone; `topic` is checked against the served build's
taxonomy per request (`check_topic`), and its choices are documented from the taxonomy when
an app is created (`topic_choices`): nothing here reads the taxonomy at import.
"""

from __future__ import annotations

from flask import current_app, url_for
from marshmallow import Schema, ValidationError, fields, missing, validate

from kb.api.render import render_markdown
from kb.corpus import reading_grade
from kb.errors import InvalidQuery
from kb.models import AUDIENCES, SECTION_ID_SEPARATOR
from kb.taxonomy import Taxonomy

MAX_LIMIT = 50
MAX_OFFSET = 10_000
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SECTION_ID_PATTERN = rf"^[a-z0-9]+(?:-[a-z0-9]+)*{SECTION_ID_SEPARATOR}[a-z0-9]+(?:-[a-z0-9]+)*$"


# People paste sentences and letters; the work per query is capped by words, not by
# characters (RankingSettings.max_words), so up to 1,000 characters are accepted.
MAX_QUERY_LENGTH = 1000


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
        metadata={
            "description": "Only sections with this topic id (see /api/v1/topics).",
            "choices_from": "taxonomy",  # documented by topic_choices, checked by check_topic
        },
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


def topic_choices(taxonomy: Taxonomy):
    """An apispec attribute function documenting `taxonomy`'s topic ids as the enum of `topic`.

    kb.api.views registers one per app with the configured taxonomy (KB_TAXONOMY), so the
    taxonomy is read when an app is created, never when this module is imported.
    """
    ids = [t.id for t in taxonomy.topics]

    def attribute_function(converter, field, **kwargs) -> dict:
        if field.metadata.get("choices_from") != "taxonomy":
            return {}
        return {"enum": list(ids)}

    return attribute_function


def check_topic(topic: str | None, topic_ids: list[str]) -> None:
    """Refuse a `topic` the served build does not know, as the schema would have."""
    if topic is None:
        return
    try:
        validate.OneOf(topic_ids)(topic)
    except ValidationError as exc:
        raise InvalidQuery(exc.messages[0], field="topic") from None


class SuggestArgsSchema(QueryArgsSchema):
    q = query_text(100, minimum=2)
    limit = fields.Integer(
        load_default=8,
        validate=validate.Range(1, 20),
        metadata={"description": "Suggestions at most, 1-20."},
    )


class RelatedArgsSchema(QueryArgsSchema):
    limit = fields.Integer(
        load_default=5,
        validate=validate.Range(1, 20),
        metadata={"description": "Related sections at most, 1-20."},
    )


def article_url(slug: str, url: str | None) -> str:
    """Where a person reads the article: the clinic's own page if set, else kb's page.

    Absolute, because the caller is often another site (the widget) or a script.
    """
    return url or external_url("pages.article_page", slug=slug)


def external_url(endpoint: str, **values) -> str:
    """An absolute URL for `endpoint`: under KB_PUBLIC_URL when it is set (never the
    client's Host header), else on the request's own host."""
    base = current_app.config.get("KB_PUBLIC_URL", "").rstrip("/")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, **values, _external=True)


class Same(fields.Nested):
    """A nested object whose fields are read from the same model (e.g. `facets`)."""

    def get_value(self, obj, attr, accessor=None, default=missing):
        return obj


class FacetSchema(Schema):
    value = fields.String(
        required=True, metadata={"description": "The filter value: a topic id or an article slug."}
    )
    label = fields.String(
        required=True,
        metadata={"description": "What to show: the topic's label or the article's title."},
    )
    count = fields.Integer(required=True, metadata={"description": "Hits with this value."})


class FacetsSchema(Schema):
    topics = fields.List(
        fields.Nested(FacetSchema),
        required=True,
        attribute="topic_facets",
        metadata={"description": "Per topic: most hits first, then by value (at most 20)."},
    )
    articles = fields.List(
        fields.Nested(FacetSchema),
        required=True,
        attribute="article_facets",
        metadata={
            "description": "Per article: most hits first, then by value (the 20 articles "
            "with most hits)."
        },
    )


class ResourceSchema(Schema):
    name = fields.String(required=True, metadata={"description": "Who to contact."})
    phone = fields.String(metadata={"description": "A number to call."})
    url = fields.String(metadata={"description": "A web page."})
    sms = fields.String(metadata={"description": "A number to text."})
    text = fields.String(metadata={"description": "More words about it."})


class NoticeSchema(Schema):
    kind = fields.String(required=True, metadata={"description": "`crisis`"})
    title = fields.String(required=True, metadata={"description": "A heading for the notice."})
    message = fields.String(required=True, metadata={"description": "What to tell the person."})
    resources = fields.List(
        fields.Nested(ResourceSchema),
        required=True,
        metadata={"description": "Where to get help now, as the clinic configured them."},
    )


class HitSchema(Schema):
    """A kb.models.Hit."""

    id = fields.String(
        required=True,
        attribute="section.id",
        metadata={"description": "Section id, for /sections/{id}."},
    )
    article = fields.String(
        required=True, attribute="section.article", metadata={"description": "Article slug."}
    )
    article_title = fields.String(required=True, metadata={"description": "The article's title."})
    title = fields.String(
        required=True, attribute="section.title", metadata={"description": "The section's title."}
    )
    anchor = fields.String(
        required=True,
        attribute="section.anchor",
        metadata={"description": "The section's anchor on its article page."},
    )
    breadcrumb = fields.List(
        fields.String(),
        required=True,
        attribute="section.breadcrumb",
        metadata={"description": "The headings from the article's top down to this section."},
    )
    snippet = fields.String(
        required=True,
        metadata={"description": "HTML: escaped text, matches wrapped in `<mark>`."},
    )
    score = fields.Float(
        required=True, metadata={"description": "Relevance; compare it only within one response."}
    )
    topics = fields.List(
        fields.String(),
        required=True,
        attribute="section.topics",
        metadata={"description": "Topic ids of the section."},
    )
    url = fields.Method(
        "get_url",
        required=True,
        metadata={"type": "string", "description": "Where to read the section."},
    )

    def get_url(self, hit) -> str:
        return f"{article_url(hit.section.article, hit.article_url)}#{hit.section.anchor}"


class CorrectionSchema(Schema):
    word = fields.String(required=True, metadata={"description": "The word as typed."})
    replacement = fields.String(
        required=True, metadata={"description": "The word kb suggests instead."}
    )
    applied = fields.Boolean(
        required=True,
        metadata={
            "description": "True: the results are for the replacement. False: only offered "
            "as `did_you_mean` (the typed word is a real word, or the replacement is merely "
            "more common)."
        },
    )


class ExpansionSchema(Schema):
    typed = fields.String(
        required=True, metadata={"description": "The expression found in the query."}
    )
    term = fields.String(
        required=True,
        metadata={"description": "The taxonomy expression also searched for (a synonym)."},
    )


class InterpretationSchema(Schema):
    """A kb.models.Interpretation: what kb did to the query."""

    corrections = fields.List(
        fields.Nested(CorrectionSchema),
        required=True,
        metadata={"description": "Misspelt words: replaced, or only offered (`applied`)."},
    )
    expansions = fields.List(
        fields.Nested(ExpansionSchema),
        required=True,
        metadata={"description": 'Synonyms searched too ("Also searched: ...").'},
    )
    ignored = fields.List(
        fields.String(),
        required=True,
        metadata={"description": 'Words too common to search for ("how", "my").'},
    )
    dropped = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "Words left out of a very long query: only its most informative "
            "32 words are searched."
        },
    )


class SearchResultSchema(Schema):
    """A kb.models.SearchResults."""

    query = fields.String(required=True, metadata={"description": "The query as sent."})
    total = fields.Integer(required=True, metadata={"description": "Hits in all, over every page."})
    limit = fields.Integer(
        required=True, metadata={"description": "Hits per page, as asked (or the default)."}
    )
    offset = fields.Integer(
        required=True, metadata={"description": "Hits skipped, as asked (or the default)."}
    )
    hits = fields.List(
        fields.Nested(HitSchema),
        required=True,
        metadata={"description": "This page of hits, best first."},
    )
    facets = Same(
        FacetsSchema,
        required=True,
        metadata={"description": "Hits per topic and per article, over the whole result set."},
    )
    did_you_mean = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "A spelling kb suggests for the query, or null."},
    )
    corrected = fields.Boolean(
        required=True,
        metadata={"description": "True when results are for `did_you_mean`, not `query`."},
    )
    notices = fields.List(
        fields.Nested(NoticeSchema),
        required=True,
        metadata={
            "description": "Crisis notices: not empty when the query is about self-harm, suicide "
            "or a crisis."
        },
    )
    interpretation = fields.Nested(
        InterpretationSchema, required=True, metadata={"description": "What kb did to the query."}
    )


class SectionRefSchema(Schema):
    """A kb.models.Section, by reference."""

    # No description: SectionSchema's `previous` and `next` pluck this field, and apispec
    # would document them with its description instead of their own.
    id = fields.String(required=True)
    article = fields.String(required=True, metadata={"description": "Article slug."})
    title = fields.String(required=True, metadata={"description": "The section's title."})
    anchor = fields.String(
        required=True, metadata={"description": "The section's anchor on its article page."}
    )
    level = fields.Integer(
        required=True,
        metadata={
            "description": "Heading level: 1 for an article's introduction, 2 and deeper "
            "for its sections."
        },
    )


class SectionSchema(Schema):
    """A kb.models.SectionDetail."""

    id = fields.String(
        required=True,
        attribute="section.id",
        metadata={"description": "Section id: `<article slug>:<anchor>`."},
    )
    article = fields.String(
        required=True, attribute="article.slug", metadata={"description": "Article slug."}
    )
    article_title = fields.String(
        required=True, attribute="article.title", metadata={"description": "The article's title."}
    )
    title = fields.String(
        required=True, attribute="section.title", metadata={"description": "The section's title."}
    )
    anchor = fields.String(
        required=True,
        attribute="section.anchor",
        metadata={"description": "The section's anchor on its article page."},
    )
    level = fields.Integer(
        required=True,
        attribute="section.level",
        metadata={
            "description": "Heading level: 1 for an article's introduction, 2 and deeper "
            "for its sections."
        },
    )
    breadcrumb = fields.List(
        fields.String(),
        required=True,
        attribute="section.breadcrumb",
        metadata={"description": "The headings from the article's top down to this section."},
    )
    position = fields.Integer(
        required=True,
        attribute="section.position",
        metadata={"description": "Where it stands in its article, from 0."},
    )
    topics = fields.List(
        fields.String(),
        required=True,
        attribute="section.topics",
        metadata={"description": "Topic ids of the section."},
    )
    word_count = fields.Integer(
        required=True, attribute="section.word_count", metadata={"description": "Words in `text`."}
    )
    reading_grade = fields.Method(
        "get_reading_grade",
        required=True,
        metadata={
            "type": "number",
            "description": "Flesch-Kincaid grade of the text (US school grade; about 8 or "
            "below suits most patients).",
        },
    )
    reviewed = fields.Date(
        allow_none=True,
        required=True,
        attribute="article.reviewed",
        metadata={"description": "When the article was last reviewed."},
    )
    next_review = fields.Date(
        allow_none=True,
        required=True,
        attribute="article.next_review",
        metadata={"description": "When the article's next review is due."},
    )
    text = fields.String(
        required=True, attribute="section.text", metadata={"description": "Markdown."}
    )
    html = fields.Method(
        "get_html",
        required=True,
        metadata={"type": "string", "description": "Rendered, escaped HTML."},
    )
    url = fields.Method(
        "get_url",
        required=True,
        metadata={"description": "Where people read the section.", "type": "string"},
    )
    previous = fields.Pluck(
        SectionRefSchema,
        "id",
        allow_none=True,
        required=True,
        metadata={"description": "The id of the section before it in its article, or null."},
    )
    next = fields.Pluck(
        SectionRefSchema,
        "id",
        allow_none=True,
        required=True,
        metadata={"description": "The id of the section after it in its article, or null."},
    )
    related = fields.Pluck(
        SectionRefSchema,
        "id",
        many=True,
        required=True,
        metadata={"description": "Ids of the sections most like it, most alike first."},
    )

    def get_html(self, detail) -> str:
        return render_markdown(detail.section.text)

    def get_reading_grade(self, detail) -> float:
        return reading_grade(detail.section.text)

    def get_url(self, detail) -> str:
        return f"{article_url(detail.article.slug, detail.article.url)}#{detail.section.anchor}"


class RelatedSchema(Schema):
    """A kb.models.RelatedSections."""

    section = fields.String(
        required=True,
        attribute="section_id",
        metadata={"description": "The id of the section asked about."},
    )
    related = fields.List(
        fields.Nested(SectionRefSchema),
        required=True,
        metadata={"description": "The sections most like it, most alike first."},
    )


class ArticleSummarySchema(Schema):
    """A kb.models.Article, without its sections."""

    slug = fields.String(
        required=True, metadata={"description": "Article slug, for /articles/{slug}."}
    )
    title = fields.String(required=True, metadata={"description": "The article's title."})
    summary = fields.String(
        required=True, metadata={"description": "A sentence or two about the article."}
    )
    source = fields.String(
        required=True,
        metadata={"description": "Where the text came from (its front matter's `source`)."},
    )
    published = fields.Date(
        allow_none=True, required=True, metadata={"description": "When it was published, if known."}
    )
    url = fields.Method(
        "get_url",
        required=True,
        metadata={"description": "Where people read the article.", "type": "string"},
    )
    section_count = fields.Integer(
        required=True, metadata={"description": "How many sections it has."}
    )
    topics = fields.List(
        fields.String(),
        required=True,
        attribute="section_topics",
        metadata={"description": "Topic ids of its sections, sorted."},
    )
    reviewed = fields.Date(
        allow_none=True, required=True, metadata={"description": "When last reviewed."}
    )
    next_review = fields.Date(
        allow_none=True, required=True, metadata={"description": "When the next review is due."}
    )
    reviewed_by = fields.String(
        allow_none=True, required=True, metadata={"description": "Who reviewed it last, if anyone."}
    )
    authors = fields.List(fields.String(), required=True, metadata={"description": "Who wrote it."})
    audience = fields.List(
        fields.String(validate=validate.OneOf(AUDIENCES)),
        required=True,
        metadata={"description": "Who the article is written for."},
    )
    tags = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Free-form tags from the article's front matter."},
    )

    def get_url(self, article) -> str:
        return article_url(article.slug, article.url)


class ArticleListSchema(Schema):
    """A kb.models.ArticleList."""

    articles = fields.List(
        fields.Nested(ArticleSummarySchema),
        required=True,
        metadata={"description": "Every article, in slug order."},
    )


class ArticleSchema(ArticleSummarySchema):
    """A kb.models.Article with its table of contents."""

    toc = fields.List(
        fields.Nested(SectionRefSchema),
        required=True,
        attribute="sections",
        metadata={"description": "Its sections in reading order."},
    )


class TopicSchema(Schema):
    """A kb.models.TopicSummary."""

    id = fields.String(
        required=True,
        attribute="topic.id",
        metadata={"description": "Topic id: the value of search's `topic` filter."},
    )
    label = fields.String(
        required=True, attribute="topic.label", metadata={"description": "What to show."}
    )
    parent = fields.String(
        allow_none=True,
        required=True,
        attribute="topic.parent",
        metadata={"description": "The broader topic's id, or null."},
    )
    abbreviations = fields.List(
        fields.String(),
        required=True,
        attribute="topic.abbreviations",
        metadata={"description": "Abbreviations searched for it too."},
    )
    synonyms = fields.List(
        fields.String(),
        required=True,
        attribute="topic.synonyms",
        metadata={"description": "Other words searched for it too."},
    )
    section_count = fields.Integer(
        required=True, metadata={"description": "Sections tagged with the topic."}
    )


class TopicListSchema(Schema):
    """A kb.models.TopicList."""

    topics = fields.List(
        fields.Nested(TopicSchema),
        required=True,
        metadata={"description": "Every topic, in the taxonomy's order."},
    )


class TopicDetailSchema(TopicSchema):
    """A kb.models.TopicDetail."""

    sections = fields.List(
        fields.Nested(SectionRefSchema),
        required=True,
        metadata={"description": "Every section tagged with the topic."},
    )


class SuggestionSchema(Schema):
    """A kb.models.Suggestion."""

    text = fields.String(
        required=True, metadata={"description": "What to show and, when chosen, to search for."}
    )
    kind = fields.String(required=True, metadata={"description": "section, topic or term"})
    section_id = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The section's id for a `section`, else null."},
    )


class SuggestResultSchema(Schema):
    """A kb.models.Suggestions."""

    query = fields.String(required=True, metadata={"description": "The text as sent."})
    suggestions = fields.List(
        fields.Nested(SuggestionSchema), required=True, metadata={"description": "Best first."}
    )


class HealthSchema(Schema):
    """A kb.models.IndexStatus."""

    status = fields.String(
        required=True,
        metadata={"description": "Always `ok`: a kb that cannot answer says so with a 503."},
    )
    build = fields.String(
        required=True, metadata={"description": "The id of the index build served."}
    )
    built_at = fields.String(
        required=True, metadata={"description": "When that build was made (ISO 8601, UTC)."}
    )
    articles = fields.Integer(required=True, metadata={"description": "Articles in the build."})
    sections = fields.Integer(required=True, metadata={"description": "Sections in the build."})


class ErrorDetailSchema(Schema):
    status = fields.Integer(required=True, metadata={"description": "The HTTP status, again."})
    code = fields.String(
        required=True,
        metadata={"description": "Stable machine-readable code, e.g. invalid_parameter."},
    )
    message = fields.String(required=True, metadata={"description": "For people; it may change."})
    details = fields.Dict(
        required=True,
        metadata={"description": "Per-location, per-field messages for 422; else {}."},
    )


class ErrorSchema(Schema):
    """The one error body of every route and every failure."""

    error = fields.Nested(
        ErrorDetailSchema, required=True, metadata={"description": "What went wrong."}
    )
    notices = fields.List(
        fields.Nested(NoticeSchema),
        metadata={
            "description": "Crisis notices, present only when the request's `q` is about "
            "self-harm, suicide or a crisis: checked on the raw text, so they survive every "
            "error (422, 404, 429, 503, 500)."
        },
    )
