"""Turn raw article pages (text, HTML, Markdown, BEIR JSONL) into kb corpus Markdown files.

Plain-text pages copied off the web carry site chrome around the article. They are cleaned
by the ordered rules in ``RULES`` (one place, run in this order; each rule's docstring says
what it drops or recovers and why):

- ``whitespace``: strip each line, drop blank and whitespace-only lines (noting, for later
  rules, whether a blank line stood above a line and how many tabs it started with).
- ``scroll-to-top``: drop "Scroll to Top" / "Back to top", also when glued onto a line's end.
- ``cookie-banner``: drop the cookie-consent banner (lines naming the site's cookies, its
  short heading and its buttons) at the top or the foot of the page.
- ``review-dates``: recover "Page last reviewed: ..." / "Next review due: ..." as
  ``reviewed`` / ``next_review``.
- ``end-of-article``: drop everything from the first end-of-article marker below the first
  paragraph: related posts, comments, newsletter and feedback boxes ("Was this article
  helpful?"), "Tags:" / "Filed under", print and share links, post navigation, author
  bio, "Page last reviewed" (review dates are kept).
- ``advertisement``: drop "ADVERTISEMENT" / "Sponsored" placeholder lines.
- ``share-buttons``: drop lines made only of social network names ("Facebook X Reddit Email").
- ``dateline``: recover "Published August 08, 2025", a bare date or "Apr 22, 2025 — 7 min
  read" above the article as ``published``.
- ``bylines``: drop the byline above the article ("Written by ...", "By X | Medically
  reviewed by Y | 6 min read", "7 min read") and a bare author name beside the dateline.
- ``title``: recover the title (the line just above the dateline, standfirst or first long
  paragraph, or the headline below a category and date) and the standfirst (the
  sentence(s) between title and dateline) as ``summary``.
- ``site-banner``: drop the lines above the title (a marketing banner, menus, site name).
- ``lists-and-tables``: turn "•" / "1." lines into a Markdown list (nested by leading tab)
  and tab-separated rows into a Markdown table.
- ``headings``: recover short lines standing alone between paragraphs as ``##`` headings
  (Title Case, sentence case, questions, one-sentence lines between long paragraphs, and a
  box's title ending in a colon directly above a list).
- ``empty-headings``: turn a heading with no text under it back into a paragraph.

HTML pages get their structure from their tags (nav, header, footer, aside, form, script and
style are dropped) and then go through the rules that drop junk lines, which look the same
in either format. Markdown files are written by people: only ``whitespace`` and
``empty-headings`` run on them. Unknown junk is left in: losing a sentence of the article is
worse than keeping a stray line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kb.importer.assemble import build_article, make_slug, summarize
from kb.importer.blocks import (
    ArticleExists,
    Block,
    DuplicateSlug,
    ImportedArticle,
    ImporterError,
)
from kb.importer.html import import_html
from kb.importer.readers import import_markdown, import_text, iter_jsonl
from kb.importer.rules import RULES, clean, parse_date
from kb.importer.writing import article_path, import_jsonl, write_article

__all__ = [
    "RULES",
    "ArticleExists",
    "Block",
    "DuplicateSlug",
    "ImportedArticle",
    "ImporterError",
    "article_path",
    "build_article",
    "clean",
    "import_file",
    "import_html",
    "import_jsonl",
    "import_markdown",
    "import_text",
    "iter_jsonl",
    "make_slug",
    "parse_date",
    "summarize",
    "write_article",
]


def import_file(kind: str, path: str | Path, slug: str | None = None) -> ImportedArticle:
    """Read one text, HTML or Markdown file; the source is recorded as its file name."""
    readers: dict[str, Callable[..., ImportedArticle]] = {
        "text": import_text,
        "html": import_html,
        "markdown": import_markdown,
    }
    path = Path(path)
    return readers[kind](path.read_text(encoding="utf-8"), path.name, slug=slug)
