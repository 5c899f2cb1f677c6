"""Browser tests: Debian's Chromium driven by Playwright against kb served on loopback ports.

Three servers run for the session: kb itself, a clinic's site on a second origin that kb's
KB_CORS_ORIGINS allows, and the same site on a third origin that it does not. The whole
directory is skipped, with the reason, when Playwright or /usr/bin/chromium is missing.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from kb import __version__
from kb.api import create_app
from tests.helpers import serve_app

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = HERE / "vendor" / "axe.min.js"
ARTIFACTS = HERE.parent / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CRISIS_RESOURCES = [
    {"name": "Clinic crisis line", "phone": "555-0100", "url": "https://clinic.example/crisis"},
    {"name": "Shout", "sms": "85258"},
]


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install playwright==1.65.2)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


MISSING = _missing()


def pytest_collection_modifyitems(config, items):
    if MISSING is None:
        return
    skip = pytest.mark.skip(reason=f"browser tests need a browser: {MISSING}")
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(skip)


# -- a clinic's site on another origin ---------------------------------------------------

HOST_PAGES = {
    # The one-tag embed, on a page with a strict CSP that names kb's origin only.
    "/embed": (
        "default-src 'none'; script-src {kb}; style-src {kb}; connect-src {kb}; img-src 'self'",
        """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Clinic</title></head><body><main><h1>Our clinic</h1>
<script src="{kb}/widget/kb-search.js" data-kb-api="{kb}"
  data-kb-placeholder="Search our articles"></script>
<p id="after">Opening hours: 9 to 5.</p></main></body></html>""",
    ),
    # Script in <head>, rendered into a target element, links to the clinic, own labels.
    "/target": (
        "default-src 'none'; script-src {kb}; style-src {kb}; connect-src {kb}",
        """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Clinic</title>
<script src="{kb}/widget/kb-search.js" data-kb-api="{kb}/" data-kb-target="search-here"
  data-kb-link="https://clinic.example/articles/{article}#{anchor}" data-kb-limit="1"
  data-kb-label-label="Search the clinic library" data-kb-label-empty="Nothing here"
  data-kb-label-count-other="{n} pages"></script>
</head><body><main><h1>Our clinic</h1><div id="search-here"></div></main></body></html>""",
    ),
    # Hostile global CSS: the widget must look the same and must not change the host.
    "/hostile": (
        None,
        """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Hostile</title>
<style>
body * { all: unset; }
html { font-size: 10px; }
body { font: 30px/3 "Comic Sans MS", cursive; color: green; text-transform: uppercase;
       letter-spacing: 4px; }
div { display: none !important; }
input { font-size: 40px !important; color: red !important; border: 9px dotted red; }
mark { display: none; }
a { color: hotpink !important; }
* { box-sizing: content-box; }
kb-search { display: none; position: absolute; left: -9999px; }
p.host-text { display: block; }
</style></head><body>
<p class="host-text">Host text</p>
<script src="{kb}/widget/kb-search.js" data-kb-api="{kb}"></script>
<p class="kb-notice host-probe">Host element named like a widget class</p>
<mark class="host-mark">host mark</mark>
<input class="kb-input host-input" aria-label="host input">
</body></html>""",
    ),
    # The tag `kb widget-snippet` prints: this exact release, pinned by its SHA-384.
    "/pinned": (
        "default-src 'none'; script-src {kb}; style-src {kb}; connect-src {kb}",
        """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Clinic</title>
</head><body><main><h1>Pinned</h1>
{snippet}
</main></body></html>""",
    ),
    # The same tag with a hash that does not match: the browser must refuse the script.
    "/tampered": (
        "default-src 'none'; script-src {kb}; style-src {kb}; connect-src {kb}",
        """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Clinic</title>
</head><body><main><h1>Tampered</h1>
<script src="{kb}/widget/{version}/kb-search.js" crossorigin="anonymous"
  integrity="sha384-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
  data-kb-api="{kb}"></script>
</main></body></html>""",
    ),
    # A dark site: the widget must stay readable on it, whatever its own theme.
    "/dark": (
        "default-src 'none'; script-src {kb}; style-src 'self' {kb}; connect-src {kb}",
        """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Dark clinic</title>
<link rel="stylesheet" href="/dark.css"></head><body><main><h1>Our clinic, after dark</h1>
<script src="{kb}/widget/kb-search.js" data-kb-api="{kb}"></script>
<p>Opening hours: 9 to 5.</p></main></body></html>""",
    ),
    # A saturated coloured site with white text.
    "/coloured": (
        "default-src 'none'; script-src {kb}; style-src 'self' {kb}; connect-src {kb}",
        """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Blue clinic</title>
<link rel="stylesheet" href="/coloured.css"></head><body><main><h1>Our clinic in blue</h1>
<script src="{kb}/widget/kb-search.js" data-kb-api="{kb}"></script>
<p>Opening hours: 9 to 5.</p></main></body></html>""",
    ),
    # A light site that asks for the dark theme.
    "/dark-theme": (
        "default-src 'none'; script-src {kb}; style-src {kb}; connect-src {kb}",
        """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Clinic</title>
</head><body><main><h1>Our clinic</h1>
<script src="{kb}/widget/kb-search.js" data-kb-api="{kb}" data-kb-theme="dark"></script>
<p>Opening hours: 9 to 5.</p></main></body></html>""",
    ),
    # The clinic's own results page, with a parameter of its own.
    "/own-results": (
        "default-src 'none'; script-src {kb}; style-src {kb}; connect-src {kb}",
        """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Clinic</title>
</head><body><main><h1>Our clinic</h1>
<script src="{kb}/widget/kb-search.js" data-kb-api="{kb}"
  data-kb-results="/find?lang=en" data-kb-limit="2"></script>
</main></body></html>""",
    ),
    # An API that accepts connections and never answers ({slow} is set by the test that
    # starts it), with a short timeout.
    "/slow": (
        "default-src 'none'; script-src {kb}; style-src {kb}; connect-src {slow}",
        """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Clinic</title>
</head><body><main><h1>Our clinic</h1>
<script src="{kb}/widget/kb-search.js" data-kb-api="{slow}" data-kb-timeout="700"></script>
</main></body></html>""",
    ),
    # A page of a site that kb does not allow (served on the third origin).
    "/refused": (
        None,
        """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Elsewhere</title>
</head><body><main><h1>Not a partner site</h1>
<script src="{kb}/widget/kb-search.js" data-kb-api="{kb}"></script>
<p id="after">Still here.</p></main>
<script src="/host.js"></script></body></html>""",
    ),
}
HOST_SCRIPT = "window.__hostAlive = true;"
# The host pages' own stylesheets (files, so their CSP can stay free of 'unsafe-inline').
HOST_STYLES = {
    "/dark.css": "html, body { background: #121212; color: #e8e8e8; margin: 0; }",
    "/coloured.css": "html, body { background: #0047ab; color: #fff; margin: 0; }",
}
HOST_MAIN_STYLE = " main { padding: 1rem; font: 17px/1.5 system-ui, sans-serif; }"


def widget_snippet(base: str) -> str:
    """What `kb widget-snippet --base-url BASE` prints."""
    from click.testing import CliRunner

    from kb.cli import main

    result = CliRunner().invoke(main, ["widget-snippet", "--base-url", base])
    assert result.exit_code == 0, result.output
    return result.stdout


class HostSite:
    """A tiny static WSGI site standing in for a clinic's pages; `{kb}` is kb's base URL."""

    def __init__(self):
        self.kb_url = ""
        # More `{name}` placeholders, set by a test for the pages that use them.
        self.placeholders: dict[str, str] = {}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "/")
        if path == "/host.js":
            start_response("200 OK", [("Content-Type", "text/javascript; charset=utf-8")])
            return [HOST_SCRIPT.encode()]
        if path in HOST_STYLES:
            start_response("200 OK", [("Content-Type", "text/css; charset=utf-8")])
            return [(HOST_STYLES[path] + HOST_MAIN_STYLE).encode()]
        if path not in HOST_PAGES:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        csp, html = HOST_PAGES[path]
        values = {"{kb}": self.kb_url, **self.placeholders}

        def fill(text: str) -> str:
            for name, value in values.items():
                text = text.replace(name, value)
            return text

        headers = [("Content-Type", "text/html; charset=utf-8")]
        if csp:
            headers.append(("Content-Security-Policy", fill(csp)))
        start_response("200 OK", headers)
        html = html.replace("{snippet}", widget_snippet(self.kb_url))
        html = html.replace("{version}", __version__)
        return [fill(html).encode("utf-8")]


@pytest.fixture(scope="session")
def host_site():
    return HostSite()


@pytest.fixture(scope="session")
def second_origin(host_site):
    """The clinic's site, on an origin that kb allows."""
    yield from serve_app(host_site)


@pytest.fixture(scope="session")
def third_origin(host_site):
    """The same pages on an origin that kb does not allow."""
    yield from serve_app(host_site)


@pytest.fixture(scope="session")
def kb_url(index_dir, second_origin, host_site):
    """kb serving the shipped corpus, allowing the second origin only."""
    app = create_app(
        {
            "KB_INDEX_DIR": str(index_dir),
            "KB_CORS_ORIGINS": [second_origin],
            "KB_CRISIS_RESOURCES": CRISIS_RESOURCES,
            # Limits are per client address, and every test's traffic comes from 127.0.0.1.
            "KB_RATE_LIMIT": "",
        }
    )
    for url in serve_app(app):
        host_site.kb_url = url
        yield url


# -- the browser --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageProblems:
    """Uncaught exceptions and CSP violations seen by a page, and every URL it requested."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", lambda request: self.requests.append(request.url))
        page.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation',"
            " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
        )


@pytest.fixture
def context_options():
    """Override in a test module (or parametrize) to change the viewport and the like."""
    return {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def context(browser, context_options):
    ctx = browser.new_context(**context_options)
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.problems = PageProblems(page)
    yield page
    assert page.problems.errors == [], f"uncaught errors on the page: {page.problems.errors}"


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
