"""The widget on other sites: a second origin kb allows, one it refuses, hostile CSS, small
screens and zoom. Screenshots land in tests/artifacts/."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.widget import (
    MBT_ANCHOR,
    MBT_ARTICLE,
    MBT_TITLE,
    TELEHEALTH_TITLE,
    hits,
    open_widget,
    shadow_eval,
    status,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

pytestmark = pytest.mark.browser


def origin(url: str) -> str:
    return "/".join(url.split("/")[:3])


def test_embedded_on_an_allowed_origin(page, kb_url, second_origin):
    box = open_widget(page, second_origin + "/embed")
    expect(box).to_have_attribute("placeholder", "Search our articles")
    # Rendered right after its script tag.
    assert (
        page.evaluate(
            "() => document.querySelector('script[src$=\"kb-search.js\"]')"
            ".nextElementSibling.localName"
        )
        == "kb-search"
    )
    box.fill("telehealth")
    expect(hits(page).filter(has_text=TELEHEALTH_TITLE)).to_have_count(1)
    expect(status(page)).to_have_text("1 section found")  # heading and text now together
    # Default links: the hit's url resolved against the API base, i.e. kb's article pages.
    for href in hits(page).evaluate_all("els => els.map(e => e.href)"):
        assert href.startswith(kb_url + "/articles/"), href
    # Under the host's strict CSP: no violation, no request to any host but the page and kb.
    assert page.evaluate("window.__csp") == []
    assert {origin(u) for u in page.problems.requests} <= {second_origin, kb_url}
    assert page.url == second_origin + "/embed"
    expect(page.locator("#after")).to_be_visible()


def test_target_element_link_template_and_labels(page, kb_url, second_origin):
    box = open_widget(page, second_origin + "/target")
    assert page.evaluate("() => document.querySelector('#search-here > kb-search') !== null")
    expect(page.get_by_label("Search the clinic library")).to_be_visible()
    box.fill("mentalization")
    hit = hits(page).first
    expect(hit).to_have_attribute(
        "href", f"https://clinic.example/articles/{MBT_ARTICLE}#{MBT_ANCHOR}"
    )
    expect(hits(page)).to_have_count(1)  # data-kb-limit="1"
    box.fill("therapy")
    expect(status(page)).to_have_text(re.compile(r"^\d+ pages$"))
    expect(hits(page)).to_have_count(1)
    box.fill("xyzzyqq")
    expect(status(page)).to_have_text("Nothing here")
    assert page.evaluate("window.__csp") == []


def test_the_clinics_own_results_page(page, kb_url, second_origin):
    """data-kb-results: the form, "Show all" and the empty state's links go to the clinic's
    page, keeping its own parameters (a GET form would drop the action's query string)."""
    box = open_widget(page, second_origin + "/own-results")  # data-kb-results="/find?lang=en"
    form = page.locator("kb-search form")
    expect(form).to_have_attribute("action", second_origin + "/find?lang=en")
    box.fill("therapy")
    expect(hits(page)).to_have_count(2)  # data-kb-limit="2"
    expect(page.locator("kb-search .kb-all")).to_have_attribute(
        "href", second_origin + "/find?lang=en&q=therapy"
    )
    box.fill("xyzzyqq")
    expect(
        page.locator("kb-search").get_by_role("link", name="Browse all articles")
    ).to_have_attribute("href", second_origin + "/find?lang=en")
    box.fill("therapy")
    expect(hits(page)).to_have_count(2)
    box.press("Enter")
    page.wait_for_url(second_origin + "/find?lang=en&q=therapy")


def test_refused_origin_shows_unavailable(page, kb_url, third_origin):
    box = open_widget(page, third_origin + "/refused")
    box.fill("telehealth")
    expect(status(page)).to_have_text("Search is unavailable")
    expect(hits(page)).to_have_count(0)
    # The host page is unharmed: its own script after the widget ran, no uncaught error.
    assert page.evaluate("window.__hostAlive") is True
    expect(page.locator("#after")).to_be_visible()
    assert page.problems.errors == []


def test_hostile_host_css_neither_breaks_nor_leaks(page, kb_url, second_origin, artifacts):
    box = open_widget(page, second_origin + "/hostile")
    widget = page.locator("kb-search")
    expect(widget).to_be_visible()
    box.fill("mentalization")
    hit = hits(page).first
    expect(hit).to_contain_text(MBT_TITLE)
    style = shadow_eval(
        page,
        """root => {
        const input = root.querySelector('input'), mark = root.querySelector('mark');
        const cs = getComputedStyle(input), ms = getComputedStyle(mark);
        return {fontSize: cs.fontSize, color: cs.color, border: cs.borderTopStyle,
                markDisplay: ms.display, markWidth: mark.getBoundingClientRect().width,
                transform: getComputedStyle(root.querySelector('.kb')).textTransform,
                hostDisplay: getComputedStyle(root.host).display,
                hostLeft: root.host.getBoundingClientRect().left};
    }""",
    )
    assert style["fontSize"] == "16.8px", style
    assert style["color"] != "rgb(255, 0, 0)", style
    assert style["border"] == "solid", style
    assert style["markDisplay"] == "inline" and style["markWidth"] > 0, style
    assert style["transform"] == "none", style
    assert style["hostDisplay"] == "block" and style["hostLeft"] >= 0, style
    expect(hit.locator(".kb-hit-title")).to_have_css("color", "rgb(31, 95, 191)")
    # Nothing leaks out: the host's own elements keep the host's styles.
    probe = page.evaluate("""() => {
        const p = getComputedStyle(document.querySelector('.host-probe'));
        const i = getComputedStyle(document.querySelector('.host-input'));
        const m = getComputedStyle(document.querySelector('.host-mark'));
        return {probeBorder: p.borderTopStyle, inputSize: i.fontSize, markDisplay: m.display};
    }""")
    assert probe == {"probeBorder": "none", "inputSize": "40px", "markDisplay": "none"}, probe
    page.screenshot(path=str(artifacts / "widget-hostile-css.png"), full_page=True)


def shoot_widget(page, path, margin=12):
    """A screenshot of the widget with a margin, so its focus ring is not cut off."""
    box = page.locator("kb-search").bounding_box()
    page.screenshot(
        path=str(path),
        full_page=True,
        clip={
            "x": max(0, box["x"] - margin),
            "y": max(0, box["y"] - margin),
            "width": box["width"] + 2 * margin,
            "height": box["height"] + 2 * margin,
        },
    )


def assert_no_horizontal_overflow(page):
    layout = page.evaluate("""() => {
        const host = document.querySelector('kb-search');
        const root = host.shadowRoot;
        const width = document.documentElement.clientWidth;
        const over = [...root.querySelectorAll('*')].filter(el => {
            const r = el.getBoundingClientRect();
            return r.width > 0 && (r.right > width + 0.5 || r.left < -0.5);
        }).map(el => el.className || el.localName);
        return {width, scroll: document.documentElement.scrollWidth,
                hostScroll: host.scrollWidth, hostClient: host.clientWidth, over};
    }""")
    assert layout["over"] == [], layout
    assert layout["scroll"] <= layout["width"], layout
    assert layout["hostScroll"] <= layout["hostClient"], layout


@pytest.mark.parametrize(
    "context_options",
    [
        {"viewport": {"width": 1280, "height": 900}},
    ],
    ids=["desktop-1280"],
)
def test_desktop_screenshot(page, kb_url, artifacts):
    box = open_widget(page, kb_url + "/")
    box.fill("mentalization")
    expect(hits(page).first).to_contain_text(MBT_TITLE)
    box.press("ArrowDown")
    assert_no_horizontal_overflow(page)
    shoot_widget(page, artifacts / "widget-desktop-1280.png")
    box.fill("I want to hurt myself")
    expect(page.locator("kb-search [role=alert]")).to_be_visible()
    page.screenshot(path=str(artifacts / "widget-crisis-1280.png"))


@pytest.mark.parametrize(
    "context_options",
    [
        {
            "viewport": {"width": 360, "height": 740},
            "is_mobile": True,
            "has_touch": True,
            "device_scale_factor": 2,
        },
        # A 1280 px window at 200% zoom lays out 640 CSS px wide at twice the pixel density.
        {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2},
    ],
    ids=["mobile-360", "zoom-200"],
)
def test_small_screens_and_zoom_do_not_scroll_sideways(
    page, kb_url, second_origin, artifacts, context_options
):
    name = "mobile-360" if context_options["viewport"]["width"] == 360 else "zoom-200"
    box = open_widget(page, second_origin + "/embed")
    box.fill("I want to hurt myself")
    expect(page.locator("kb-search [role=alert]")).to_be_visible()
    expect(hits(page).first).to_be_visible()
    assert_no_horizontal_overflow(page)
    font = shadow_eval(page, "root => getComputedStyle(root.querySelector('.kb-snippet')).fontSize")
    assert float(font.rstrip("px")) >= 14, font
    page.screenshot(path=str(artifacts / f"widget-{name}.png"), full_page=True)


def test_css_zoom_200_percent(page, kb_url, artifacts):
    box = open_widget(page, kb_url + "/")
    page.evaluate("document.documentElement.style.zoom = '2'")  # CSSOM: allowed by the CSP
    box.fill("medicaton")
    expect(hits(page).first).to_be_visible()
    assert_no_horizontal_overflow(page)
    shoot_widget(page, artifacts / "widget-css-zoom-200.png")


def test_the_pinned_snippet_with_sri_loads_and_a_tampered_one_does_not(page, kb_url, second_origin):
    box = open_widget(page, second_origin + "/pinned")
    # Its <noscript> form stays inert while the script runs: one search box, the widget's.
    expect(page.locator("noscript")).to_have_count(1)
    expect(page.get_by_role("searchbox")).to_have_count(0)
    expect(page.get_by_role("combobox")).to_have_count(1)
    box.fill("telehealth")
    expect(hits(page).filter(has_text=TELEHEALTH_TITLE)).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "widget-pinned-sri.png"))
    tampered = page.context.new_page()
    tampered.goto(second_origin + "/tampered")
    tampered.wait_for_timeout(500)
    assert tampered.locator("kb-search").count() == 0  # the browser refused the script
