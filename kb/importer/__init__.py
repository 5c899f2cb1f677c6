"""Turn raw article pages (text, HTML, Markdown, BEIR JSONL) into kb corpus Markdown files.

Plain-text pages copied off the web carry site chrome around the article. They are cleaned
by the ordered rules in ``RULES`` (one place, run in this order; each rule's docstring says
what it drops or recovers and why):

- ``whitespace``: strip each line, drop blank and whitespace-only lines.
- ``scroll-to-top``: drop "Scroll to Top" / "Back to top", also when glued onto a line's end.
- ``related-articles``: drop a "Related Articles" line and everything after it.
- ``advertisement``: drop "ADVERTISEMENT" / "Sponsored" placeholder lines.
- ``share-buttons``: drop lines made only of social network names ("Facebook X Reddit Email").
- ``dateline``: recover "Published August 08, 2025" above the article as ``published``.
- ``title``: recover the title (the line just above the dateline, standfirst or first long
  paragraph) and the standfirst (the sentence(s) between title and dateline) as ``summary``.
- ``site-banner``: drop the lines above the title (a marketing banner or site name).
- ``headings``: recover short lines standing alone between paragraphs as ``##`` headings.
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
