"""Readers for plain-text pages, Markdown files and BEIR JSON Lines records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import yaml

from kb.importer.assemble import (
    SUMMARY_MAX_CHARS,
    build_article,
    clean_title,
    escape_paragraph,
    make_slug,
    split_sentences,
    summarize,
    title_from_text,
    truncate,
)
from kb.importer.blocks import Block, Blocks, ImportedArticle, ImporterError
from kb.importer.rules import clean
from kb.markdown import headings, parse_date, parser, split_front_matter, to_plain


def import_text(raw: str, source: str, slug: str | None = None) -> ImportedArticle:
    """Import a page copied as plain text: one line is one paragraph, cleaned by RULES."""
    lines = raw.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return build_article(clean([Block("line", line) for line in lines]), source, slug=slug)


def _split_front_matter(text: str, source: str) -> tuple[dict, str]:
    try:
        parts = split_front_matter(text)
    except ValueError as exc:
        raise ImporterError(f"{source}: {exc}") from None
    if parts is None:
        return {}, text
    try:
        meta = yaml.safe_load(parts[0]) or {}
    except yaml.YAMLError as exc:
        raise ImporterError(f"{source}: invalid front matter: {exc}") from None
    if not isinstance(meta, dict):
        raise ImporterError(f"{source}: front matter must be a mapping of keys to values")
    return meta, parts[1]


def _markdown_blocks(body: str) -> Blocks:
    """Headings (ATX or setext) and the other top-level blocks, each as its source lines;
    code fences of either kind stay whole (kb.markdown)."""
    lines = body.split("\n")
    blocks: Blocks = []
    position = 0

    def chunk(start: int, end: int) -> None:
        text = "\n".join(lines[start:end]).strip("\n")
        if text.strip():
            blocks.append(Block("markdown", text))

    for heading in headings(body):
        _split_blank(lines, position, heading.start, chunk)
        blocks.append(Block("heading", heading.title, heading.level))
        position = heading.end
    _split_blank(lines, position, len(lines), chunk)
    return blocks


def _split_blank(lines: list[str], start: int, end: int, chunk) -> None:
    """The lines start..end as blank-line separated chunks, a fenced block kept whole."""
    text = "\n".join(lines[start:end])
    for token in parser().parse(text):
        if token.level == 0 and token.map and not token.type.endswith("_close"):
            chunk(start + token.map[0], start + token.map[1])


def _plain(markdown: str) -> str:
    """Markdown inline syntax removed, for a summary: links keep their text."""
    return to_plain(markdown)


def _markdown_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_date(str(value)) if value else None


def import_markdown(text: str, source: str, slug: str | None = None) -> ImportedArticle:
    """Import a Markdown file, with or without front matter; its headings are kept.

    The title comes from front matter or the first ``# `` heading, which is then removed
    since the corpus body never repeats the title; other level-1 headings become ``##``.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    meta, body = _split_front_matter(text, source)
    blocks = _markdown_blocks(body)
    title = str(meta.get("title") or "").strip()
    first_h1 = next((i for i, b in enumerate(blocks) if b.kind == "heading" and b.level == 1), None)
    if first_h1 is not None and (not title or clean_title(blocks[first_h1].text) == title):
        title = title or blocks[first_h1].text
        del blocks[first_h1]
    blocks = [replace(b, level=max(2, b.level)) if b.kind == "heading" else b for b in blocks]
    blocks = clean(blocks, "markdown")
    first = next((b.text for b in blocks if b.kind == "markdown" and b.text[:1].isalnum()), "")
    summary = str(meta.get("summary") or "").strip() or summarize(_plain(first))
    return build_article(
        blocks,
        source,
        title=title or title_from_text(_plain(first)),
        summary=summary,
        published=_markdown_date(meta.get("published") or meta.get("date")),
        slug=slug or (str(meta["slug"]) if meta.get("slug") else None),
        url=str(meta["url"]) if meta.get("url") else None,
    )


def _jsonl_article(record: object, name: str, line: int) -> ImportedArticle:
    if not isinstance(record, dict) or not str(record.get("_id", "")).strip():
        raise ImporterError(f'{name}:{line}: expected an object with an "_id"')
    doc_id = str(record["_id"]).strip()
    text = " ".join(str(record.get("text") or "").split())
    if not text:
        raise ImporterError(f"{name}:{line}: record {doc_id!r} has no text")
    slug = make_slug(doc_id)
    if not slug:
        raise ImporterError(f"{name}:{line}: _id {doc_id!r} gives no usable slug")
    title = clean_title(str(record.get("title") or "")) or title_from_text(text)
    return ImportedArticle(
        title=title,
        slug=slug,
        source=f"{name}:{doc_id}",
        summary=truncate(split_sentences(text)[0], SUMMARY_MAX_CHARS),
        published=None,
        body_markdown=escape_paragraph(text),
    )


def iter_jsonl(
    path: str | Path, skipped: list[ImporterError] | None = None
) -> Iterator[ImportedArticle]:
    """Yield one article per line of a BEIR ``corpus.jsonl``, reading one line at a time.

    A bad record (invalid JSON, no ``_id``, no text) raises ImporterError with
    ``name:line``; when a ``skipped`` list is given, the error is appended to it instead and
    the record skipped.
    """
    path = Path(path)
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ImporterError(f"{path.name}:{number}: invalid JSON ({exc.msg})") from None
                article = _jsonl_article(record, path.name, number)
            except ImporterError as exc:
                if skipped is None:
                    raise
                skipped.append(exc)
                continue
            yield article
