"""The API reference page (/api/v1/docs) in Chromium: accessible, readable at 360 px, and
working under its own strict CSP with nothing loaded from elsewhere."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.test_accessibility import run_axe

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
# axe is injected as an inline script, which the page's CSP would (rightly) block.
AXE_OPTIONS = [{**PHONE, "bypass_csp": True}, {**DESKTOP, "bypass_csp": True}]


def screenshot_to(page, path, selector: str) -> None:
    """The top of the page down to the end of `selector` (the contents and one operation)."""
    box = page.locator(selector).bounding_box()
    scroll_top = page.evaluate("window.scrollY")
    height = box["y"] + scroll_top + box["height"] + 16
    width = page.viewport_size["width"]
    page.screenshot(
        path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height}
    )


@pytest.mark.parametrize("context_options", AXE_OPTIONS, ids=["mobile-360", "desktop-1280"])
def test_the_docs_page_has_no_accessibility_violations(page, kb_url, context_options):
    page.goto(kb_url + "/api/v1/docs")
    assert run_axe(page) == []  # of any impact, minor ones included


@pytest.mark.parametrize("context_options", [PHONE], ids=["mobile-360"])
def test_the_docs_page_fits_a_phone(page, kb_url, artifacts):
    page.goto(kb_url + "/api/v1/docs")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    # Long lines of code scroll inside their own box, which stays on the screen.
    blocks = page.locator("pre.code")
    assert blocks.count() >= 10
    widths = blocks.evaluate_all(
        "els => els.map(e => [e.scrollWidth, e.clientWidth, e.getBoundingClientRect().right])"
    )
    assert any(scroll > client for scroll, client, _ in widths)  # some do scroll
    assert all(right <= 360 for _, _, right in widths)
    # Parameters are stacked rows (name, then its description), not a squeezed table.
    field = page.locator("#getSearch .field").first
    dt, dd = field.locator("dt").bounding_box(), field.locator("dd").bounding_box()
    assert dd["y"] >= dt["y"] + dt["height"] - 1
    screenshot_to(page, artifacts / "docs-360.png", "#getSearch")


@pytest.mark.parametrize("context_options", [DESKTOP], ids=["desktop-1280"])
def test_the_docs_page_on_a_desktop(page, kb_url, artifacts):
    page.goto(kb_url + "/api/v1/docs")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 1280
    # Parameters sit beside their descriptions when there is room.
    field = page.locator("#getSearch .field").first
    dt, dd = field.locator("dt").bounding_box(), field.locator("dd").bounding_box()
    assert dd["x"] > dt["x"] + dt["width"] - 1
    screenshot_to(page, artifacts / "docs-1280.png", "#getSearch")


@pytest.mark.parametrize("context_options", [DESKTOP], ids=["desktop-1280"])
def test_the_docs_page_works_under_its_own_csp(page, kb_url):
    """Nothing is blocked, the stylesheet applies, and every request stays on kb's origin."""
    page.goto(kb_url + "/api/v1/docs")
    page.wait_for_load_state("load")
    assert page.evaluate("window.__csp") == []
    overflow = page.locator("#getSearch pre.code").first.evaluate(
        "el => getComputedStyle(el).overflowX"
    )
    assert overflow == "auto"  # kb-docs.css is loaded
    origin = urlsplit(kb_url).netloc
    for url in page.problems.requests:
        if not url.startswith("data:"):
            assert urlsplit(url).netloc == origin, url
    # The table of contents leads to each operation.
    page.locator(".toc a[href='#getTopic']").click()
    assert page.evaluate("location.hash") == "#getTopic"
    top = page.locator("#getTopic").bounding_box()["y"]
    assert 0 <= top < 60  # at the top of the window, with a little room above
