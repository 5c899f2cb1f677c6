"""kb's own HTML pages in a real browser: the results page without JavaScript, axe on the
results and article pages (no violation of any impact), no horizontal scrolling at 360 px,
the clinic's branding from another origin under the pages' CSP, and screenshots."""

from __future__ import annotations

import pytest

from kb.api import create_app
from tests.browser.conftest import CRISIS_RESOURCES
from tests.browser.test_accessibility import run_axe
from tests.helpers import serve_app

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

pytestmark = pytest.mark.browser

BPD = "bpd-treatment-in-real-sessions"
PSY = "psychotherapy-for-personality-disorders"
CRISIS_QUERY = "I want to hurt myself"
WIDTHS = [360, 1280]


def viewport(width: int) -> dict:
    return {"width": width, "height": 900 if width > 600 else 780}


# -- a clinic's branding, served from another origin -------------------------------------------

CLINIC_NAME = "Riverside Community Clinic"
LOGO_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" viewBox="0 0 40 40">
<rect width="40" height="40" rx="10" fill="#0b6e4f"/>
<path d="M20 9c-6 5-9 10-9 15a9 9 0 0 0 18 0c0-5-3-10-9-15z" fill="#e9f5ef"/>
<path d="M20 15v17" stroke="#0b6e4f" stroke-width="2.2" stroke-linecap="round"/></svg>"""
CLINIC_CSS = """:root { --kb-accent: #0b6e4f; }
.site-header { background: #eef6f2; border-bottom-color: #b9d9ca; }
.site-name { color: #0b3d2c; }
button:hover { background: #08533b; }
"""


def clinic_assets(environ, start_response):
    files = {
        "/logo.svg": ("image/svg+xml", LOGO_SVG),
        "/kb.css": ("text/css; charset=utf-8", CLINIC_CSS),
    }
    path = environ.get("PATH_INFO", "/")
    if path not in files:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    mimetype, body = files[path]
    start_response("200 OK", [("Content-Type", mimetype)])
    return [body.encode("utf-8")]


@pytest.fixture(scope="module")
def clinic_origin():
    yield from serve_app(clinic_assets)


@pytest.fixture(scope="module")
def branded_url(index_dir, clinic_origin):
    """kb with the clinic's name, home page, logo and stylesheet (all on the clinic's origin)."""
    app = create_app(
        {
            "KB_INDEX_DIR": str(index_dir),
            "KB_RATE_LIMIT": "",
            "KB_CRISIS_RESOURCES": CRISIS_RESOURCES,
            "KB_SITE_NAME": CLINIC_NAME,
            "KB_SITE_URL": clinic_origin + "/",
            "KB_SITE_LOGO": clinic_origin + "/logo.svg",
            "KB_SITE_STYLESHEET": clinic_origin + "/kb.css",
        }
    )
    yield from serve_app(app)


def new_page(browser, width: int, **options):
    context = browser.new_context(viewport=viewport(width), **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    return context, page


def no_horizontal_scroll(page, width: int) -> None:
    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= width, f"{page.url}: {scroll_width}px wide at {width}px"


# -- without JavaScript -----------------------------------------------------------------------


def test_the_results_page_works_without_javascript(browser, kb_url):
    context, page = new_page(browser, 1280, java_script_enabled=False)
    try:
        page.goto(kb_url + "/search")
        expect(page.locator("h1")).to_have_text("Search")
        box = page.get_by_label("Search the articles")
        box.fill("clients")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**/search?q=clients")
        expect(page.locator("h1")).to_have_text("Search results for “clients”")
        hits = page.locator("ol.results > li h3 a")
        expect(hits).to_have_count(10)
        expect(page.locator("ol.results > li")).to_have_count(2)  # two articles

        # The next page.
        page.get_by_role("link", name="Next page").click()
        page.wait_for_url("**/search?q=clients&page=2")
        expect(page.locator(".page-of")).to_have_text("Page 2 of 2")
        expect(hits).to_have_count(1)
        page.get_by_role("link", name="Previous page").click()
        page.wait_for_url("**/search?q=clients")

        # A facet: only one article's sections, and the filter can be removed.
        filters = page.get_by_role("region", name="Narrow the results")
        filters.get_by_role("link", name="Effective psychotherapeutic approaches").click()
        page.wait_for_url(f"**/search?q=clients&article={PSY}")
        expect(page.locator("ol.results > li")).to_have_count(1)
        for href in hits.evaluate_all("links => links.map(a => a.href)"):
            assert f"/articles/{PSY}#" in href
        filter_list = page.get_by_role("list", name="Filters")
        expect(filter_list).to_contain_text("Article: Effective psychotherapeutic approaches")

        # Open an article at its section.
        first = hits.first
        href = first.get_attribute("href")
        first.click()
        page.wait_for_url(href)
        expect(page.locator("h1")).to_have_text(
            "Effective psychotherapeutic approaches for treating personality disorders and "
            "improving interpersonal functioning"
        )
        anchor = href.split("#", 1)[1]
        expect(page.locator(f'section[id="{anchor}"]')).to_have_count(1)

        # Back to the results by the breadcrumb, then remove the filter.
        page.get_by_role("navigation", name="Breadcrumb").get_by_role(
            "link", name="Articles"
        ).click()
        page.wait_for_url(kb_url + "/search")
        expect(page.locator("h1")).to_have_text("Search")
        page.goto(f"{kb_url}/search?q=clients&article={PSY}")
        page.get_by_role("list", name="Filters").get_by_role("link", name="Remove").click()
        page.wait_for_url("**/search?q=clients")
        expect(page.locator("ol.results > li")).to_have_count(2)
    finally:
        context.close()


def test_topic_browse_and_the_crisis_notice_without_javascript(browser, kb_url):
    context, page = new_page(browser, 360, java_script_enabled=False)
    try:
        page.goto(kb_url + "/search")
        page.get_by_role("link", name="Dialectical behavior therapy").click()
        page.wait_for_url("**/search?topic=dbt")
        expect(page.locator("h1")).to_have_text("Browse: Dialectical behavior therapy")
        expect(page.locator("ol.results > li h3 a")).to_have_count(5)

        box = page.get_by_label("Search the articles")
        box.fill(CRISIS_QUERY)
        box.press("Enter")
        notice = page.get_by_role("region", name="If you are in danger now")
        expect(notice).to_be_visible()
        expect(notice.get_by_role("link", name="Call Clinic crisis line: 555-0100")).to_be_visible()
        # It comes before the heading and the results.
        top = notice.bounding_box()["y"]
        assert top < page.locator("h1").bounding_box()["y"]
        assert top < page.locator("ol.results").bounding_box()["y"]
    finally:
        context.close()


# -- accessibility and layout at 360 and 1280 px -----------------------------------------------

PAGES = {
    "results": "/search?q=clients",
    "results-page-2": "/search?q=clients&page=2",
    "crisis": "/search?q=I+want+to+hurt+myself",
    "empty-query": "/search",
    "no-hits": "/search?q=xyzzyqq",
    "topic": "/search?topic=dbt",
    "bad-parameter": "/search?q=dbt&topic=nope",
    "article": f"/articles/{BPD}",
    "not-found": "/articles/no-such-article",
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(PAGES))
def test_pages_have_no_axe_violations_and_fit_the_screen(browser, kb_url, name, width):
    # axe is injected as a script, which the pages' own CSP rightly blocks.
    context, page = new_page(browser, width, bypass_csp=True)
    try:
        page.goto(kb_url + PAGES[name])
        violations = run_axe(page)
        assert violations == [], [(v["id"], v["impact"], v["nodes"][:3]) for v in violations]
        no_horizontal_scroll(page, width)
        assert page.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_branded_article_page(browser, branded_url, clinic_origin, artifacts, width):
    """The clinic's logo and stylesheet load from its origin under the page's CSP (which
    names exactly that origin), the page passes axe, fits 360 px, and is photographed."""
    context, page = new_page(browser, width)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " e => (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    try:
        response = page.goto(f"{branded_url}/articles/{BPD}")
        csp = response.headers["content-security-policy"]
        assert f"img-src 'self' data: {clinic_origin}" in csp
        assert f"style-src 'self' {clinic_origin}" in csp
        logo = page.get_by_role("banner").get_by_role("img", name=CLINIC_NAME)
        expect(logo).to_be_visible()
        assert logo.evaluate("img => img.complete && img.naturalWidth > 0")
        brand = page.get_by_role("banner").get_by_role("link", name=CLINIC_NAME)
        assert brand.get_attribute("href") == clinic_origin + "/"
        header_bg = page.locator(".site-header").evaluate(
            "el => getComputedStyle(el).backgroundColor"
        )
        assert header_bg == "rgb(238, 246, 242)", "the clinic's stylesheet applies"
        crumbs = page.get_by_role("navigation", name="Breadcrumb")
        expect(crumbs.get_by_role("link", name="Home")).to_have_attribute(
            "href", clinic_origin + "/"
        )
        assert page.evaluate("window.__csp || []") == []
        no_horizontal_scroll(page, width)
        page.screenshot(path=str(artifacts / f"article-branded-{width}.png"), full_page=False)
    finally:
        context.close()
    context, page = new_page(browser, width, bypass_csp=True)
    try:
        page.goto(f"{branded_url}/articles/{BPD}")
        found = run_axe(page)
        assert found == [], [(v["id"], v["impact"], v["nodes"][:3]) for v in found]
    finally:
        context.close()


# -- screenshots ---------------------------------------------------------------------------------

SCREENSHOTS = [
    ("results-1280.png", "/search?q=clients", 1280),
    ("results-360.png", "/search?q=clients", 360),
    ("results-crisis-360.png", "/search?q=I+want+to+hurt+myself", 360),
    ("results-empty.png", "/search", 1280),
]


@pytest.mark.parametrize(
    ("filename", "path", "width"), SCREENSHOTS, ids=[s[0] for s in SCREENSHOTS]
)
def test_screenshots(browser, kb_url, artifacts, filename, path, width):
    context, page = new_page(browser, width)
    try:
        page.goto(kb_url + path)
        expect(page.locator("h1")).to_be_visible()
        no_horizontal_scroll(page, width)
        page.screenshot(path=str(artifacts / filename), full_page=True)
    finally:
        context.close()
