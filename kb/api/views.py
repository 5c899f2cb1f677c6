"""The /api/v1 routes: thin views that call kb.search and dump kb models through schemas."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from kb.api import schemas
from kb.api.render import render_markdown
from kb.api.state import get_kb
from kb.models import Article, Hit, SearchResults, Section
from kb.search import ArticleNotFound, InvalidQuery, SectionNotFound

blp = Blueprint("api", __name__, url_prefix="/api/v1", description="Search and read kb.")

NOT_FOUND = {"description": "Not found", "schema": schemas.ErrorSchema}


def section_url(section: Section, article: Article) -> str:
    """Where a person reads the section: the clinic's own page if set, else kb's page.

    Absolute, because the caller is often another site (the widget) or a script.
    """
    base = article.url or url_for("pages.article_page", slug=article.slug, _external=True)
    return f"{base}#{section.anchor}"


def section_ref(section: Section) -> dict:
    return {
        "id": section.id,
        "article": section.article,
        "title": section.title,
        "anchor": section.anchor,
        "level": section.level,
    }


def hit_json(hit: Hit, kb) -> dict:
    section = hit.section
    return {
        "id": section.id,
        "article": section.article,
        "article_title": hit.article_title,
        "title": section.title,
        "anchor": section.anchor,
        "breadcrumb": list(section.breadcrumb),
        "snippet": hit.snippet,
        "score": hit.score,
        "topics": list(section.topics),
        "url": section_url(section, kb.article_of(section)),
    }


def results_json(results: SearchResults, kb) -> dict:
    def facets(counts):
        return [{"value": c.value, "label": c.label, "count": c.count} for c in counts]

    return {
        "query": results.query,
        "total": results.total,
        "limit": results.limit,
        "offset": results.offset,
        "hits": [hit_json(h, kb) for h in results.hits],
        "facets": {
            "topics": facets(results.topic_facets),
            "articles": facets(results.article_facets),
        },
        "did_you_mean": results.did_you_mean,
        "corrected": results.corrected,
        "notices": [
            {"kind": n.kind, "title": n.title, "message": n.message, "resources": list(n.resources)}
            for n in results.notices
        ],
    }


def article_json(article: Article, with_toc: bool = False) -> dict:
    topics = sorted({t for s in article.sections for t in s.topics})
    data = {
        "slug": article.slug,
        "title": article.title,
        "summary": article.summary,
        "source": article.source,
        "published": article.published,
        "url": article.url or url_for("pages.article_page", slug=article.slug, _external=True),
        "section_count": len(article.sections),
        "topics": topics,
    }
    if with_toc:
        data["toc"] = [section_ref(s) for s in article.sections]
    return data


@blp.route("/search")
class Search(MethodView):
    @blp.arguments(schemas.SearchArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, schemas.SearchResultSchema)
    @blp.alt_response(404, description="Unknown article filter", schema=schemas.ErrorSchema)
    def get(self, q, limit, offset, topic=None, article=None, syntax="plain"):
        """Search sections.

        Plain text by default: quotes, colons and operators are only text. Results carry
        highlighted snippets, topic and article facets over the whole result set, a
        `did_you_mean` when a word was misspelt, and crisis `notices` when the query is
        about self-harm, suicide or a crisis.
        """
        kb = get_kb()
        try:
            results = kb.search(
                q, limit=limit, offset=offset, topic=topic, article=article, syntax=syntax
            )
        except InvalidQuery as exc:
            abort(422, message=str(exc), code="invalid_parameter")
        except ArticleNotFound:
            abort(
                404,
                message=f"no article {article!r} to filter by; see /api/v1/articles",
                code="article_not_found",
            )
        return results_json(results, kb)


@blp.route("/sections/<string:section_id>")
class SectionById(MethodView):
    @blp.response(200, schemas.SectionSchema)
    @blp.alt_response(404, **NOT_FOUND)
    def get(self, section_id):
        """One section: Markdown and HTML, its article, neighbours and related sections."""
        kb = get_kb()
        try:
            section = kb.get_section(section_id)
        except SectionNotFound:
            abort(
                404,
                message=f"no section {section_id!r}; find ids with /api/v1/search",
                code="section_not_found",
            )
        article = kb.article_of(section)
        siblings = article.sections
        index = section.position
        return {
            "id": section.id,
            "article": article.slug,
            "article_title": article.title,
            "title": section.title,
            "anchor": section.anchor,
            "level": section.level,
            "breadcrumb": list(section.breadcrumb),
            "position": section.position,
            "topics": list(section.topics),
            "word_count": section.word_count,
            "text": section.text,
            "html": render_markdown(section.text),
            "url": section_url(section, article),
            "previous": siblings[index - 1].id if index > 0 else None,
            "next": siblings[index + 1].id if index + 1 < len(siblings) else None,
            "related": [s.id for s in kb.related(section.id)],
        }


@blp.route("/sections/<string:section_id>/related")
class RelatedSections(MethodView):
    @blp.arguments(schemas.RelatedArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, schemas.RelatedSchema)
    @blp.alt_response(404, **NOT_FOUND)
    def get(self, section_id, limit):
        """Sections most like this one ("more like this"), never itself."""
        kb = get_kb()
        try:
            related = kb.related(section_id, limit=limit)
        except SectionNotFound:
            abort(
                404,
                message=f"no section {section_id!r}; find ids with /api/v1/search",
                code="section_not_found",
            )
        return {"section": section_id, "related": [section_ref(s) for s in related]}


@blp.route("/articles")
class Articles(MethodView):
    @blp.response(200, schemas.ArticleListSchema)
    def get(self):
        """Every article, in slug order."""
        kb = get_kb()
        return {
            "articles": [
                article_json(a) for a in sorted(kb.articles.values(), key=lambda a: a.slug)
            ]
        }


@blp.route("/articles/<string:slug>")
class ArticleBySlug(MethodView):
    @blp.response(200, schemas.ArticleSchema)
    @blp.alt_response(404, **NOT_FOUND)
    def get(self, slug):
        """One article with its table of contents."""
        kb = get_kb()
        try:
            article = kb.get_article(slug)
        except ArticleNotFound:
            abort(
                404,
                message=f"no article {slug!r}; list them with /api/v1/articles",
                code="article_not_found",
            )
        return article_json(article, with_toc=True)


def topic_json(topic, count: int) -> dict:
    return {
        "id": topic.id,
        "label": topic.label,
        "parent": topic.parent,
        "abbreviations": list(topic.abbreviations),
        "synonyms": list(topic.synonyms),
        "section_count": count,
    }


@blp.route("/topics")
class Topics(MethodView):
    @blp.response(200, schemas.TopicListSchema)
    def get(self):
        """The topic taxonomy, with how many sections each topic has."""
        kb = get_kb()
        counts = kb.topic_counts()
        return {"topics": [topic_json(t, counts.get(t.id, 0)) for t in kb.taxonomy.topics]}


@blp.route("/topics/<string:topic_id>")
class TopicById(MethodView):
    @blp.response(200, schemas.TopicDetailSchema)
    @blp.alt_response(404, **NOT_FOUND)
    def get(self, topic_id):
        """One topic and its sections."""
        kb = get_kb()
        topic = kb.taxonomy.by_id.get(topic_id)
        if topic is None:
            abort(
                404,
                message=f"no topic {topic_id!r}; list them with /api/v1/topics",
                code="topic_not_found",
            )
        sections = kb.sections_with_topic(topic_id)
        return {**topic_json(topic, len(sections)), "sections": [section_ref(s) for s in sections]}


@blp.route("/suggest")
class Suggest(MethodView):
    @blp.arguments(schemas.SuggestArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, schemas.SuggestResultSchema)
    def get(self, q, limit):
        """Completions for as-you-type: section titles, topic labels, indexed words."""
        kb = get_kb()
        return {
            "query": q,
            "suggestions": [
                {"text": s.text, "kind": s.kind, "section_id": s.section_id}
                for s in kb.suggest(q, limit=limit)
            ],
        }


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, schemas.HealthSchema)
    @blp.alt_response(503, description="No usable index", schema=schemas.ErrorSchema)
    def get(self):
        """Readiness: which index build is served, and how big it is."""
        kb = get_kb()
        return {
            "status": "ok",
            "build": kb.version,
            "built_at": kb.built_at,
            "articles": len(kb.articles),
            "sections": kb.section_count(),
        }
