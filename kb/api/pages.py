"""HTML pages kb serves itself: the demo page, one page per article, and the API docs."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, send_from_directory

from kb.api.render import render_markdown
from kb.api.state import get_kb
from kb.errors import ArticleNotFound

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


@bp.after_request
def strict_headers(response):
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@bp.get("/")
def index():
    """The demo page: the widget embedded exactly as a clinic would, with the instructions."""
    try:
        articles = sorted(get_kb().articles.values(), key=lambda a: a.title.lower())
    except Exception:  # no usable index yet: the page still explains the widget
        current_app.logger.warning("demo page rendered without an index", exc_info=True)
        articles = []
    return render_template("index.html", articles=articles)


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
    kb = get_kb()
    try:
        article = kb.get_article(slug)
    except ArticleNotFound:
        abort(404, description=f"no article {slug!r}")
    sections = [(s, render_markdown(s.text)) for s in article.sections]
    return render_template("article.html", article=article, sections=sections)


@bp.get("/api/v1/docs")
def api_docs():
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return render_template("api_docs.html", spec=spec)
