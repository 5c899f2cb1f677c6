"""Small helpers for driving the widget; Playwright's CSS locators pierce its open shadow root."""

from __future__ import annotations

MBT_ARTICLE = "bpd-treatment-in-real-sessions"
MBT_ANCHOR = "other-therapies-can-fit-different-patterns"
MBT_TITLE = "Other Therapies Can Fit Different Patterns"
TELEHEALTH_TITLE = "Telehealth and in-person care expand access to transformative therapy"


def open_widget(page, url: str):
    page.goto(url)
    page.locator("kb-search .kb").wait_for(state="visible")  # its stylesheet has loaded
    return page.get_by_role("combobox")


def hits(page):
    return page.locator("kb-search .kb-hit")


def status(page):
    return page.locator("kb-search .kb-status")


def shadow_eval(page, script: str, arg=None):
    """Evaluate `script` as a function of (shadowRoot, arg) for the first widget on the page."""
    return page.evaluate(
        f"([arg]) => {{ const root = document.querySelector('kb-search').shadowRoot;"
        f" return ({script})(root, arg); }}",
        [arg],
    )


def article_labels(page):
    """The article titles heading each group of sections."""
    return page.locator("kb-search .kb-article")


# WCAG 2 contrast of every visible text the widget draws, measured in the browser: the text's
# computed colour against its effective background, found by walking up the ancestors (out
# of the shadow root into the host page) and compositing every background until an opaque
# one; when none is opaque, the canvas (white) shows through.
CONTRAST_JS = """root => {
    const rgba = (css) => {
        const m = /^rgba?\\(([^)]*)\\)$/.exec(css.trim());
        if (!m) throw new Error('cannot parse colour ' + css);
        const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
        return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    };
    const over = (top, below) => [0, 1, 2].map(i => top[i] * top[3] + below[i] * (1 - top[3]))
        .concat([1]);
    const up = (el) => el.parentElement || (el.parentNode && el.parentNode.host) || null;
    const background = (el) => {
        const layers = [];
        for (let e = el; e; e = up(e)) {
            const c = rgba(getComputedStyle(e).backgroundColor);
            if (c[3] > 0) layers.push(c);
            if (c[3] >= 1) break;
        }
        let bg = [255, 255, 255, 1];
        while (layers.length) bg = over(layers.pop(), bg);
        return bg;
    };
    const lum = (c) => {
        const [r, g, b] = c.slice(0, 3).map(v => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => {
        const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
        return (hi + 0.05) / (lo + 0.05);
    };
    // Shown: laid out, not visibility:hidden, not clipped to a 1px box (visually hidden).
    const shown = (el) => {
        if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) return false;
        for (let e = el; e && e !== root.host; e = up(e)) {
            const r = e.getBoundingClientRect();
            if (r.width <= 1 || r.height <= 1) return false;
        }
        return true;
    };
    const measure = (el, text, colour) => {
        const bg = background(el);
        const fg = over(rgba(colour), bg);
        return {text: text.trim().slice(0, 120), where: el.className || el.localName,
                ratio: Math.round(ratio(fg, bg) * 100) / 100,
                fg: fg.map(Math.round).join(','), bg: bg.map(Math.round).join(',')};
    };
    const out = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!node.data.trim() || !el || el.closest('style') || !shown(el)) continue;
        out.push(measure(el, node.data, getComputedStyle(el).color));
    }
    const input = root.querySelector('input[name=q]');
    if (input && shown(input)) {
        const value = input.value;
        out.push(value ? measure(input, 'value: ' + value, getComputedStyle(input).color)
                       : measure(input, 'placeholder: ' + input.placeholder,
                                 getComputedStyle(input, '::placeholder').color));
    }
    return out;
}"""


def text_contrasts(page) -> list[dict]:
    """[{text, where, ratio, fg, bg}] for every visible text of the (first) widget."""
    return shadow_eval(page, CONTRAST_JS)


def expect_results_page(page, query: str):
    """kb's server-rendered results page (GET /search, kb/api/pages.py) for `query`: an <h1>
    "Search results..." ("Search" for an empty query), its own search form, and hits as
    `ol.results > li`. Tests that call this depend on that page."""
    import re

    from playwright.sync_api import expect

    heading = r"^Search results" if query else r"^Search"
    expect(page.locator("h1")).to_have_text(re.compile(heading))
    expect(page.locator('form[role="search"] input[name="q"]').first).to_be_attached()
    if query:
        expect(page.locator("ol.results > li").first).to_be_visible()
