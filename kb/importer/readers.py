"""Readers for plain-text pages, Markdown files and BEIR JSON Lines records."""

from __future__ import annotations

import json
import re
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
from kb.importer.rules import clean, parse_date


def import_text(raw: str, source: str, slug: str | None = None) -> ImportedArticle:
    """Import a page copied as plain text: one line is one paragraph, cleaned by RULES."""
    lines = raw.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return build_article(clean([Block("line", line) for line in lines]), source, slug=slug)


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S | re.M)
_ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _split_front_matter(text: str, source: str) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ImporterError(f"{source}: invalid front matter: {exc}") from None
    if not isinstance(meta, dict):
        raise ImporterError(f"{source}: front matter must be a mapping of keys to values")
    return meta, text[match.end() :]


def _markdown_blocks(body: str) -> Blocks:
    """Headings and blank-line separated chunks; code fences stay whole."""
    blocks: Blocks = []
    chunk: list[str] = []
    in_fence = False

    def flush() -> None:
        if "".join(chunk).strip():
            blocks.append(Block("markdown", "\n".join(chunk).strip("\n")))
        chunk.clear()

    for line in body.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _ATX.match(line)
        if heading:
            flush()
            blocks.append(Block("heading", heading.group(2).strip(), len(heading.group(1))))
        elif not line.strip() and not in_fence:
            flush()
        else:
            chunk.append(line)
    flush()
    return blocks


def _plain(markdown: str) -> str:
    """Markdown inline syntax removed, for a summary: links keep their text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return " ".join(re.sub(r"[*_`]+", "", text).split())


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
