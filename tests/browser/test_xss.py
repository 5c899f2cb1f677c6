"""Markup in the corpus and in queries is shown as text, never run: a corpus of its own."""

from __future__ import annotations

import pytest

from kb.api import create_app
from kb.corpus import load_corpus
from kb.index import build_index
from tests.browser.widget import hits, open_widget, shadow_eval, status
from tests.helpers import serve_app, write_article

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

pytestmark = pytest.mark.browser

PAYLOAD = '<img src=x onerror="window.__xss=1">'
QUERY = "<img src=x onerror=window.__xss=1>"
TITLE = 'Tricky <script>window.__xss=2</script> & "quoted" article'


@pytest.fixture(scope="module")
def xss_kb_url(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("xss-corpus")
    write_article(
        corpus,
        "tricky.md",
        "An introduction that talks about markup.\n\n"
        f"## Images {PAYLOAD} in headings\n\n"
        f"Some pages paste raw HTML such as {PAYLOAD} into their text, "
        "and an onerror handler must never run. Also &amp; and &lt;b&gt; stay literal.\n",
        title=TITLE,
        slug="tricky",
    )
    index = tmp_path_factory.mktemp("xss-index")
    build_index(load_corpus(corpus), index)
    yield from serve_app(create_app({"KB_INDEX_DIR": str(index), "KB_RATE_LIMIT": ""}))


def test_markup_in_corpus_and_query_is_only_text(page, xss_kb_url):
    box = open_widget(page, xss_kb_url + "/")
    box.fill(QUERY)
    hit = hits(page).filter(has_text="onerror").first
    expect(hit).to_be_visible()
    snippet = hit.locator(".kb-snippet")
    expect(snippet).to_contain_text("onerror")
    # The payload's words are highlighted, and the markup is shown literally.
    text = snippet.inner_text()
    # (kb's snippets drop Markdown emphasis markers, so "__" goes: that is the server's doing.)
    assert '<img src=x onerror="window.' in text, text
    assert hit.locator("mark").count() >= 2
    expect(hit.locator(".kb-hit-title")).to_contain_text("<img src=x")
    expect(hit.locator(".kb-hit-meta")).to_have_text(TITLE)
    # The source's entities are read once, as CommonMark says (kb.markdown): "&amp;" is an
    # ampersand, "&lt;b&gt;" the text "<b>", shown as text and never a tag (counted below).
    assert "Also & and <b> stay literal" in text
    counts = shadow_eval(
        page,
        """root => ({
        img: root.querySelectorAll('img').length,
        script: root.querySelectorAll('script').length,
        handlers: [...root.querySelectorAll('*')].filter(el =>
            [...el.attributes].some(a => a.name.startsWith('on'))).length})""",
    )
    assert counts == {"img": 0, "script": 0, "handlers": 0}, counts
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss") is None
    # The query box keeps the query as typed; nothing ran.
    expect(box).to_have_value(QUERY)


def test_article_page_shows_markup_as_text(page, xss_kb_url):
    box = open_widget(page, xss_kb_url + "/")
    box.fill("onerror handler")
    expect(status(page)).not_to_have_text("Searching…")
    hit = hits(page).first
    expect(hit).to_be_visible()
    href = hit.get_attribute("href")
    assert href.startswith(xss_kb_url + "/articles/tricky#"), href
    hit.click()
    page.wait_for_url(href)
    anchor = href.split("#", 1)[1]
    expect(page.locator(f'[id="{anchor}"]')).to_have_count(1)
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator("article")).to_contain_text(PAYLOAD)
    assert page.evaluate("document.querySelectorAll('article img, article script').length") == 0
    assert page.evaluate("window.__xss") is None
