"""The /api/v1 routes: each view asks kb's library for models and returns them.

A view returns kb.models objects (a model, or a small composite such as SectionDetail or
TopicDetail when an answer needs several) and flask-smorest dumps them through the schema
named in `@blp.response`; the schemas in kb.api.schemas are the only place a response
field is named, and they derive what needs the request (absolute URLs) or presentation
(HTML) at dump time. Views build no dicts and turn no error into a response: the
kb.errors.NotFound and InvalidQuery the library raises reach the one handler in
kb.api.errors, which gives every 404 and 422 the same shape and hint. Only the search
view touches them: it checks `topic` against the served build's taxonomy (raising
InvalidQuery) and re-raises an unknown article filter with its purpose ("to filter by").
"""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from kb import metrics, models
from kb.api import schemas
from kb.api.state import get_kb
from kb.config import taxonomy_path
from kb.errors import ArticleNotFound
from kb.taxonomy import load_taxonomy

blp = Blueprint("api", __name__, url_prefix="/api/v1", description="Search and read kb.")


def not_found(what: str, code: str) -> dict:
    """The documentation of a 404 for an unknown id: what was not found and its code."""
    return {"description": f"{what} (code `{code}`).", "schema": schemas.ErrorSchema}


@blp.record_once
def document_topic_choices(state) -> None:
    """List the taxonomy's topic ids in this app's OpenAPI document (see topic_choices)."""
    api = state.app.extensions["flask-smorest"]["blp_name_to_api"][blp.name]
    taxonomy = load_taxonomy(taxonomy_path(state.app.config))
    api.ma_plugin.converter.add_attribute_function(schemas.topic_choices(taxonomy))


@blp.route("/search")
class Search(MethodView):
    @blp.arguments(schemas.SearchArgsSchema, location="query", as_kwargs=True)
    @blp.response(
        200,
        schemas.SearchResultSchema,
        description="One page of hits, best first, with what kb did to the query.",
    )
    @blp.alt_response(404, **not_found("No article has the `article` slug", "article_not_found"))
    def get(self, q, limit, offset, topic=None, article=None, syntax="plain"):
        """Search sections.

        Plain text by default: quotes, colons and operators are only text. Results carry
        highlighted snippets, topic and article facets over the whole result set, a
        `did_you_mean` when a word was misspelt, and crisis `notices` when the query is
        about self-harm, suicide or a crisis.

        Page with `limit` and `offset`; `total` counts every hit. `topic` and `article`
        narrow the hits: a `topic` the taxonomy does not have is a 422, an `article` no
        article has a 404. `syntax=advanced` opts into Whoosh's query language, where a
        query Whoosh cannot parse is a 422.
        """
        kb = get_kb()
        schemas.check_topic(topic, [t.id for t in kb.taxonomy.topics])
        try:
            results = kb.search(
                q, limit=limit, offset=offset, topic=topic, article=article, syntax=syntax
            )
        except ArticleNotFound as exc:
            raise ArticleNotFound(exc.key, purpose="to filter by") from None
        metrics.record_search(results.total)
        if results.notices:
            metrics.record_crisis_notice()
        return results


@blp.route("/sections/<string:section_id>")
class SectionById(MethodView):
    @blp.response(200, schemas.SectionSchema, description="The section.")
    @blp.alt_response(404, **not_found("No section has this id", "section_not_found"))
    def get(self, section_id):
        """One section: Markdown and HTML, its article, neighbours and related sections.

        `section_id` is `<article slug>:<anchor>`, as in a search hit's `id`. `text` is the
        section's Markdown and `html` its rendering, sanitized. `previous` and `next` are the
        ids of the sections around it in its article (`null` at either end); `related` holds
        the ids of up to 5 sections most like it (see getSectionsRelated).
        """
        kb = get_kb()
        section = kb.get_section(section_id)
        return models.SectionDetail(section, kb.article_of(section), kb.related(section.id))


@blp.route("/sections/<string:section_id>/related")
class RelatedSections(MethodView):
    @blp.arguments(schemas.RelatedArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, schemas.RelatedSchema, description="The related sections, most alike first.")
    @blp.alt_response(404, **not_found("No section has this id", "section_not_found"))
    def get(self, section_id, limit):
        """Sections most like this one ("more like this"), never itself.

        Alike by the words of their text, from any article. Each comes by reference (id,
        article, title, anchor, level); read one with getSection.
        """
        return models.RelatedSections(section_id, get_kb().related(section_id, limit=limit))


@blp.route("/articles")
class Articles(MethodView):
    @blp.response(200, schemas.ArticleListSchema, description="All the articles.")
    def get(self):
        """Every article, in slug order.

        Each with its summary, dates, the topics of its sections and `url`: where people read
        it (the clinic's own page when the article names one, else kb's article page). No
        paging: the list is the whole corpus.
        """
        articles = get_kb().articles.values()
        return models.ArticleList(tuple(sorted(articles, key=lambda a: a.slug)))


@blp.route("/articles/<string:slug>")
class ArticleBySlug(MethodView):
    @blp.response(200, schemas.ArticleSchema, description="The article.")
    @blp.alt_response(404, **not_found("No article has this slug", "article_not_found"))
    def get(self, slug):
        """One article with its table of contents.

        The fields of the article list, and `toc`: its sections in reading order, by
        reference. Read a section with getSection.
        """
        return get_kb().get_article(slug)


@blp.route("/topics")
class Topics(MethodView):
    @blp.response(200, schemas.TopicListSchema, description="Every topic of the taxonomy.")
    def get(self):
        """The topic taxonomy, with how many sections each topic has.

        In the taxonomy's order; `section_count` is 0 for a topic no section has. The ids are
        the values search's `topic` filter accepts.
        """
        kb = get_kb()
        counts = kb.topic_counts()
        topics = tuple(models.TopicSummary(t, counts.get(t.id, 0)) for t in kb.taxonomy.topics)
        return models.TopicList(topics)


@blp.route("/topics/<string:topic_id>")
class TopicById(MethodView):
    @blp.response(200, schemas.TopicDetailSchema, description="The topic and its sections.")
    @blp.alt_response(404, **not_found("No topic has this id", "topic_not_found"))
    def get(self, topic_id):
        """One topic and its sections.

        The topic as in the topic list, and `sections`: every section tagged with it, by
        reference, in the order of the index build.
        """
        kb = get_kb()
        topic = kb.get_topic(topic_id)
        return models.TopicDetail(topic, tuple(kb.sections_with_topic(topic.id)))


@blp.route("/suggest")
class Suggest(MethodView):
    @blp.arguments(schemas.SuggestArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, schemas.SuggestResultSchema, description="The suggestions, best first.")
    def get(self, q, limit):
        """Completions for as-you-type: section titles, topic labels, indexed words.

        From 2 characters of `q`: topics with a word of their label or abbreviation starting
        with it, then section titles, then what was typed with its last word completed.
        `kind` says which (`topic`, `section` or `term`); only a section has a `section_id`.
        """
        return models.Suggestions(q, get_kb().suggest(q, limit=limit))


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, schemas.HealthSchema, description="This kb can answer.")
    @blp.alt_response(
        503,
        description="No usable index build (code `index_unavailable`): this kb cannot answer.",
        schema=schemas.ErrorSchema,
    )
    def get(self):
        """Readiness: which index build is served, and how big it is.

        For load balancers and monitoring: 200 while an index build is served, 503 when none
        is. Never cached.
        """
        kb = get_kb()
        return models.IndexStatus(
            status="ok",
            build=kb.version,
            built_at=kb.built_at,
            articles=len(kb.articles),
            sections=kb.section_count(),
        )
