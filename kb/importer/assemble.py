"""From cleaned blocks to an ImportedArticle: title, summary, slug and Markdown body."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from kb.importer.blocks import Blocks, ImportedArticle
from kb.importer.rules import _dateline_date, review_date
from kb.markdown import slugify

SLUG_MAX_LENGTH = 80
SUMMARY_MAX_CHARS = 200
TITLE_WORDS_FROM_TEXT = 8

_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’)]))\s+(?=[\"“‘(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def truncate(text: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut, so a summary never ends mid-word."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


def summarize(text: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    """The first sentences of ``text`` that fit in ``limit`` characters (at least one, cut)."""
    summary = ""
    for sentence in split_sentences(" ".join(text.split())):
        longer = f"{summary} {sentence}".strip()
        if len(longer) > limit:
            break
        summary = longer
    return summary or truncate(" ".join(text.split()), limit)


def title_from_text(text: str, words: int = TITLE_WORDS_FROM_TEXT) -> str:
    """A stand-in title from the first words, for records and pages that have none."""
    first = split_sentences(" ".join(text.split()))[0] if text.strip() else ""
    parts = first.split()
    if len(parts) <= words:
        return first.rstrip(".")
    return " ".join(parts[:words]).rstrip(",;:.") + "…"


def clean_title(title: str) -> str:
    """One line, without the closing period some sites put after a headline."""
    title = " ".join(title.split())
    return title[:-1] if title.endswith(".") and not title.endswith("..") else title


_STOP_WORDS = frozenset("a an and or the of for to in on with at by".split())


def make_slug(text: str, max_length: int = SLUG_MAX_LENGTH) -> str:
    """An article slug from a title (kb.markdown.slugify, apostrophes dropped: "don't" ->
    "dont"), cut at a word boundary and not on a dangling "and"/"of"..."""
    full = slugify(re.sub(r"['’]", "", text), max_length=10_000)
    slug = slugify(re.sub(r"['’]", "", text), max_length=max_length)
    kept = slug.split("-") if slug else []
    while len(kept) > 1 and slug != full and kept[-1] in _STOP_WORDS:
        kept.pop()
    return "-".join(kept)


_HEADING_LIKE = re.compile(r"^(?:#+(?:[ \t]|$)|(?:```|~~~)|[-=*_ ]+$)")


def escape_paragraph(text: str) -> str:
    """Keep plain text from reading as Markdown structure (a heading, fence or rule)."""
    return "\\" + text if _HEADING_LIKE.match(text) else text


def render_body(blocks: Blocks) -> str:
    parts = []
    for block in blocks:
        if block.kind == "heading":
            parts.append(f"{'#' * block.level} {' '.join(block.text.split())}")
        elif block.kind == "markdown":
            parts.append(block.text.strip("\n"))
        elif block.kind in ("line", "paragraph"):
            parts.append(escape_paragraph(block.text))
    return "\n\n".join(parts)


def _first_text(blocks: Blocks) -> str:
    return next((b.text for b in blocks if b.kind in ("line", "paragraph")), "")


def build_article(
    blocks: Blocks,
    source: str,
    *,
    title: str | None = None,
    summary: str | None = None,
    published: date | None = None,
    slug: str | None = None,
    url: str | None = None,
    reviewed: date | None = None,
    next_review: date | None = None,
) -> ImportedArticle:
    """Assemble cleaned blocks; anything not given is taken from the blocks themselves."""
    by_kind = {b.kind: b for b in reversed(blocks)}
    first_text = _first_text(blocks)
    title = clean_title(title or (by_kind["title"].text if "title" in by_kind else "")) or (
        title_from_text(first_text)
    )
    if summary is None:
        summary = by_kind["standfirst"].text if "standfirst" in by_kind else summarize(first_text)
    if published is None and "published" in by_kind:
        published = _dateline_date(by_kind["published"].text)
    if reviewed is None and "reviewed" in by_kind:
        reviewed = review_date(by_kind["reviewed"])
    if next_review is None and "next_review" in by_kind:
        next_review = review_date(by_kind["next_review"])
    return ImportedArticle(
        title=title,
        slug=slug or make_slug(title) or make_slug(Path(source).stem),
        source=source,
        summary=" ".join(summary.split()),
        published=published,
        body_markdown=render_body(blocks),
        url=url,
        reviewed=reviewed,
        next_review=next_review,
    )


# --- readers ------------------------------------------------------------------------------------
