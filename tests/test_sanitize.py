"""Every HTML fragment kb emits from corpus text is sanitized (nh3): a hostile article of its own.

The article goes through the real path (`kb build`, then the API and the article page), and
every section's `html` and the page's <article> are checked for script, event handlers,
iframe/svg/style and javascript:, vbscript: and data: URLs, however they are spelled.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from kb.api import create_app
from kb.api.render import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render_markdown
from kb.cli import main

SLUG = "hostile"

# Link and image targets that must never come out as a usable URL.
HOSTILE_URLS = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "JaVaScRiPt:alert(1)",
    "   javascript:alert(1)",
    "jav&#x09;ascript:alert(1)",
    "jav&#9;ascript:alert(1)",
    "jav&#x0A;ascript:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)",
    "javascript&colon;alert(1)",
    "jav\tascript:alert(1)",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:text/html,<script>alert(1)</script>",
    " data:image/svg+xml,<svg onload=alert(1)>",
]

EXTERNAL = "https://example.org/guide?a=1&b=2"
RELATIVE = "/articles/hostile#benign-markdown"
FRAGMENT = "#links"

FRONT_MATTER = f"""---
title: A Hostile Article <script>window.__xss=1</script>
slug: {SLUG}
source: hostile.txt
summary: An article whose links, images and raw HTML try to run script.
---
"""

BODY = (
    "An introduction with [a script link](javascript:alert(1)) and raw "
    "<script>alert(1)</script> and <img src=x onerror=alert(1)> in it.\n\n"
    "## Links\n\n"
    + "".join(f"- [link {i}]({url})\n" for i, url in enumerate(HOSTILE_URLS))
    + "- [angle destination](<javascript:alert(1)>)\n"
    '- [title breakout](https://example.org/t "a" onclick="alert(1)")\n'
    "- autolinks: <javascript:alert(1)> <vbscript:msgbox(1)> <data:text/html,x> "
    "<https://example.org/auto>\n"
    f"- [an external guide]({EXTERNAL})\n"
    f"- [back to the benign part]({RELATIVE})\n"
    f"- [this section]({FRAGMENT})\n"
    "- [write to us](mailto:clinic@example.org)\n\n"
    "## Images\n\n"
    + "".join(f"![image {i}]({url})\n" for i, url in enumerate(HOSTILE_URLS))
    + "\n![a local picture](/static/picture.png)\n\n"
    "## Raw <svg onload=alert(1)> HTML\n\n"
    '<iframe src="javascript:alert(1)"></iframe>\n\n'
    "<svg onload=alert(1)><circle r=5 /></svg>\n\n"
    '<p style="background:url(javascript:alert(1))" onmouseover="alert(1)">styled</p>\n\n'
    "<style>body { display: none }</style>\n\n"
    '<a href="javascript:alert(1)">raw anchor</a> <object data="data:text/html,x"></object>\n\n'
    "## References\n\n"
    "A [reference link][evil], [another][evil-upper], [a third][evil-vb], "
    "[a fourth][evil-angle] and ![a reference image][evil-data].\n\n"
    "[evil]: javascript:alert(1)\n"
    '[evil-upper]: JAVASCRIPT:alert(1) "a title"\n'
    "[evil-vb]: vbscript:msgbox(1)\n"
    "[evil-angle]: <javascript:alert(1)>\n"
    "[evil-data]: data:image/png;base64,iVBORw0KGgo=\n\n"
    "## Benign Markdown\n\n"
    "Some *emphasis*, some **strong words** and `code`.\n\n"
    "- first item\n"
    "- second item\n\n"
    "1. step one\n"
    "2. step two\n\n"
    "> A quoted line.\n\n"
    "Read [the NHS page](https://www.nhs.uk/mental-health/) for more.\n"
)

BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
FORBIDDEN_TAGS = {"script", "iframe", "svg", "style", "object", "embed", "math", "form"}


class Elements(HTMLParser):
    """Every start tag in a fragment, as (tag, {attribute: value}), values entity-decoded."""

    def __init__(self, fragment: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def decoded_url(url: str) -> str:
    """A URL attribute decoded more than any browser would, for good measure: entities
    decoded until they settle, every whitespace, control and invisible character removed,
    lower-cased."""
    previous = None
    while url != previous:
        previous, url = url, html.unescape(url)
    return re.sub(r"[\s\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2060\ufeff]", "", url).lower()


def assert_safe(fragment: str, where: str) -> list[tuple[str, dict[str, str | None]]]:
    lowered = fragment.lower()
    for tag in FORBIDDEN_TAGS:
        assert f"<{tag}" not in lowered, (where, tag, fragment)
    # In every tag as serialized (text may show the payloads as text, tags may not carry them).
    for tag_text in re.findall(r"<[^>]*>", fragment):
        tag_text = re.sub(r'"[^"]*"', '""', tag_text)  # names only, not quoted values
        assert not re.search(r"\son[a-z]+\s*=", tag_text, re.I), (where, tag_text)
        assert not re.search(r"\sstyle\s*=", tag_text, re.I), (where, tag_text)
    elements = Elements(fragment).elements
    for tag, attrs in elements:
        assert tag not in FORBIDDEN_TAGS, (where, tag)
        for name, value in attrs.items():
            assert not name.startswith("on"), (where, tag, name)
            assert name != "style", (where, tag)
            if name in {"title", "alt"} or value is None:
                continue  # text for people, never a URL
            url = decoded_url(value)
            for scheme in BAD_SCHEMES:
                assert scheme not in url, (where, tag, name, value)
            if name in {"href", "src"}:
                scheme = re.match(r"[a-z][a-z0-9+.\-]*:", url)
                allowed = {"http:", "https:", "mailto:"}
                assert scheme is None or scheme.group() in allowed, (where, tag, value)
    return elements


def links(elements) -> dict[str, dict[str, str | None]]:
    return {attrs["href"]: attrs for tag, attrs in elements if tag == "a" and "href" in attrs}


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("hostile-corpus")
    (corpus / f"{SLUG}.md").write_text(FRONT_MATTER + "\n" + BODY, encoding="utf-8")
    index = tmp_path_factory.mktemp("hostile-index")
    result = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--index", str(index)])
    assert result.exit_code == 0, result.output
    app = create_app({"TESTING": True, "KB_INDEX_DIR": str(index), "KB_RATE_LIMIT": ""})
    return app.test_client()


@pytest.fixture(scope="module")
def section_html(hostile_client) -> dict[str, str]:
    """The API's `html` for every section of the hostile article, by anchor."""
    article = hostile_client.get(f"/api/v1/articles/{SLUG}").get_json()
    out = {}
    for entry in article["toc"]:
        response = hostile_client.get(f"/api/v1/sections/{entry['id']}")
        assert response.status_code == 200, response.get_data(as_text=True)
        out[entry["anchor"]] = response.get_json()["html"]
    return out


@pytest.fixture(scope="module")
def article_html(hostile_client) -> str:
    """The <article> element of kb's page for the hostile article."""
    response = hostile_client.get(f"/articles/{SLUG}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    match = re.search(r"<article>.*</article>", page, re.S)
    assert match, page
    return match.group()


def test_every_section_of_the_hostile_article_is_present(section_html):
    assert set(section_html) == {
        "introduction",
        "links",
        "images",
        "raw-svg-onload-alert-1-html",
        "references",
        "benign-markdown",
    }, sorted(section_html)


def test_api_html_of_every_section_is_safe(section_html):
    for anchor, fragment in section_html.items():
        elements = assert_safe(fragment, anchor)
        # Only what Markdown rendering produces.
        for tag, attrs in elements:
            assert tag in ALLOWED_TAGS, (anchor, tag)
            allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
            assert set(attrs) <= allowed, (anchor, tag, attrs)


def test_article_page_is_safe(article_html):
    assert_safe(article_html, "article page")


def test_hostile_links_and_images_lose_their_urls(section_html):
    elements = Elements(section_html["links"]).elements
    anchors = [attrs for tag, attrs in elements if tag == "a"]
    # A hostile link is either no link at all (CommonMark refuses javascript:, vbscript:
    # and data: destinations, so the Markdown stays text) or a link without its href.
    safe = {EXTERNAL, RELATIVE, FRAGMENT, "mailto:clinic@example.org", "https://example.org/auto"}
    assert [a["href"] for a in anchors if "href" in a and a["href"] not in safe] == []
    images = [attrs for tag, attrs in Elements(section_html["images"]).elements if tag == "img"]
    # A hostile image is no image (the Markdown stays text) or an image without its src.
    assert all("src" not in img for img in images[:-1]), images
    assert images[-1] == {"alt": "a local picture", "src": "/static/picture.png"}
    references = Elements(section_html["references"]).elements
    assert all("href" not in a for tag, a in references if tag == "a")
    assert all("src" not in a for tag, a in references if tag == "img")


@pytest.mark.parametrize("fragment_of", ["api", "page"])
def test_external_links_get_rel_and_relative_links_survive(fragment_of, section_html, article_html):
    fragment = "\n".join(section_html.values()) if fragment_of == "api" else article_html
    found = links(Elements(fragment).elements)
    assert found[EXTERNAL]["rel"] == "noopener noreferrer"
    assert found["https://example.org/auto"]["rel"] == "noopener noreferrer"  # an autolink
    assert found["https://www.nhs.uk/mental-health/"]["rel"] == "noopener noreferrer"
    assert RELATIVE in found and FRAGMENT in found  # kept exactly as written
    assert "mailto:clinic@example.org" in found
    # The title breakout is no link at all (CommonMark: junk after the title), only text.
    assert "https://example.org/t" not in found
    assert "onclick" not in fragment.replace("onclick=&quot;", "").replace('onclick="alert', "")


def test_raw_html_is_still_shown_as_text(section_html, article_html):
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section_html["introduction"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in section_html["introduction"]
    raw = section_html["raw-svg-onload-alert-1-html"]
    assert "&lt;iframe" in raw and "&lt;svg onload=alert(1)&gt;" in raw
    assert "&lt;style&gt;" in raw and "&lt;a href=" in raw
    # An autolink to a hostile scheme is shown as text (CommonMark refuses to link it).
    assert "&lt;javascript:alert(1)&gt;" in section_html["links"]
    assert "Raw &lt;svg onload=alert(1)&gt; HTML" in article_html  # the heading
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in article_html  # the title


def test_benign_markdown_still_renders(section_html, article_html):
    benign = section_html["benign-markdown"]
    for fragment in (benign, article_html):
        assert "<em>emphasis</em>" in fragment
        assert "<strong>strong words</strong>" in fragment
        assert "<code>code</code>" in fragment
        assert "<ul>\n<li>first item</li>\n<li>second item</li>\n</ul>" in fragment
        assert "<ol>\n<li>step one</li>\n<li>step two</li>\n</ol>" in fragment
        assert "<blockquote>" in fragment
        assert (
            '<a href="https://www.nhs.uk/mental-health/" rel="noopener noreferrer">the NHS page</a>'
            in fragment
        )


@pytest.mark.parametrize("url", HOSTILE_URLS + ["<javascript:alert(1)>"])
@pytest.mark.parametrize("template", ["[x]({url})", "![x]({url})", "[x][r]\n\n[r]: {url}\n"])
def test_render_markdown_refuses_every_spelling(template, url):
    fragment = render_markdown(template.format(url=url))
    elements = assert_safe(fragment, repr(url))
    kept = [set(attrs) - {"alt", "rel"} for tag, attrs in elements if tag in {"a", "img"}]
    # Either the link or image is there without its URL, or (CommonMark refuses these
    # destinations) there is no link at all and the Markdown stays text.
    assert kept in ([set()], []), fragment


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "[a](https://example.org/x)",
            '<a href="https://example.org/x" rel="noopener noreferrer">',
        ),
        ("[a](HTTP://EXAMPLE.ORG)", '<a href="HTTP://EXAMPLE.ORG" rel="noopener noreferrer">'),
        ("[a](mailto:a@example.org)", '<a href="mailto:a@example.org" rel="noopener noreferrer">'),
        ("[a](other-article#part)", '<a href="other-article#part" rel="noopener noreferrer">'),
        ("[a](../up/a:b)", '<a href="../up/a:b" rel="noopener noreferrer">'),
        ("![a](/static/x.png)", '<img src="/static/x.png" alt="a">'),
        ("3. three\n4. four\n", '<ol start="3">'),
    ],
)
def test_render_markdown_keeps_allowed_urls(text, expected):
    assert expected in render_markdown(text)
