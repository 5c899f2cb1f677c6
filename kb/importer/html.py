"""Reading HTML pages: the main content found by trafilatura, then kb's junk-line rules.

A page exported from WordPress, Squarespace, Drupal or an NHS-style CMS carries a cookie
banner, menus, a newsletter box, a sidebar, related posts, readers' comments and a footer
around the article. Finding the article in all that is a job for a maintained extractor:
trafilatura (compared with readability-lxml and kb's own tag rules on the pages under
tests/data/importer/sites/; see README) returns the main content as XML with its
structure: headings, paragraphs, lists (nested, numbered), tables and figure captions.
This module turns that XML into kb's blocks (lists and tables as Markdown), takes the
title, description, published date and URL from the page's metadata, and "Page last
reviewed" / "Next review due" lines (NHS-style pages) as review dates. The same junk-line
rules as for text pages (kb.importer.rules) then drop what the extractor kept.
"""

from __future__ import annotations

import re
from datetime import date
from xml.etree import ElementTree

import trafilatura
from trafilatura.settings import use_config

from kb.importer.assemble import build_article
from kb.importer.blocks import Block, Blocks, ImportedArticle, ImporterError
from kb.importer.rules import clean, parse_date, recover_review_dates, review_date

_HEADING_LEVEL = {f"h{n}": n for n in range(1, 7)}
# trafilatura's defaults skip pages under 250 characters; a short page is still an article.
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
_CONFIG.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
_CONFIG.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
# For reading the page's own lines: inline tags vanish, every other tag ends a line.
_INLINE_TAG_RE = re.compile(r"</?(?:time|span|a|strong|b|em|i|abbr|small)\b[^>]*>", re.I)
_TAG_RE = re.compile(r"<[^>]+>")
# trafilatura leaves figure captions out; on a clinic's page they are article text.
_FIGCAPTION_RE = re.compile(r"<(/?)figcaption\b", re.I)


def _text(element) -> str:
    """An element's text with inline children joined and whitespace collapsed."""
    text = " ".join("".join(element.itertext()).split())
    # Inline elements leave a space before punctuation in some pages ("anxiety .").
    return re.sub(r"\s+([.,;:!?)])", r"\1", text)


def _inline(element) -> str:
    """Text of an element whose <lb/> line breaks become spaces."""
    for lb in element.iter("lb"):
        lb.tail = " " + (lb.tail or "")
    return _text(element)


def _list_markdown(element, depth: int = 0) -> list[str]:
    """A <list rend="ol|ul"> as Markdown lines, nested lists indented under their item."""
    ordered = (element.get("rend") or "").startswith("ol")
    lines = []
    number = 0
    for item in element.findall("item"):
        number += 1
        nested = item.findall("list")
        for sub in nested:
            item.remove(sub)
        marker = f"{number}." if ordered else "-"
        text = _inline(item)
        if text:
            lines.append(f"{'   ' * depth}{marker} {text}")
        for sub in nested:
            lines.extend(_list_markdown(sub, depth + 1))
    return lines


def _cell(cell) -> str:
    return _inline(cell).replace("|", "\\|")


def _table_markdown(element) -> str:
    """A <table> as a Markdown (GFM) table; the first row is the header."""
    rows = [[_cell(c) for c in row.findall("cell")] for row in element.iter("row")]
    rows = [r for r in rows if any(r)]
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def _blocks(main) -> Blocks:
    blocks: Blocks = []
    for element in main:
        tag = element.tag
        if tag == "head":
            level = _HEADING_LEVEL.get(element.get("rend") or "", 2)
            # h1 is kept at level 1 here: import_html takes it as the title.
            blocks.append(
                Block("heading", _inline(element), level if level == 1 else max(2, level))
            )
        elif tag == "list":
            lines = _list_markdown(element)
            if lines:
                blocks.append(Block("markdown", "\n".join(lines)))
        elif tag == "table":
            table = _table_markdown(element)
            if table:
                blocks.append(Block("markdown", table))
        elif tag == "quote":
            text = _inline(element)
            if text:
                blocks.append(Block("markdown", "> " + text))
        elif tag == "graphic":
            continue  # an image: its caption, when the page has one, is a <p> of its own
        else:
            text = _inline(element)
            if text:
                blocks.append(Block("paragraph", text))
    return blocks


def _without_site_name(title: str, site: str) -> str:
    """ "Why Anxiety Keeps You Awake - Harbour Lane Psychology" -> "Why Anxiety Keeps You Awake"."""
    if site:
        for separator in (" - ", " | ", " – ", " — ", " · "):
            if title.endswith(separator + site):
                return title[: -len(separator + site)].strip()
    return title


def _review_dates(html: str) -> tuple[date | None, date | None]:
    """ "Page last reviewed: 14 March 2024" and "Next review due: ..." anywhere on the page
    (NHS-style pages put them below the article, where the extractor does not look), read
    by the same rule as text pages (kb.importer.rules, review-dates)."""
    text = _TAG_RE.sub("\n", _INLINE_TAG_RE.sub("", html))
    lines = [Block("line", " ".join(line.split())) for line in text.split("\n") if line.strip()]
    found = {b.kind: review_date(b) for b in recover_review_dates(lines)}
    return found.get("reviewed"), found.get("next_review")


def import_html(html: str, source: str, slug: str | None = None) -> ImportedArticle:
    """Import an HTML page: its main content without chrome, h1 as title, h2-h6 headings."""
    extracted = trafilatura.extract(
        _FIGCAPTION_RE.sub(r"<\1p", html),
        output_format="xml",
        include_tables=True,
        include_images=True,
        include_formatting=False,
        include_comments=False,
        include_links=False,
        with_metadata=True,
        favor_recall=True,
        deduplicate=False,
        config=_CONFIG,
        # Only a date the page states (metadata, <time>), never htmldate's guesses from
        # copyright lines or file names.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if not extracted:
        raise ImporterError(f"{source}: no article text found in the page")
    doc = ElementTree.fromstring(extracted)
    main = doc.find("main")
    if main is None:
        raise ImporterError(f"{source}: no article text found in the page")
    blocks = _blocks(main)
    h1 = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), "")
    title = h1 or _without_site_name(doc.get("title") or "", doc.get("sitename") or "")
    # The page's own h1 is the title, not a section.
    blocks = [b for b in blocks if not (b.kind == "heading" and b.level == 1)]
    reviewed, next_review = _review_dates(html)
    blocks = clean(blocks, "html")
    published = parse_date(doc.get("date") or "") if doc.get("date") else None
    if published is not None and published == reviewed:
        published = None  # the only date on the page is its review date
    return build_article(
        blocks,
        source,
        title=title or None,
        summary=doc.get("description") or None,
        published=published,
        slug=slug,
        url=doc.get("url") or None,
        reviewed=reviewed,
        next_review=next_review,
    )
