"""The widget on the pages clinics really have: light, dark and coloured sites (the contrast
of every text it draws measured in the browser), a phone at 360 px, an API that never
answers, no JavaScript at all, and axe with violations of every impact. Screenshots land in
tests/artifacts/.

Tests that follow a link or a form to kb's results page (GET /search, kb/api/pages.py) depend
on it: they call `expect_results_page`.
"""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest

from tests.browser.test_accessibility import run_axe
from tests.browser.test_embedding import assert_no_horizontal_overflow
from tests.browser.widget import (
    article_labels,
    expect_results_page,
    hits,
    open_widget,
    shadow_eval,
    status,
    text_contrasts,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

pytestmark = pytest.mark.browser

WCAG_AA = 4.5
THERAPY_TOTAL = 7  # "therapy" finds 7 sections in the shipped corpus, in 2 articles
BPD_TITLE = "How I Think About Borderline Personality Disorder Treatment in Real Sessions"
PD_TITLE = (
    "Effective psychotherapeutic approaches for treating personality disorders and "
    "improving interpersonal functioning"
)


def widget_shot(page, path, margin=16):
    """The widget and a margin of the host page around it (its colours included)."""
    box = page.locator("kb-search").bounding_box()
    width = page.viewport_size["width"]
    x = max(0, box["x"] - margin)
    page.screenshot(
        path=str(path),
        full_page=True,
        clip={
            "x": x,
            "y": max(0, box["y"] - margin),
            "width": min(width - x, box["width"] + 2 * margin),
            "height": box["height"] + 2 * margin,
        },
    )


def assert_readable(page, state: str, must_include: list[str]):
    """Every visible text the widget draws has a contrast of at least 4.5:1 against what is
    behind it, and the texts that make this state were among those measured."""
    measured = text_contrasts(page)
    low = [m for m in measured if m["ratio"] < WCAG_AA]
    assert low == [], f"{state}: text below {WCAG_AA}:1: {low}"
    texts = " | ".join(m["text"] for m in measured)
    for text in must_include:
        assert text in texts, f"{state}: {text!r} was not measured: {texts}"
    return measured


# -- light, dark and coloured hosts ----------------------------------------------------------

DESKTOP = {"width": 1000, "height": 800}
HOSTS = {
    # name: (host page, the system colour scheme, the widget theme expected)
    "light-host": ("/embed", "light", "light"),
    "dark-host": ("/dark", "light", "light"),
    "coloured-host": ("/coloured", "light", "light"),
    "dark-theme-on-light-host": ("/dark-theme", "light", "dark"),
    "light-host-dark-system": ("/embed", "dark", "dark"),
    "dark-host-dark-system": ("/dark", "dark", "dark"),
    "coloured-host-dark-system": ("/coloured", "dark", "dark"),
}
SCREENSHOTS = {  # the names asked for; every other case gets widget-<case>.png
    "dark-host": "widget-dark-host.png",
    "coloured-host": "widget-coloured-host.png",
}


@pytest.mark.parametrize(
    "case, context_options",
    [
        (name, {"viewport": DESKTOP, "color_scheme": scheme})
        for name, (_, scheme, _) in HOSTS.items()
    ],
    ids=list(HOSTS),
)
def test_every_text_is_readable_on_the_host(page, kb_url, second_origin, artifacts, case):
    path, _, theme = HOSTS[case]
    held = []

    def api(route):
        q = re.search(r"[?&]q=([^&]*)", route.request.url).group(1)
        if q == "errorprobe":
            route.abort("connectionrefused")
        elif q == "slowprobe":
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/v1/search?*", api)
    box = open_widget(page, second_origin + path)
    # The theme: its own background, dark or light as asked (or as the system prefers).
    bg = shadow_eval(page, "root => getComputedStyle(root.querySelector('.kb')).backgroundColor")
    assert bg == ("rgb(26, 30, 38)" if theme == "dark" else "rgb(255, 255, 255)"), bg
    assert_readable(page, "idle", ["placeholder: Search our articles"] if path == "/embed" else [])

    # Results open: suggestions, two article groups, the count, "Show all", an active row.
    box.fill("therapy")
    expect(hits(page)).to_have_count(5)
    expect(status(page)).to_have_text(f"{THERAPY_TOTAL} sections found")
    box.press("ArrowUp")  # the last option: "Show all"
    box.press("ArrowUp")  # the last section
    assert_readable(
        page,
        "results",
        [f"{THERAPY_TOTAL} sections found", BPD_TITLE, PD_TITLE, f"Show all {THERAPY_TOTAL}"],
    )
    name = SCREENSHOTS.get(case, f"widget-{case}.png")
    page.screenshot(path=str(artifacts / name), full_page=True)

    # A crisis notice above the results.
    box.fill("I want to hurt myself")
    expect(page.locator("kb-search [role=alert]")).to_be_visible()
    expect(hits(page).first).to_be_visible()
    assert_readable(page, "crisis", ["If you are in danger now", "555-0100"])

    # A corrected query.
    box.fill("medicaton")
    expect(page.locator("kb-search .kb-dym")).to_contain_text("Showing results for")
    assert_readable(page, "corrected", ["Showing results for", "medication"])

    # The empty state, once its topics have arrived.
    box.fill("xyzzyqq")
    expect(status(page)).to_have_text("No sections found")
    expect(page.locator("kb-search .kb-topics a").first).to_be_visible()
    assert_readable(
        page, "empty", ["No sections found", "for \u201cxyzzyqq\u201d", "Browse all articles"]
    )
    widget_shot(page, artifacts / f"widget-empty-state-{case}.png")
    if case == "light-host":
        widget_shot(page, artifacts / "widget-empty-state.png")

    # Status lines: searching, and unavailable.
    box.fill("slowprobe")
    expect(status(page)).to_have_text("Searching…")
    assert_readable(page, "loading", ["Searching…"])
    box.fill("errorprobe")
    expect(status(page)).to_have_text("Search is unavailable")
    assert_readable(page, "error", ["Search is unavailable"])
    for route in held:
        try:
            route.abort()
        except sync_api.Error:
            pass  # already aborted by the widget
    assert page.evaluate("window.__csp") == []


# -- a phone --------------------------------------------------------------------------------

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


@pytest.mark.parametrize("context_options", [PHONE], ids=["mobile-360"])
def test_phone_layout_groups_by_article_and_fits_five_hits(page, kb_url, second_origin, artifacts):
    box = open_widget(page, second_origin + "/embed")
    box.fill("therapy")
    expect(hits(page)).to_have_count(5)
    # One title per article, in the order of each article's best hit; every section under it.
    expect(article_labels(page)).to_have_text([BPD_TITLE, PD_TITLE])
    groups = page.locator("kb-search [role=listbox] > .kb-hits[role=group]")
    expect(groups).to_have_count(2)
    for i in range(2):
        group = groups.nth(i)
        label = group.locator(".kb-article")
        assert group.get_attribute("aria-labelledby") == label.get_attribute("id")
    expect(groups.nth(0).locator(".kb-hit")).to_have_count(4)
    expect(groups.nth(1).locator(".kb-hit")).to_have_count(1)
    # A hit shows its section title and snippet; its article only to screen readers (the
    # group's title is visible once, above it).
    for i in range(5):
        hit = hits(page).nth(i)
        expect(hit.locator(".kb-hit-title")).to_be_visible()
        expect(hit.locator(".kb-snippet")).to_be_visible()
        shown = hit.evaluate("""el => {
            const out = [];
            const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                const r = n.parentElement.getBoundingClientRect();
                if (r.width > 1 && r.height > 1) out.push(n.data);
            }
            return out.join(' ');
        }""")
        assert BPD_TITLE not in shown and PD_TITLE not in shown, shown
    # Snippets are clamped to two lines.
    clamp = shadow_eval(
        page,
        """root => [...root.querySelectorAll('.kb-snippet')].map(s => {
            const cs = getComputedStyle(s);
            return {clamp: cs.webkitLineClamp, lines: s.clientHeight / parseFloat(cs.lineHeight)};
        })""",
    )
    assert all(c["clamp"] == "2" and c["lines"] <= 2.05 for c in clamp), clamp
    # From the top of the search box to the end of the fifth hit: one 740 px screen.
    box.evaluate("el => el.scrollIntoView({block: 'start'})")
    top = box.bounding_box()["y"]
    bottom = hits(page).nth(4).bounding_box()
    span = bottom["y"] + bottom["height"] - top
    print(f"input top to fifth hit bottom: {span:.0f} px")
    assert span <= 740, span
    assert_no_horizontal_overflow(page)
    assert_readable(page, "phone", [BPD_TITLE])
    # One phone screen, from the top of the widget: what someone sees.
    page.locator("kb-search").evaluate("el => el.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(artifacts / "widget-mobile-360-grouped.png"))
    # The empty state fits too, without sideways scrolling.
    box.fill("xyzzyqq")
    expect(page.locator("kb-search .kb-topics a").first).to_be_visible()
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(artifacts / "widget-mobile-360-empty.png"))


# -- an API that never answers ----------------------------------------------------------------


@pytest.fixture
def silent_api(host_site):
    """A loopback server that accepts connections and reads requests but never answers; the
    /slow host page points the widget at it. Yields the request lines it has read."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    seen: list[str] = []
    connections: list[socket.socket] = []
    stop = threading.Event()

    def read(conn):
        buffer = b""
        conn.settimeout(0.2)
        while not stop.is_set():
            try:
                chunk = conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\r\n\r\n" in buffer:
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                seen.append(head.split(b"\r\n", 1)[0].decode("latin-1"))

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connections.append(conn)
            threading.Thread(target=read, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    host_site.placeholders["{slow}"] = f"http://127.0.0.1:{server.getsockname()[1]}"
    try:
        yield seen
    finally:
        del host_site.placeholders["{slow}"]
        stop.set()
        thread.join(timeout=5)
        for conn in connections:
            conn.close()
        server.close()


def test_a_search_that_never_answers_times_out_and_retry_asks_again(
    page, kb_url, second_origin, silent_api, artifacts
):
    def searches():
        return [line for line in silent_api if line.startswith("GET /api/v1/search?")]

    def wait_for_searches(n):
        deadline = time.monotonic() + 5
        while len(searches()) < n and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        assert len(searches()) == n, silent_api

    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url) if "/search?" in r.url else None)
    box = open_widget(page, second_origin + "/slow")  # data-kb-timeout="700"
    box.fill("telehealth")
    expect(status(page)).to_have_text("Searching…")
    started = time.monotonic()
    wait_for_searches(1)
    expect(status(page)).to_have_text("Search is taking too long.")
    assert time.monotonic() - started >= 0.4  # it waited (700 ms from the request)
    retry = page.locator("kb-search").get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    expect(page.locator("kb-search .kb")).not_to_have_class(re.compile("kb-busy"))
    assert any("q=telehealth" in u for u in failed), "the request was not aborted"
    assert_readable(page, "timeout", ["Search is taking too long.", "Retry"])
    widget_shot(page, artifacts / "widget-timeout.png")

    # Retry repeats the search: a new request, "Searching…", and the focus back in the box.
    retry.click()
    expect(status(page)).to_have_text("Searching…")
    expect(box).to_be_focused()
    wait_for_searches(2)
    assert re.search(r"[?&]q=telehealth(&|$)", searches()[1]), searches()
    expect(status(page)).to_have_text("Search is taking too long.")
    expect(retry).to_be_visible()


# -- no JavaScript ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "context_options", [{"viewport": DESKTOP, "java_script_enabled": False}], ids=["no-js"]
)
@pytest.mark.parametrize("where", ["snippet-on-a-clinic-page", "demo-page"])
def test_without_javascript_a_plain_form_searches_kb(page, kb_url, second_origin, artifacts, where):
    """The <noscript> form of `kb widget-snippet` (on the /pinned host page) and the demo
    page's own. Depends on kb's results page."""
    url = second_origin + "/pinned" if where.startswith("snippet") else kb_url + "/"
    page.goto(url)
    assert page.locator("kb-search").count() == 0
    box = page.get_by_role("searchbox", name="Search the knowledge base")
    expect(box).to_be_visible()
    form = page.locator("noscript form, form:has(> label > input[name=q])").filter(has=box)
    assert form.get_attribute("action") in (kb_url + "/search", "/search")
    assert form.get_attribute("method") == "get"
    assert form.locator("[style]").count() == 0 and form.get_attribute("style") is None
    expect(form.get_by_role("button", name="Search")).to_be_visible()
    page.screenshot(path=str(artifacts / f"widget-noscript-{where}.png"))
    box.fill("therapy")
    box.press("Enter")
    page.wait_for_url(kb_url + "/search?q=therapy")
    expect_results_page(page, "therapy")


# -- axe, every impact ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "context_options",
    [
        {"viewport": {"width": 360, "height": 740}, "bypass_csp": True},
        {"viewport": {"width": 1280, "height": 900}, "bypass_csp": True},
    ],
    ids=["360", "1280"],
)
@pytest.mark.parametrize("query", ["therapy", "I want to hurt myself", "xyzzyqq"])
def test_demo_page_has_no_axe_violations_of_any_impact(page, kb_url, query):
    box = open_widget(page, kb_url + "/")
    box.fill(query)
    if query == "xyzzyqq":
        expect(page.locator("kb-search .kb-topics a").first).to_be_visible()
    else:
        expect(hits(page).first).to_be_visible()
        box.press("ArrowDown")
        box.press("ArrowDown")
        expect(box).to_have_attribute("aria-expanded", "true")
    assert run_axe(page) == []
