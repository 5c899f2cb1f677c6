"""Markdown to HTML for section text, with any raw HTML in the source shown as text.

Every HTML fragment kb emits from corpus text (the API's `html` field and the article pages)
comes from `render_markdown`, and `render_markdown` passes Python-Markdown's output through
nh3 (the ammonia sanitizer) with an allowlist of exactly what that rendering produces.
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

import nh3

from kb.markdown import to_html

# What Python-Markdown (with sane_lists) produces, and nothing else: no tables, no div or
# span, no class, id or style, no event handlers.
ALLOWED_TAGS = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "em",
        "strong",
        "code",
        "pre",
        "blockquote",
        "a",
        "img",
        "hr",
        "br",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},  # sane_lists numbers a list that starts at 3 with start="3"
}
# Absolute URLs in href and src may only use these; relative URLs are kept (see below).
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Added to every link. It matters for links to other sites (including scheme-relative
# //host links); on kb's own relative links it is harmless.
LINK_REL = "noopener noreferrer"

# Schemes that run script or carry a document of their own.
_DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")
# Whitespace, controls and invisible format characters (soft hyphen, zero-width space and
# joiners, word joiner, BOM): removed before looking for a dangerous scheme.
_INVISIBLE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2060\ufeff]")


def _spells_dangerous_scheme(url: str) -> bool:
    """Whether `url`, entity- and percent-decoded until it settles and with every invisible
    character removed, starts with javascript:, vbscript: or data:."""
    previous = None
    while url != previous:  # "&amp;#x09;" -> "&#x09;" -> "\t"; "jav%09ascript:" -> tab
        previous, url = url, unquote(html.unescape(url))
    url = _INVISIBLE.sub("", url).lower().lstrip("<")
    return url.startswith(_DANGEROUS_SCHEMES)


def _relative_url(url: str) -> str | None:
    """Keep a relative URL, unless it is one only because its scheme is disguised.

    ammonia parses URLs as browsers do, so `javascript:`, ` JavaScript:` and `java<TAB>script:`
    are absolute and refused by URL_SCHEMES before this is called. What reaches here is
    relative to a browser, and harmless, but a few values would spell a dangerous scheme to
    anything that decoded or tidied them once more: `jav%09ascript:alert(1)` (the Markdown
    parser percent-encodes the author's `&#x09;`), `jav    ascript:` and `<javascript:...>`.
    Those are dropped too.
    """
    return None if _spells_dangerous_scheme(url) else url


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style"},
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=set(URL_SCHEMES),
    url_relative=_relative_url,
    link_rel=LINK_REL,
    strip_comments=True,
)


def sanitize_html(fragment: str) -> str:
    """Sanitize an HTML fragment with kb's allowlist (tags, attributes, URL schemes)."""
    return _CLEANER.clean(fragment)


def render_markdown(text: str) -> str:
    """Render Markdown to sanitized HTML.

    kb.markdown renders with raw HTML off, so HTML in corpus text is shown as text, never
    dropped or run. Markdown itself still makes links and images from any URL, so the
    result goes through nh3: only the tags and attributes above, only http, https, mailto
    and relative URLs, and rel="noopener noreferrer" on links.
    """
    return sanitize_html(to_html(text))
