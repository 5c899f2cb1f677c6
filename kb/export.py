"""Every section of a corpus, out in bulk: JSON Lines or CSV, streamed article by article.

`kb export sections` reads the corpus directory one file at a time (parse, assign topics
as a build would, write its sections, forget it), so memory stays flat however large the
corpus is. Columns are `FIELDS`, always in this order:

    id            section id, <article slug>:<anchor> (as in the API)
    article       article slug
    article_title the article's title
    title         the section's heading (the article title for its introduction)
    anchor        the section's anchor
    level         heading level (1 for the introduction)
    position      0-based order within the article
    breadcrumb    heading path from the top (JSON list; CSV: joined by " > ")
    topics        topic ids (JSON list; CSV: joined by "; ")
    word_count    words in the section's text
    published     the article's published date (ISO) or empty
    reviewed      the article's last review date (ISO) or empty
    next_review   the article's next review date (ISO) or empty
    url           the article's own url, else kb's article page (under KB_PUBLIC_URL when set,
                  else a path), with #anchor
    text          the section's Markdown text
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from kb.corpus import CorpusError, load_article
from kb.taxonomy import Taxonomy
from kb.topics import tag_article

FIELDS = (
    "id",
    "article",
    "article_title",
    "title",
    "anchor",
    "level",
    "position",
    "breadcrumb",
    "topics",
    "word_count",
    "published",
    "reviewed",
    "next_review",
    "url",
    "text",
)
FORMATS = ("jsonl", "csv")


def iter_section_rows(
    corpus_dir: str | Path,
    taxonomy: Taxonomy,
    *,
    topic: str | None = None,
    article: str | None = None,
    public_url: str = "",
) -> Iterator[dict]:
    """One row (FIELDS) per section, article files in name order; CorpusError as a build."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(corpus_dir, 0, "corpus directory does not exist")
    for path in sorted(corpus_dir.glob("*.md")):
        parsed = load_article(path, taxonomy)
        if article is not None and parsed.slug != article:
            continue
        tagged = tag_article(parsed, taxonomy)
        page = tagged.url or f"{public_url.rstrip('/')}/articles/{tagged.slug}"
        for section in tagged.sections:
            if topic is not None and topic not in section.topics:
                continue
            yield {
                "id": section.id,
                "article": tagged.slug,
                "article_title": tagged.title,
                "title": section.title,
                "anchor": section.anchor,
                "level": section.level,
                "position": section.position,
                "breadcrumb": list(section.breadcrumb),
                "topics": list(section.topics),
                "word_count": section.word_count,
                "published": _iso(tagged.published),
                "reviewed": _iso(tagged.reviewed),
                "next_review": _iso(tagged.next_review),
                "url": f"{page}#{section.anchor}",
                "text": section.text,
            }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def write_rows(rows: Iterable[dict], out: TextIO, fmt: str) -> int:
    """Write rows as JSON Lines or CSV (header first); returns how many were written."""
    count = 0
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow([_csv_value(name, row[name]) for name in FIELDS])
        count += 1
    return count


def _csv_value(name: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return (" > " if name == "breadcrumb" else "; ").join(value)
    return str(value)
