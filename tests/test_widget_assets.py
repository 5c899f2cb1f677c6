"""The embeddable widget's files and the pages kb serves itself, without a browser."""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kb.api.pages import CONTENT_SECURITY_POLICY

WIDGET = Path(__file__).resolve().parent.parent / "kb" / "static" / "widget"
MAX_GZIPPED_BYTES = 10 * 1024
URL_RE = re.compile(r"""https?://[^\s"'`)<>]+""")


@pytest.mark.parametrize(
    "name, mimetype",
    [
        ("kb-search.js", "text/javascript"),
        ("kb-search.css", "text/css"),
    ],
)
def test_widget_files_are_served_with_type_and_caching(client, name, mimetype):
    response = client.get(f"/widget/{name}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.mimetype_params.get("charset") == "utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    max_age = int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"]).group(1))
    assert max_age >= 3600
    assert "public" in response.headers["Cache-Control"]
    assert response.get_data() == (WIDGET / name).read_bytes()
    # Revalidation is cheap once the cache expires.
    again = client.get(f"/widget/{name}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/widget/missing.js",
        "/widget/README.md",
        "/widget/../pages.py",
        "/widget/%2e%2e/kb-pages.css",
    ],
)
def test_only_widget_files_are_served(client, path):
    assert client.get(path).status_code == 404


def test_script_and_stylesheet_together_are_at_most_10_kb_gzipped():
    """The whole widget, as a clinic's visitor downloads it: both files, each gzipped."""
    sizes = {}
    for name in ("kb-search.js", "kb-search.css"):
        raw = (WIDGET / name).read_bytes()
        sizes[name] = len(gzip.compress(raw, compresslevel=9))
        print(f"{name}: {len(raw)} bytes, {sizes[name]} bytes gzipped")
    print(f"together: {sum(sizes.values())} bytes gzipped")
    assert sum(sizes.values()) <= MAX_GZIPPED_BYTES, sizes


@pytest.mark.parametrize("name", ["kb-search.js", "kb-search.css"])
def test_widget_names_no_other_host(name):
    text = (WIDGET / name).read_text(encoding="utf-8")
    assert URL_RE.findall(text) == []
    assert "@import" not in text
    assert "url(" not in text  # no font, image or other asset from anywhere


class FormCollector(HTMLParser):
    """The <noscript> of a page or snippet: its tags (with attributes) and text."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.tags: list[tuple[str, dict]] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        if tag == "noscript":
            self.depth += 1
        elif self.depth:
            self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "noscript":
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text += data


def assert_plain_search_form(html: str, action: str):
    """A labelled GET form to `action` with a q box and a submit button, without style."""
    form = FormCollector()
    form.feed(html)
    names = [tag for tag, _ in form.tags]
    assert names == ["form", "label", "input", "button"], form.tags
    attrs = dict(form.tags)
    assert attrs["form"] == {"role": "search", "method": "get", "action": action}
    assert attrs["input"] == {"type": "search", "name": "q"}  # inside its <label>
    assert attrs["button"] == {"type": "submit"}
    assert "Search the knowledge base" in form.text and "Search" in form.text
    assert all("style" not in a and "class" not in a for _, a in form.tags)


def test_script_builds_dom_without_html_and_keeps_nothing():
    js = (WIDGET / "kb-search.js").read_text(encoding="utf-8")
    for forbidden in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "localStorage",
        "sessionStorage",
        "document.cookie",
        "indexedDB",
        "history.pushState",
        "location.hash =",
        ".style.",
    ):
        assert forbidden not in js, forbidden
    assert 'credentials: "omit"' in js
    assert "AbortController" in js
    assert 'role: "combobox"' in js and '"aria-activedescendant"' in js
    # Its CSS arrives as a <link> to kb-search.css in the shadow root, which a host's
    # `style-src <kb>` allows: never a <style> element or a style attribute, which a strict
    # CSP without 'unsafe-inline' would block.
    assert 'h("link", { rel: "stylesheet"' in js
    for inline in ('"style"', "<style", "cssText", "insertRule", "adoptedStyleSheets"):
        assert inline not in js, inline


class AssetCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.style_attrs = 0
        self.style_tags = 0
        self.pre = ""
        self._in_pre = False
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if attrs.get(name):
                self.urls.append(attrs[name])
        if "style" in attrs:
            self.style_attrs += 1
        if tag == "style":
            self.style_tags += 1
        if tag == "script":
            self._in_script = True
            # JSON-LD is data a browser never runs (a CSP does not apply to it).
            if not attrs.get("src") and attrs.get("type") != "application/ld+json":
                self.inline_scripts += 1
        if tag == "pre":
            self._in_pre = True

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_pre = False
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_pre:
            self.pre += data


def collect(response) -> AssetCollector:
    parser = AssetCollector()
    parser.feed(response.get_data(as_text=True))
    return parser


def test_demo_page_embeds_the_widget_under_a_strict_csp(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    page = collect(response)
    assert page.inline_scripts == 0 and page.style_attrs == 0 and page.style_tags == 0
    for url in page.urls:  # only kb's own files, no third-party host
        assert url.startswith(("/", "data:")) and not url.startswith("//"), url
    assert "/widget/kb-search.js" in page.urls
    # The copy-paste snippet is shown escaped, as text, with the absolute script URL.
    assert '<script src="http://localhost/widget/kb-search.js"' in page.pre
    assert 'data-kb-api="http://localhost"' in page.pre
    assert "&lt;script" in response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    for option in (
        "data-kb-api",
        "data-kb-placeholder",
        "data-kb-limit",
        "data-kb-link",
        "data-kb-lang",
        "data-kb-label-",
        "data-kb-target",
        "data-kb-results",
        "data-kb-theme",
        "data-kb-timeout",
        "--kb-accent",
        "--kb-dark-",
    ):
        assert option in html, option


def test_demo_page_has_a_search_form_without_javascript_and_shows_the_noscript_snippet(client):
    html = client.get("/").get_data(as_text=True)
    # Its own form, to kb's results page (the copy-paste snippet below it is only text).
    assert_plain_search_form(html, "/search")
    shown = collect(client.get("/")).pre
    assert "<noscript>" in shown and "</noscript>" in shown
    snippet = shown[shown.index("<noscript>") : shown.index("</noscript>") + len("</noscript>")]
    assert_plain_search_form(snippet, "http://localhost/search")


def test_demo_page_lists_the_articles(client, shipped_articles):
    html = client.get("/").get_data(as_text=True)
    for article in shipped_articles:
        assert f'href="/articles/{article.slug}"' in html


def test_article_page_anchors_are_the_api_anchors(client, shipped_articles):
    article = shipped_articles[0]
    response = client.get(f"/articles/{article.slug}")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = response.get_data(as_text=True)
    for section in article.sections:
        assert f'<section id="{section.anchor}"' in html
    hit = client.get("/api/v1/search", query_string={"q": "mentalization"}).get_json()["hits"][0]
    page = client.get(hit["url"].split("#")[0]).get_data(as_text=True)
    assert f'id="{hit["anchor"]}"' in page
    parsed = collect(response)
    assert parsed.inline_scripts == 0 and parsed.style_attrs == 0
    # Only kb's own files; the canonical link is the page's own absolute URL.
    own = ("/", "#", "data:", "http://localhost/")
    assert all(u.startswith(own) and not u.startswith("//") for u in parsed.urls)


def test_widget_files_are_package_data():
    """The wheel must ship kb/static/widget/*: pyproject's package-data has to name it."""
    import tomllib

    pyproject = tomllib.loads(
        (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    )
    patterns = pyproject["tool"]["setuptools"]["package-data"]["kb"]
    assert any(p in ("static/widget/*", "static/**/*", "static/**") for p in patterns), patterns


def test_versioned_widget_urls_and_cors(client):
    from kb import __version__

    exact = client.get(f"/widget/{__version__}/kb-search.js")
    assert exact.status_code == 200
    assert exact.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert exact.headers["Access-Control-Allow-Origin"] == "*"  # <script crossorigin> works
    major = client.get(f"/widget/v{__version__.split('.')[0]}/kb-search.css")
    assert major.status_code == 200 and major.headers["Cache-Control"] == "public, max-age=86400"
    assert client.get("/widget/9.9.9/kb-search.js").status_code == 404
    assert exact.get_data() == client.get("/widget/kb-search.js").get_data()


def test_widget_snippet_pins_the_served_bytes(client, runner):
    import base64
    import hashlib
    import re

    from kb.cli import main

    result = runner.invoke(main, ["widget-snippet", "--base-url", "https://kb.clinic.example/"])
    assert result.exit_code == 0, result.output
    src = re.search(r'src="https://kb\.clinic\.example(/widget/[^"]+)"', result.stdout).group(1)
    served = client.get(src).get_data()
    digest = base64.b64encode(hashlib.sha384(served).digest()).decode()
    assert f'integrity="sha384-{digest}"' in result.stdout
    assert 'crossorigin="anonymous"' in result.stdout
    assert 'data-kb-api="https://kb.clinic.example"' in result.stdout
    bad = runner.invoke(main, ["widget-snippet", "--base-url", "kb.clinic.example"])
    assert bad.exit_code == 2


def test_widget_snippet_ends_with_a_noscript_form(runner):
    from kb.cli import main

    out = runner.invoke(main, ["widget-snippet", "--base-url", "https://kb.clinic.example/"]).stdout
    # The script tag first, then the fallback, which works without any kb CSS.
    assert out.index("</script>") < out.index("<noscript>")
    assert out.rstrip().endswith("</noscript>")
    assert_plain_search_form(out, "https://kb.clinic.example/search")
    # A base URL is written as an attribute value, escaped.
    odd = runner.invoke(main, ["widget-snippet", "--base-url", 'https://kb.example/a"b&c']).stdout
    assert 'action="https://kb.example/a&quot;b&amp;c/search"' in odd
