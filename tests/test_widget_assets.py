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


def test_script_is_under_10_kb_gzipped():
    raw = (WIDGET / "kb-search.js").read_bytes()
    size = len(gzip.compress(raw, compresslevel=9))
    print(f"kb-search.js: {len(raw)} bytes, {size} bytes gzipped")
    assert size < MAX_GZIPPED_BYTES


@pytest.mark.parametrize("name", ["kb-search.js", "kb-search.css"])
def test_widget_names_no_other_host(name):
    text = (WIDGET / name).read_text(encoding="utf-8")
    assert URL_RE.findall(text) == []
    assert "@import" not in text


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
            if not attrs.get("src"):
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
        "--kb-accent",
    ):
        assert option in html, option


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
    assert all(u.startswith(("/", "#", "data:")) and not u.startswith("//") for u in parsed.urls)


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
