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
