"""HTML pages kb serves itself: the demo page, one page per article, and the API docs."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from kb.api.render import render_markdown
from kb.api.state import get_kb
from kb.search import ArticleNotFound

bp = Blueprint("pages", __name__)

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
