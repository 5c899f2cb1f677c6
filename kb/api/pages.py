"""HTML pages kb serves itself: the demo page, the search results page, one page per
article, the API docs, and robots.txt and sitemap.xml for search engines.

The pages work without JavaScript and under a strict CSP (no inline script or style).
Like the API views, a view asks kb's library for models (SearchResults, Article, ...) and
hands them to a template, which does the presentation; `ResultsPage` is the one composite
the results page needs. The search results come from the same KnowledgeBase.search the API
calls, so hits, snippets (HTML-escaped text with only <mark> added), corrections and
crisis notices are the API's own. No query text is logged here: kb's access logs drop the
query string, and nothing in this module writes a log line holding one.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from markupsafe import Markup
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from werkzeug.exceptions import BadRequest, RequestURITooLarge, ServiceUnavailable

from kb import metrics
from kb.api import schemas
from kb.api.errors import crisis_notices_for_request, handle_http_exception
from kb.api.render import render_markdown
from kb.api.state import get_kb
from kb.errors import ArticleNotFound
from kb.models import Article, FacetCount, Hit, SearchResults, TopicSummary
from kb.taxonomy import Topic

bp = Blueprint("pages", __name__)

WIDGET_DIR = Path(__file__).resolve().parent.parent / "static" / "widget"
WIDGET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Clinics embed the widget by a fixed URL, so a day of caching (then revalidation by ETag).
WIDGET_CACHE_SECONDS = 86_400
# /widget/<exact version>/... never changes: a year, immutable (pin it with SRI).
WIDGET_IMMUTABLE = "public, max-age=31536000, immutable"

# No third-party hosts, no inline scripts: only kb's own files may load.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


def content_security_policy(config) -> str:
    """CONTENT_SECURITY_POLICY, plus exactly the origin of a KB_SITE_LOGO (in img-src) and
    of a KB_SITE_STYLESHEET (in style-src) that another origin serves. kb.config has held
    their hosts to characters a CSP source may contain."""
    policy = CONTENT_SECURITY_POLICY
    logo = other_origin(config.get("KB_SITE_LOGO", ""))
    if logo:
        policy = policy.replace("img-src 'self' data:", f"img-src 'self' data: {logo}")
    stylesheet = other_origin(config.get("KB_SITE_STYLESHEET", ""))
    if stylesheet:
        policy = policy.replace("style-src 'self'", f"style-src 'self' {stylesheet}")
    return policy


def other_origin(url: str) -> str | None:
    """The origin (scheme://host[:port]) of an absolute URL; None for "" or a path on kb's
    own origin, which 'self' already allows."""
    parts = urlsplit(url)
    if not parts.scheme:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


@bp.after_request
def strict_headers(response):
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = content_security_policy(current_app.config)
    return response


# -- the site's chrome: name, home page, logo and stylesheet from the settings ------------


@dataclass(frozen=True)
class Site:
    """The clinic's branding for the header of every page (KB_SITE_* settings)."""

    name: str
    url: str  # the clinic's home page; "" for kb's own
    logo: str  # "" for none
    stylesheet: str  # "" for none

    @property
    def home(self) -> str:
        """Where the site name and the first breadcrumb link go."""
        return self.url or url_for("pages.index")


def site_settings() -> Site:
    config = current_app.config
    return Site(
        name=config["KB_SITE_NAME"],
        url=config["KB_SITE_URL"],
        logo=config["KB_SITE_LOGO"],
        stylesheet=config["KB_SITE_STYLESHEET"],
    )


@bp.context_processor
def site_context() -> dict:
    return {"site": site_settings()}


def absolute(url: str) -> str:
    """A setting's URL made absolute: a path is on kb's own public origin (KB_PUBLIC_URL
    when set, as every absolute link kb writes)."""
    return urljoin(schemas.external_url("pages.index"), url)


# -- presentation helpers for the templates -------------------------------------------------


@bp.app_template_filter("tel_href")
def tel_href(phone: str) -> str:
    """A tel: link for a phone number as written ("555-0100"), as the widget makes it."""
    return "tel:" + re.sub(r"[^\d+*#]", "", str(phone))


@bp.app_template_filter("sms_href")
def sms_href(number: str) -> str:
    return "sms:" + re.sub(r"[^\d+]", "", str(number))


@bp.app_template_filter("url_label")
def url_label(url: str) -> str:
    """A URL as people read it, as the widget shows it: host and path, no scheme."""
    parts = urlsplit(str(url))
    return parts.netloc + parts.path.rstrip("/")


@bp.app_template_filter("json_ld")
def json_ld(data: dict) -> Markup:
    """JSON for a <script type="application/ld+json"> element. `<`, `>` and `&` are
    written as \\u escapes, so no text in the data (a title with "</script>") can end the
    element or start markup; the JSON means the same."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


_HIT_SCHEMA = schemas.HitSchema()


@bp.app_template_global("hit_url")
def hit_url(hit: Hit) -> str:
    """Where a hit links: the very URL the API gives it (its article's page, at the anchor)."""
    return _HIT_SCHEMA.get_url(hit)


@bp.get("/")
def index():
    """The demo page: the widget embedded exactly as a clinic would, with the instructions."""
    try:
        articles = sorted(get_kb().articles.values(), key=lambda a: a.title.lower())
    except Exception:  # no usable index yet: the page still explains the widget
        current_app.logger.warning("demo page rendered without an index", exc_info=True)
        articles = []
    # The page's own search box is the widget, so the header has none.
    return render_template("index.html", articles=articles, header_search=False)


def widget_major() -> str:
    """The major-version path of the widget ("v0" for kb 0.x): stable within a major."""
    from kb import __version__

    return f"v{__version__.split('.')[0]}"


@bp.get("/widget/<version>/<name>")
def versioned_widget_asset(version, name):
    """The widget at a pinned URL: /widget/v0/... follows fixes within major version 0;
    /widget/0.1.0/... is this exact release, immutable, for `<script integrity=...>`."""
    from kb import __version__

    if version == __version__:
        response = widget_asset(name)
        response.headers["Cache-Control"] = WIDGET_IMMUTABLE
        return response
    if version == widget_major():
        return widget_asset(name)
    abort(404, description=f"no widget version {version!r} (this kb serves {__version__})")


@bp.get("/widget/<path:filename>")
def widget_asset(filename):
    """The embeddable widget's own files (kb-search.js, kb-search.css)."""
    mimetype = WIDGET_TYPES.get(Path(filename).suffix)
    if mimetype is None:
        abort(404, description=f"no widget file {filename!r}")
    response = send_from_directory(WIDGET_DIR, filename, max_age=WIDGET_CACHE_SECONDS)
    response.headers["Content-Type"] = mimetype
    response.headers["Cache-Control"] = f"public, max-age={WIDGET_CACHE_SECONDS}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Loadable from any clinic page, including ones that require CORP (COEP: require-corp),
    # and by `<script integrity=... crossorigin>`, which fetches in CORS mode. The files
    # are public and carry no credentials, so any origin may read them.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/articles/<slug>")
def article_page(slug):
    """One article: what a person lands on from a search engine, the widget or a results page.

    Its canonical URL is the article's `url` when it has one (the clinic's own copy), else
    this page's absolute URL: the same URL the API gives the article.
    """
    try:
        kb = get_kb()
    except ServiceUnavailable:
        return unavailable_page()
    try:
        article = kb.get_article(slug)
    except ArticleNotFound:
        return not_found_page(kb, slug)
    sections = [(s, render_markdown(s.text)) for s in article.sections]
    return render_template(
        "article.html",
        article=article,
        sections=sections,
        canonical=schemas.article_url(article.slug, article.url),
    )


@bp.app_template_global("article_json_ld")
def article_json_ld(article: Article, canonical: str, site: Site) -> dict:
    """schema.org MedicalWebPage data for an article page (JSON-LD; see `json_ld`)."""
    data: dict = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": article.title,
        "description": article.summary,
        "url": canonical,
        "inLanguage": "en",
    }
    if article.published:
        data["datePublished"] = article.published.isoformat()
    if article.reviewed:
        data["lastReviewed"] = article.reviewed.isoformat()
    if article.reviewed_by:
        data["reviewedBy"] = article.reviewed_by  # schema.org accepts a name as text
    if article.authors:
        data["author"] = [{"@type": "Person", "name": name} for name in article.authors]
    publisher: dict = {"@type": "Organization", "name": site.name}
    if site.url:
        publisher["url"] = absolute(site.url)
    if site.logo:
        publisher["logo"] = {"@type": "ImageObject", "url": absolute(site.logo)}
    data["publisher"] = publisher
    return data


def not_found_page(kb, slug: str):
    """404 for an unknown article, as a page that helps find the right one."""
    articles = sorted(kb.articles.values(), key=lambda a: a.title.lower())
    page = render_template("not_found.html", slug=slug, articles=articles, header_search=False)
    return page, 404


def unavailable_page():
    """503 when no index can be served: the page says so, and still shows the crisis
    notice for the query, checked on the raw text as the API's error bodies do."""
    notices = crisis_notices_for_request()
    if notices:
        metrics.record_crisis_notice()
    page = ResultsPage(query=raw_query(), notices=tuple(notices), unavailable=True)
    html = render_template("search.html", page=page, header_search=False)
    response = current_app.make_response((html, 503))
    response.headers["Retry-After"] = "30"
    return private(response)


# -- the search results page ----------------------------------------------------------------

# Hits per page, and the last page the API's offset limit can reach.
PER_PAGE = 10
MAX_PAGE = schemas.MAX_OFFSET // PER_PAGE + 1
# Facet values listed per kind; a large corpus has thousands of article facets.
FACETS_SHOWN = 10


class SearchPageArgsSchema(Schema):
    """/search's query string: the API's search arguments (kb.api.schemas.SearchArgsSchema)
    with the same limits, but `q` may be empty (the page then offers topics and articles)
    and paging is by `page`. Messages are written for the person who typed the query."""

    class Meta:
        unknown = EXCLUDE  # cache-busters and stray parameters must not fail

    q = fields.String(
        load_default="",
        validate=[
            validate.Length(
                max=schemas.MAX_QUERY_LENGTH,
                error="Your search is too long: please use at most {max} characters.",
            ),
            validate.Regexp(
                schemas.CONTROL_CHARACTERS,
                error="Your search contains control characters that cannot be searched for: "
                "please type it again.",
            ),
        ],
    )
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(1, MAX_PAGE, error="The page number must be from {min} to {max}."),
        error_messages={"invalid": "The page number must be a whole number."},
    )
    topic = fields.String(validate=validate.Length(min=1, error="Choose a topic below."))
    article = fields.String(
        validate=validate.Regexp(
            schemas.SLUG_PATTERN, error="That is not the name of an article: choose one below."
        )
    )


@dataclass(frozen=True)
class HitGroup:
    """The hits of one article on one results page, in rank order."""

    article: str  # slug
    article_title: str
    article_url: str | None
    hits: tuple[Hit, ...]

    @property
    def url(self) -> str:
        return schemas.article_url(self.article, self.article_url)


@dataclass(frozen=True)
class ResultsPage:
    """Everything /search shows: the results of a query (or of browsing a topic or an
    article), the page of them, the filters, and what to offer when there is nothing."""

    query: str = ""
    results: SearchResults | None = None  # None: nothing searched or browsed
    page: int = 1
    topic: Topic | None = None  # the active filters
    article: Article | None = None
    topics: tuple[TopicSummary, ...] = ()  # to browse: topics with sections
    articles: tuple[Article, ...] = ()  # to browse: every article, by title
    problems: dict[str, str] = field(default_factory=dict)  # parameter -> what is wrong
    notices: tuple = ()  # crisis notices when there are no results to carry them
    unavailable: bool = False  # no index to search

    @property
    def crisis_notices(self) -> tuple:
        return self.results.notices if self.results is not None else self.notices

    @property
    def browsing(self) -> bool:
        """A topic or article listed without a query."""
        return self.results is not None and not self.query

    @property
    def total(self) -> int:
        return self.results.total if self.results is not None else 0

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PER_PAGE))

    @property
    def past_the_end(self) -> bool:
        """A page after the last one (an old link, or a hand-edited address)."""
        return self.total > 0 and self.page > self.pages

    @property
    def first(self) -> int:
        """1-based position of the first hit on this page."""
        return (self.page - 1) * PER_PAGE + 1

    @property
    def last(self) -> int:
        return self.first + len(self.results.hits) - 1 if self.results else 0

    @property
    def groups(self) -> tuple[HitGroup, ...]:
        """This page's hits by article: each article once, where its best hit ranks."""
        if self.results is None:
            return ()
        by_article: dict[str, list[Hit]] = {}
        for hit in self.results.hits:
            by_article.setdefault(hit.section.article, []).append(hit)
        return tuple(
            HitGroup(slug, hits[0].article_title, hits[0].article_url, tuple(hits))
            for slug, hits in by_article.items()
        )

    @property
    def article_count(self) -> int:
        """How many articles the matching sections are in (all pages)."""
        return self.results.article_total if self.results else 0

    # Facets are counted over the filtered results, and a filter takes one topic and one
    # article: once a topic is chosen, another topic's link would replace it rather than
    # narrow, and its count would be wrong, so a kind's facets go while it is filtered.

    @property
    def topic_facets(self) -> tuple[FacetCount, ...]:
        if self.results is None or self.topic is not None:
            return ()
        return self.results.topic_facets[:FACETS_SHOWN]

    @property
    def article_facets(self) -> tuple[FacetCount, ...]:
        if self.results is None or self.article is not None:
            return ()
        return self.results.article_facets[:FACETS_SHOWN]

    @property
    def applied_corrections(self) -> tuple[str, ...]:
        """The words as typed that kb replaced (no section contains them)."""
        if self.results is None:
            return ()
        return tuple(c.word for c in self.results.interpretation.corrections if c.applied)

    def url(self, **changes) -> str:
        """This page's address with `changes` (None removes a parameter; page 1 is left out)."""
        params = {
            "q": self.query or None,
            "topic": self.topic.id if self.topic else None,
            "article": self.article.slug if self.article else None,
            "page": None,
        }
        params.update(changes)
        if params["page"] == 1:
            params["page"] = None
        return url_for("pages.search", **{k: v for k, v in params.items() if v is not None})


def raw_query() -> str:
    """The query as sent, for the search box of an error page: without control characters
    (never valid in HTML) and cut to the length a search may have."""
    text = request.args.get("q", "")
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)[: schemas.MAX_QUERY_LENGTH * 2]


def private(response):
    """A results page holds what someone typed about their health: no browser or proxy
    may store it (as the API's search answers)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def browse(kb, topic: Topic | None, article: Article | None, page: int) -> SearchResults:
    """The sections of a topic and/or an article, in corpus order, as results without a
    query: kb.search needs words, so these come from kb's topic and article lookups.
    Snippets are each section's opening (escaped, nothing marked); facets are counted
    over every listed section, like a search's."""
    if topic is not None:
        sections = kb.sections_with_topic(topic.id)
        if article is not None:
            sections = [s for s in sections if s.article == article.slug]
    else:
        sections = list(article.sections)
    offset = (page - 1) * PER_PAGE
    hits = tuple(
        Hit(
            section=s,
            article_title=kb.articles[s.article].title,
            article_url=kb.articles[s.article].url,
            score=0.0,
            snippet=kb.snippet(s, frozenset()),
        )
        for s in sections[offset : offset + PER_PAGE]
    )
    topic_counts: dict[str, int] = {}
    article_counts: dict[str, int] = {}
    for s in sections:
        article_counts[s.article] = article_counts.get(s.article, 0) + 1
        for t in s.topics:
            topic_counts[t] = topic_counts.get(t, 0) + 1

    def facets(counts: dict[str, int], label) -> tuple[FacetCount, ...]:
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return tuple(FacetCount(value, label(value), n) for value, n in ordered)

    return SearchResults(
        query="",
        total=len(sections),
        limit=PER_PAGE,
        offset=offset,
        hits=hits,
        topic_facets=facets(topic_counts, kb.taxonomy.label),
        article_facets=facets(article_counts, lambda slug: kb.articles[slug].title),
        article_total=len(article_counts),
    )


def browse_lists(kb) -> dict:
    """Topics (those with sections, in taxonomy order) and every article, for browsing."""
    counts = kb.topic_counts()
    return {
        "topics": tuple(
            TopicSummary(t, counts[t.id]) for t in kb.taxonomy.topics if counts.get(t.id)
        ),
        "articles": tuple(sorted(kb.articles.values(), key=lambda a: a.title.lower())),
    }


@bp.get("/search")
def search():
    """The search results page: works without JavaScript, one page of 10 hits at a time.

    Parameters as the API's search (`q` up to 1,000 characters, `topic`, `article`) plus
    `page`. A bad one is a 400 page saying what is wrong, next to the search box.
    """
    try:
        args = SearchPageArgsSchema().load(request.args.to_dict())
    except ValidationError as exc:
        return problem_page({key: " ".join(msgs) for key, msgs in exc.messages.items()})
    try:
        kb = get_kb()
    except ServiceUnavailable:
        return unavailable_page()
    query = " ".join(args["q"].split())
    topic = article = None
    problems = {}
    if "topic" in args:
        topic = kb.taxonomy.by_id.get(args["topic"])
        if topic is None:
            problems["topic"] = f"There is no topic “{args['topic']}”: choose one below."
    if "article" in args:
        article = kb.articles.get(args["article"])
        if article is None:
            problems["article"] = f"There is no article “{args['article']}”: choose one below."
    if problems:
        return problem_page(problems, kb)
    page = args["page"]
    results = None
    if query:
        results = kb.search(
            query,
            limit=PER_PAGE,
            offset=(page - 1) * PER_PAGE,
            topic=topic.id if topic else None,
            article=article.slug if article else None,
        )
        metrics.record_search(results.total)
        if results.notices:
            metrics.record_crisis_notice()
    elif topic is not None or article is not None:
        results = browse(kb, topic, article, page)
    lists = browse_lists(kb) if results is None or results.total == 0 else {}
    view = ResultsPage(
        query=query, results=results, page=page, topic=topic, article=article, **lists
    )
    html = render_template("search.html", page=view, header_search=False)
    return private(current_app.make_response(html))


@bp.errorhandler(BadRequest)
@bp.errorhandler(RequestURITooLarge)
def refused_search(exc):
    """A query string refused before the view runs (not UTF-8: 400; longer than
    KB_MAX_URL_LENGTH: 414) is, on the results page, a page saying so; elsewhere the
    usual error body."""
    if request.endpoint != "pages.search":
        return handle_http_exception(exc)
    if isinstance(exc, RequestURITooLarge):
        problem = "Your search is too long: please shorten it."
    else:
        problem = "Your search could not be read: please type it again."
    response = problem_page({"q": problem})
    response.status_code = exc.code
    return response


def problem_page(problems: dict[str, str], kb=None):
    """400: the search box with what is wrong next to it, topics and articles to browse,
    and the crisis notice for the raw query if it calls for one."""
    notices = crisis_notices_for_request()
    if notices:
        metrics.record_crisis_notice()
    lists = {}
    if kb is None:
        try:
            kb = get_kb()
        except ServiceUnavailable:
            kb = None
    if kb is not None:
        lists = browse_lists(kb)
    view = ResultsPage(query=raw_query(), problems=problems, notices=tuple(notices), **lists)
    html = render_template("search.html", page=view, header_search=False)
    response = current_app.make_response((html, 400))
    return private(response)


# -- for search engines ---------------------------------------------------------------------


@bp.get("/robots.txt")
def robots_txt():
    """Article pages may be crawled; results pages (people's queries) and the API not."""
    text = render_template("robots.txt", sitemap=schemas.external_url("pages.sitemap_xml"))
    return current_app.response_class(text, mimetype="text/plain")


@bp.get("/sitemap.xml")
def sitemap_xml():
    """Every article page, by its absolute URL, with the date it last changed."""
    articles = sorted(get_kb().articles.values(), key=lambda a: a.slug)
    xml = render_template("sitemap.xml", articles=articles)
    return current_app.response_class(xml, mimetype="application/xml")


@bp.get("/api/v1/docs")
def api_docs():
    """The API reference, rendered here from the OpenAPI document (kb.api.docs_page)."""
    from kb.api.docs_page import app_docs_context

    return render_template("api_docs.html", **app_docs_context(current_app))
