"""The widget on kb's own demo page: searching, keyboard use, states, crisis notices, races.

Tests that land on kb's results page (GET /search, kb/api/pages.py) depend on it: they call
`expect_results_page` (Enter without a chosen result, "Show all", the empty state's links).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.widget import (
    MBT_ANCHOR,
    MBT_ARTICLE,
    MBT_TITLE,
    TELEHEALTH_TITLE,
    article_labels,
    expect_results_page,
    hits,
    open_widget,
    shadow_eval,
    status,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

pytestmark = pytest.mark.browser


def search_requests(page) -> list[str]:
    return [u for u in page.problems.requests if "/api/v1/search" in u]


def wait_until_held(page, held: list, n: int = 1):
    """The route handler runs a moment after the widget shows "Searching…": wait for it."""
    for _ in range(100):
        if len(held) >= n:
            break
        page.wait_for_timeout(20)
    assert len(held) == n, held


def test_typing_shows_the_mbt_section(page, kb_url):
    box = open_widget(page, kb_url + "/")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press_sequentially("mentalization", delay=20)

    expect(hits(page).first).to_contain_text(MBT_TITLE)
    expect(status(page)).to_have_text("1 section found")
    hit = hits(page).first
    expect(hit.locator(".kb-hit-meta")).to_contain_text(
        "How I Think About Borderline Personality Disorder Treatment in Real Sessions"
    )
    expect(hit.locator("mark").first).to_have_text(re.compile("mentalization", re.I))
    expect(hit).to_have_attribute("href", f"{kb_url}/articles/{MBT_ARTICLE}#{MBT_ANCHOR}")
    # The combobox owns a visible listbox of options, with suggestions from /suggest.
    expect(box).to_have_attribute("aria-expanded", "true")
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    assert box.get_attribute("aria-controls") == listbox.get_attribute("id")
    expect(page.locator("kb-search .kb-sug").first).to_be_visible()
    # Debounced: one search for the whole word typed quickly, not one per key.
    assert len(search_requests(page)) <= 2, search_requests(page)
    assert all(parse_qs(urlparse(u).query)["limit"] == ["5"] for u in search_requests(page))
    # The query stays out of the page's own URL.
    assert page.url == kb_url + "/"


def test_keyboard_navigation_follows_a_result_to_its_anchor(page, kb_url):
    box = open_widget(page, kb_url + "/")
    box.fill("mentalization")
    expect(hits(page).first).to_contain_text(MBT_TITLE)

    # ArrowDown walks the options (suggestions first, then sections) until a section is active.
    for _ in range(10):
        box.press("ArrowDown")
        active = box.get_attribute("aria-activedescendant")
        assert active, "ArrowDown must set aria-activedescendant"
        selected = page.locator(f'kb-search [id="{active}"]')
        expect(selected).to_have_attribute("aria-selected", "true")
        if "kb-hit" in (selected.get_attribute("class") or ""):
            break
    else:
        pytest.fail("no section became active")
    assert page.locator('kb-search [aria-selected="true"]').count() == 1
    # ArrowUp then ArrowDown comes back to the same option.
    box.press("ArrowUp")
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == active
    expect(selected).to_contain_text(MBT_TITLE)

    box.press("Enter")
    page.wait_for_url(f"**/articles/{MBT_ARTICLE}#{MBT_ANCHOR}")
    assert page.url.endswith("#" + MBT_ANCHOR)
    section = page.locator(f'[id="{MBT_ANCHOR}"]')
    expect(section).to_have_count(1)
    expect(section).to_contain_text("Mentalization-Based Therapy")
    # The article page keeps its strict CSP and loads nothing from elsewhere.
    assert all(u.startswith(kb_url) for u in page.problems.requests), page.problems.requests


def test_escape_closes_then_clears(page, kb_url):
    box = open_widget(page, kb_url + "/")
    box.fill("telehealth")
    expect(hits(page).first).to_be_visible()
    box.press("ArrowDown")
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    assert box.get_attribute("aria-activedescendant") is None
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(box).to_have_value("telehealth")
    box.press("ArrowDown")  # reopens
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("Escape")
    box.press("Escape")
    expect(box).to_have_value("")
    expect(status(page)).to_have_text("")
    expect(hits(page)).to_have_count(0)


def test_choosing_a_suggestion_runs_it(page, kb_url):
    box = open_widget(page, kb_url + "/")
    box.fill("mentaliz")
    suggestion = page.locator("kb-search .kb-sug").first
    expect(suggestion).to_be_visible()
    text = suggestion.inner_text()
    suggestion.click()
    expect(box).to_have_value(text)
    expect(box).to_be_focused()
    expect(hits(page).first).to_contain_text(MBT_TITLE)


def test_minimum_query_length(page, kb_url):
    box = open_widget(page, kb_url + "/")
    box.fill("m")
    page.wait_for_timeout(400)
    assert search_requests(page) == []
    expect(box).to_have_attribute("aria-expanded", "false")
    box.fill("   m  ")
    page.wait_for_timeout(400)
    assert search_requests(page) == []


def test_misspelling_offers_the_correction(page, kb_url):
    box = open_widget(page, kb_url + "/")
    box.fill("medicaton")
    dym = page.locator("kb-search .kb-dym")
    expect(dym).to_contain_text("Showing results for medication")
    expect(hits(page).first).to_contain_text(MBT_TITLE)
    dym.get_by_role("button", name="medication").click()
    expect(box).to_have_value("medication")
    expect(dym).to_have_text("")


def test_empty_state_offers_did_you_mean_as_a_link(page, kb_url):
    def no_hits(route):
        q = parse_qs(urlparse(route.request.url).query)["q"][0]
        if q != "mediccation":
            return route.continue_()
        route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps(
                {
                    "query": q,
                    "total": 0,
                    "limit": 5,
                    "offset": 0,
                    "hits": [],
                    "facets": {"topics": [], "articles": []},
                    "did_you_mean": "medication",
                    "corrected": False,
                    "notices": [],
                }
            ),
        )

    page.route("**/api/v1/search?*", no_hits)
    box = open_widget(page, kb_url + "/")
    box.fill("mediccation")
    expect(status(page)).to_have_text("No sections found")
    expect(page.locator("kb-search .kb-line")).to_have_text("No sections found for “mediccation”")
    expect(box).to_have_attribute("aria-expanded", "false")
    link = page.locator("kb-search .kb-dym").get_by_role("button", name="medication")
    expect(page.locator("kb-search .kb-dym")).to_contain_text("Did you mean medication?")
    link.click()
    expect(box).to_have_value("medication")
    expect(hits(page).first).to_contain_text(MBT_TITLE)
    expect(status(page)).to_have_text("1 section found")


def test_nothing_found(page, kb_url):
    box = open_widget(page, kb_url + "/")
    box.fill("xyzzyqq")
    expect(status(page)).to_have_text("No sections found")  # what the live region announces
    expect(page.locator("kb-search .kb-line")).to_have_text("No sections found for “xyzzyqq”")
    expect(hits(page)).to_have_count(0)
    expect(page.get_by_role("listbox")).to_be_hidden()


def test_empty_state_offers_topics_and_all_articles(page, kb_url):
    """Topics come from GET /api/v1/topics, fetched once, and only when nothing is found."""

    def topic_requests():
        return [u for u in page.problems.requests if "/api/v1/topics" in u]

    box = open_widget(page, kb_url + "/")
    box.fill("telehealth")
    expect(hits(page).first).to_be_visible()
    assert topic_requests() == []  # not needed yet
    box.fill("xyzzyqq")
    more = page.locator("kb-search .kb-more")
    expect(more.get_by_role("link", name="Browse all articles")).to_have_attribute(
        "href", kb_url + "/search"
    )
    topics = page.locator("kb-search").get_by_role("list", name="Or browse a topic")
    expect(topics.get_by_role("link")).to_have_count(4)
    hrefs = topics.get_by_role("link").evaluate_all("els => els.map(e => e.href)")
    assert all(re.fullmatch(re.escape(kb_url) + r"/search\?topic=[\w-]+", h) for h in hrefs), hrefs
    # Another empty search shows them again without asking again; results hide them.
    box.fill("telehealth")
    expect(hits(page).first).to_be_visible()
    expect(more).to_have_text("")
    box.fill("qqzzyx")
    expect(topics.get_by_role("link")).to_have_count(4)
    assert len(topic_requests()) == 1, topic_requests()
    # A topic opens the results page filtered by it (depends on kb's results page).
    first = topics.get_by_role("link").first
    href = first.get_attribute("href")
    first.click()
    page.wait_for_url(href)
    expect(page.locator("ol.results > li").first).to_be_visible()


def test_browse_all_articles_opens_the_results_page(page, kb_url):
    """Depends on kb's results page."""
    box = open_widget(page, kb_url + "/")
    box.fill("xyzzyqq")
    page.locator("kb-search").get_by_role("link", name="Browse all articles").click()
    page.wait_for_url(kb_url + "/search")
    expect_results_page(page, "")


def test_enter_with_no_active_row_submits_to_the_results_page(page, kb_url):
    """The search box is a real form: role=search, GET, to <api>/search with q. Depends on
    kb's results page."""
    box = open_widget(page, kb_url + "/")
    form = page.locator("kb-search form")
    expect(form).to_have_attribute("role", "search")
    expect(form).to_have_attribute("method", "get")
    expect(form).to_have_attribute("action", kb_url + "/search")
    expect(box).to_have_attribute("name", "q")
    box.fill("therapy")
    expect(hits(page).first).to_be_visible()
    assert box.get_attribute("aria-activedescendant") is None
    box.press("Enter")
    page.wait_for_url(kb_url + "/search?q=therapy")
    expect_results_page(page, "therapy")


def test_show_all_results_is_the_last_option(page, kb_url):
    """With more found than shown, the list ends with "Show all N results", an option the
    arrow keys reach and Enter opens. Depends on kb's results page."""
    box = open_widget(page, kb_url + "/")
    box.fill("therapy")
    expect(hits(page)).to_have_count(5)
    expect(status(page)).to_have_text("7 sections found")
    options = page.locator("kb-search [role=option]")
    last = options.last
    expect(last).to_have_text("Show all 7 results")
    expect(last).to_have_attribute("href", kb_url + "/search?q=therapy")
    box.press("ArrowUp")  # from nothing, ArrowUp is the last option
    assert box.get_attribute("aria-activedescendant") == last.get_attribute("id")
    box.press("Enter")
    page.wait_for_url(kb_url + "/search?q=therapy")
    expect_results_page(page, "therapy")
    # Everything found is shown: no such option.
    box = open_widget(page, kb_url + "/")
    box.fill("mentalization")
    expect(hits(page)).to_have_count(1)
    expect(page.locator("kb-search .kb-all")).to_have_count(0)


def test_sections_are_grouped_under_their_article(page, kb_url):
    box = open_widget(page, kb_url + "/")
    box.fill("therapy")
    expect(hits(page)).to_have_count(5)
    labels = article_labels(page)
    expect(labels).to_have_count(2)  # 5 sections of 2 articles: each title once
    structure = shadow_eval(
        page,
        """root => [...root.querySelectorAll('[role=listbox] > *')].map(el => ({
            role: el.getAttribute('role'), cls: el.className,
            label: el.getAttribute('aria-labelledby') &&
                root.getElementById(el.getAttribute('aria-labelledby')).textContent,
            options: [...el.querySelectorAll('[role=option]')].length}))""",
    )
    # Suggestions, then one group per article, then "Show all": only groups and options.
    assert [s["role"] for s in structure] == ["group", "group", "group", "option"], structure
    assert structure[0]["label"] == "Suggestions"
    assert [s["options"] for s in structure[1:3]] == [4, 1], structure
    assert structure[1]["label"] == labels.nth(0).text_content()
    # Each section names its article for screen readers (visually hidden).
    meta = hits(page).first.locator(".kb-hit-meta .kb-vh")
    expect(meta).to_have_text(labels.nth(0).text_content())
    assert meta.bounding_box()["width"] <= 1


def test_hover_and_keyboard_never_highlight_two_rows(page, kb_url):
    box = open_widget(page, kb_url + "/")
    box.fill("therapy")
    expect(hits(page)).to_have_count(5)
    options = page.locator("kb-search [role=option]")

    def highlighted():
        """Options drawn as active: by aria-selected or by their background."""
        return options.evaluate_all("""els => els.map((el, i) => [i, el.getAttribute(
            'aria-selected') === 'true', getComputedStyle(el).backgroundColor]).filter(
            ([i, sel, bg]) => sel || bg !== 'rgba(0, 0, 0, 0)')""")

    box.press("ArrowDown")
    box.press("ArrowDown")
    assert [i for i, *_ in highlighted()] == [1]
    # The mouse moves over the third section: it becomes the one active row.
    target = hits(page).nth(2)
    target.hover()
    target_index = options.evaluate_all("(els, t) => els.indexOf(t)", target.element_handle())
    assert [i for i, *_ in highlighted()] == [target_index]
    assert box.get_attribute("aria-activedescendant") == target.get_attribute("id")
    expect(box).to_be_focused()
    # The keyboard takes over from there; the row under the resting pointer is not lit.
    box.press("ArrowDown")
    assert [i for i, *_ in highlighted()] == [target_index + 1]
    page.mouse.move(5, 5)  # leaving the list does not clear a row the keyboard chose
    assert [i for i, *_ in highlighted()] == [target_index + 1]
    # A row the mouse chose is cleared when it leaves: Enter then submits, not that row.
    target.hover()
    page.mouse.move(5, 5)
    assert highlighted() == []
    assert box.get_attribute("aria-activedescendant") is None


def test_crisis_notice_with_its_resources_every_time(page, kb_url):
    box = open_widget(page, kb_url + "/")
    for _ in range(2):
        box.fill("I want to hurt myself")
        notice = page.locator("kb-search [role=alert]")
        expect(notice).to_contain_text("If you are in danger now")
        expect(notice).to_contain_text("call your local emergency number")
        expect(notice.get_by_role("link", name=re.compile("555-0100"))).to_have_attribute(
            "href", "tel:5550100"
        )
        expect(notice.locator('a[href="https://clinic.example/crisis"]')).to_be_visible()
        # A text line is an sms: link, never a tel: one.
        expect(notice.get_by_role("link", name=re.compile("Shout: Text 85258"))).to_have_attribute(
            "href", "sms:85258"
        )
        expect(hits(page).first).to_be_visible()
        # Above the results.
        assert notice.bounding_box()["y"] < page.get_by_role("listbox").bounding_box()["y"]
        box.fill("telehealth")
        expect(hits(page).filter(has_text=TELEHEALTH_TITLE)).to_have_count(1)
        expect(page.locator("kb-search [role=alert]")).to_have_count(0)


def test_loading_state(page, kb_url):
    held = []
    page.route("**/api/v1/search?*", lambda route: held.append(route))
    box = open_widget(page, kb_url + "/")
    box.fill("telehealth")
    expect(status(page)).to_have_text("Searching…")
    expect(page.locator("kb-search .kb")).to_have_class(re.compile("kb-busy"))
    wait_until_held(page, held)
    held[0].continue_()
    expect(status(page)).to_have_text("1 section found")
    expect(page.locator("kb-search .kb")).not_to_have_class(re.compile("kb-busy"))


@pytest.mark.parametrize("failure", ["http-500", "garbage", "network"])
def test_error_state_does_not_break_the_page(page, kb_url, failure):
    def fail(route):
        if failure == "http-500":
            route.fulfill(
                status=500, content_type="application/json", body='{"error": {"status": 500}}'
            )
        elif failure == "garbage":
            route.fulfill(status=200, content_type="application/json", body="<html>oops")
        else:
            route.abort("connectionrefused")

    page.route("**/api/v1/**", fail)
    box = open_widget(page, kb_url + "/")
    box.fill("telehealth")
    expect(status(page)).to_have_text("Search is unavailable")
    expect(hits(page)).to_have_count(0)
    expect(box).to_have_attribute("aria-expanded", "false")
    # The widget still works once the API is back.
    page.unroute("**/api/v1/**")
    box.fill("mentalization")
    expect(hits(page).first).to_contain_text(MBT_TITLE)


def test_a_stale_response_never_overwrites_a_newer_one(page, kb_url):
    """The first search's response is held back until the second one has been shown."""
    held = []
    failed = []

    def hold_first(route):
        q = parse_qs(urlparse(route.request.url).query)["q"][0]
        if q == "mentalization":
            held.append(route)
        else:
            route.continue_()

    page.on("requestfailed", lambda r: failed.append(r.url))
    page.route("**/api/v1/search?*", hold_first)
    box = open_widget(page, kb_url + "/")
    box.fill("mentalization")
    expect(status(page)).to_have_text("Searching…")
    wait_until_held(page, held)
    box.fill("telehealth")
    expect(hits(page).filter(has_text=TELEHEALTH_TITLE)).to_have_count(1)
    expect(hits(page).filter(has_text=TELEHEALTH_TITLE)).to_have_count(1)

    # Now the old answer arrives (as a real response); it must be discarded.
    stale = held[0]
    try:
        stale.fulfill(response=stale.fetch())
    except sync_api.Error:
        pass  # the widget aborted it, so the browser no longer waits for it
    page.wait_for_timeout(300)
    expect(hits(page).filter(has_text=MBT_TITLE)).to_have_count(0)
    expect(hits(page).filter(has_text=TELEHEALTH_TITLE)).to_have_count(1)
    expect(status(page)).to_have_text("1 section found")
    assert any("q=mentalization" in u for u in failed), "the stale request was not aborted"


def test_stale_response_discarded_even_if_it_cannot_be_aborted(page, kb_url):
    """With abort() a no-op, only the request counter protects the newer results."""
    page.add_init_script("AbortController.prototype.abort = function () {};")
    held = []

    def hold_first(route):
        if "q=mentalization" in route.request.url:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/v1/search?*", hold_first)
    box = open_widget(page, kb_url + "/")
    box.fill("mentalization")
    expect(status(page)).to_have_text("Searching…")
    box.fill("telehealth")
    expect(status(page)).to_have_text("1 section found")
    held[0].fulfill(response=held[0].fetch())
    page.wait_for_timeout(300)
    expect(hits(page).filter(has_text=MBT_TITLE)).to_have_count(0)
    expect(status(page)).to_have_text("1 section found")


def test_no_cookies_no_storage_no_query_in_urls(page, context, kb_url):
    context.add_cookies([{"name": "clinic_session", "value": "secret", "url": kb_url}])
    api_headers = []
    page.on(
        "request",
        lambda r: api_headers.append((r.url, r.all_headers())) if "/api/v1/" in r.url else None,
    )
    box = open_widget(page, kb_url + "/")
    box.fill("telehealth")
    expect(hits(page).first).to_be_visible()
    assert api_headers
    for url, headers in api_headers:
        assert "cookie" not in headers, (url, headers)
        assert "referer" not in headers, (url, headers)
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert page.url == kb_url + "/"
    # Links carry no query either.
    for href in hits(page).evaluate_all("els => els.map(e => e.href)"):
        assert "?" not in href
    # Control: a normal navigation to kb does send the cookie, so the check above means something.
    with page.expect_request(lambda r: r.url.endswith("/api/v1/health")) as sent:
        page.goto(kb_url + "/api/v1/health")
    assert "clinic_session=secret" in (sent.value.all_headers().get("cookie") or "")


def test_only_mark_is_markup_and_entities_become_text(page, kb_url):
    snippet = (
        "a &lt;b&gt;bold&lt;/b&gt; &amp; &quot;q&quot; &#x27;s&#39; "
        "<mark>match</mark> &lt;mark&gt;x"
    )
    body = {
        "query": "probe",
        "total": 1,
        "limit": 5,
        "offset": 0,
        "hits": [
            {
                "id": "a:b",
                "article": "a",
                "article_title": "<i>Article</i>",
                "title": "<b>Title</b>",
                "anchor": "b",
                "breadcrumb": ["<b>Title</b>"],
                "snippet": snippet,
                "score": 1.0,
                "topics": [],
                "url": "javascript:window.__xss=1",
            }
        ],
        "facets": {"topics": [], "articles": []},
        "did_you_mean": None,
        "corrected": False,
        "notices": [
            {
                "kind": "crisis",
                "title": "<b>T</b>",
                "message": "<img src=x>",
                "resources": [{"name": "N", "url": "javascript:window.__xss=2", "phone": "555<b>"}],
            }
        ],
    }
    page.route(
        "**/api/v1/search?*",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(body)
        ),
    )
    box = open_widget(page, kb_url + "/")
    box.fill("probe")
    hit = hits(page).first
    expect(hit.locator(".kb-snippet")).to_have_text("a <b>bold</b> & \"q\" 's' match <mark>x")
    expect(hit.locator("mark")).to_have_count(1)
    expect(hit.locator(".kb-hit-title")).to_have_text("<b>Title</b>")
    expect(hit.locator(".kb-hit-meta")).to_have_text("<i>Article</i>")
    # A javascript: URL is never used as a link: it falls back to kb's article page.
    expect(hit).to_have_attribute("href", f"{kb_url}/articles/a#b")
    notice = page.locator("kb-search [role=alert]")
    expect(notice).to_contain_text("<img src=x>")
    assert notice.locator('a[href^="javascript:"]').count() == 0
    expect(notice.locator('a[href^="tel:"]')).to_have_attribute("href", "tel:555")
    assert shadow_eval(page, "root => root.querySelectorAll('b, i, img').length") == 0
    assert page.evaluate("window.__xss") is None
