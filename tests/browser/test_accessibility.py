"""Automated accessibility checks with axe-core (vendored, see vendor/README.md)."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import AXE
from tests.browser.widget import MBT_ANCHOR, MBT_ARTICLE, MBT_TITLE, hits, open_widget

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

pytestmark = pytest.mark.browser

# axe is injected as an inline script, which kb's own strict CSP would (rightly) block.
AXE_CONTEXT = {"viewport": {"width": 1280, "height": 900}, "bypass_csp": True}


def run_axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
    }""")
    for violation in result:  # shown with -s or on failure, minor ones included
        print("axe:", json.dumps(violation)[:500])
    return result


def serious(violations):
    return [v for v in violations if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("context_options", [AXE_CONTEXT], ids=["bypass-csp"])
@pytest.mark.parametrize("query", ["mentalization", "I want to hurt myself", "xyzzyqq"])
def test_demo_page_with_results_open_has_no_serious_violations(page, kb_url, query):
    box = open_widget(page, kb_url + "/")
    box.fill(query)
    if query == "xyzzyqq":
        expect(page.locator("kb-search .kb-status")).to_have_text("No sections found")
    else:
        expect(hits(page).first).to_be_visible()
        box.press("ArrowDown")
        expect(box).to_have_attribute("aria-expanded", "true")
    assert serious(run_axe(page)) == []


@pytest.mark.parametrize("context_options", [AXE_CONTEXT], ids=["bypass-csp"])
def test_article_page_has_no_serious_violations(page, kb_url):
    page.goto(f"{kb_url}/articles/{MBT_ARTICLE}#{MBT_ANCHOR}")
    assert serious(run_axe(page)) == []


def test_input_is_labelled_and_focus_is_visible(page, kb_url):
    box = open_widget(page, kb_url + "/")
    expect(page.get_by_role("combobox", name="Search the knowledge base")).to_be_visible()
    expect(box).to_have_attribute("aria-autocomplete", "list")
    # The first focusable element of the demo page is the site header's name, then the widget.
    page.keyboard.press("Tab")
    expect(page.get_by_role("banner").get_by_role("link")).to_be_focused()
    page.keyboard.press("Tab")
    expect(box).to_be_focused()
    outline = box.evaluate(
        "el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth"
    )
    assert outline == "solid 3px", outline
    box.fill("mentalization")
    expect(hits(page).first).to_contain_text(MBT_TITLE)
    # The count is announced through a polite live region.
    live = page.locator('kb-search [aria-live="polite"]')
    expect(live).to_have_text("1 section found")
    expect(live).to_have_attribute("role", "status")
    # The active option is visibly marked, not only by aria-selected.
    for _ in range(5):
        box.press("ArrowDown")
        if "kb-hit" in page.locator('kb-search [aria-selected="true"]').get_attribute("class"):
            break
    active = page.locator('kb-search [aria-selected="true"]')
    expect(active).to_have_css("border-top-color", "rgb(31, 95, 191)")
    # Results are not in the tab order: Tab leaves the widget, which closes the list.
    page.keyboard.press("Tab")
    expect(box).not_to_be_focused()
    expect(box).to_have_attribute("aria-expanded", "false")


@pytest.mark.parametrize(
    "context_options",
    [
        {"viewport": {"width": 360, "height": 740}, "bypass_csp": True},
    ],
    ids=["mobile-360"],
)
def test_demo_page_on_a_small_screen_has_no_serious_violations(page, kb_url):
    box = open_widget(page, kb_url + "/")
    box.fill("I want to hurt myself")
    expect(hits(page).first).to_be_visible()
    assert serious(run_axe(page)) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
