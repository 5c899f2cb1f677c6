"""The importer's data: errors, the article it produces, and the blocks its rules rewrite."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from kb.corpus import SLUG_RE  # the importer writes what the corpus loader accepts


class ImporterError(Exception):
    """Input the importer cannot turn into a corpus article; str() is one line for the user."""


class ArticleExists(ImporterError):
    """The corpus already has a file for this slug and replacing it was not asked for."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"{path} already exists")


class DuplicateSlug(ImporterError):
    """Two records of one import map to the same slug, so one would overwrite the other."""


@dataclass(frozen=True)
class ImportedArticle:
    """One article ready for the corpus; ``to_markdown()`` is the file's text."""

    title: str
    slug: str
    source: str
    summary: str
    published: date | None
    body_markdown: str
    url: str | None = None
    reviewed: date | None = None  # "Page last reviewed" on NHS-style pages
    next_review: date | None = None  # "Next review due"

    def __post_init__(self) -> None:
        for name, label in (("body_markdown", "text"), ("title", "title"), ("source", "source")):
            if not getattr(self, name).strip():
                raise ImporterError(f"{self.source or '<input>'}: article has no {label}")
        if not self.summary.strip():
            raise ImporterError(f"{self.source}: article has no summary")
        if not SLUG_RE.match(self.slug):
            raise ImporterError(
                f"invalid slug {self.slug!r}: use lower-case letters, digits and single hyphens"
            )

    def to_markdown(self) -> str:
        meta = {
            "title": self.title,
            "slug": self.slug,
            "source": self.source,
            "summary": self.summary,
        }
        if self.published:
            meta["published"] = self.published
        if self.url:
            meta["url"] = self.url
        if self.reviewed:
            meta["reviewed"] = self.reviewed
        if self.next_review:
            meta["next_review"] = self.next_review
        # safe_dump quotes whatever YAML would misread (colons, dates, leading symbols).
        front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1_000_000)
        return f"---\n{front}---\n\n{self.body_markdown.strip()}\n"


# --- blocks and rules ------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A line of the page and what the rules decided it is.

    kind: ``line`` (undecided), ``title``, ``standfirst``, ``published``, ``reviewed``,
    ``next_review``, ``heading``, ``paragraph`` (plain text) or ``markdown`` (already
    Markdown, written as is). ``blank_before`` (a blank line stood above it in the page) and
    ``indent`` (its leading tabs) are the layout the ``whitespace`` rule strips, kept for the
    rules that read lists and headings; they do not take part in comparisons.
    """

    kind: str
    text: str
    level: int = 0
    blank_before: bool = field(default=False, compare=False)
    indent: int = field(default=0, compare=False)


Blocks = list[Block]


ALL_FORMATS = frozenset({"text", "html", "markdown"})
WEB_FORMATS = frozenset({"text", "html"})  # pages, as opposed to authored Markdown


@dataclass(frozen=True)
class Rule:
    name: str
    apply: Callable[[Blocks], Blocks]
    formats: frozenset[str] = ALL_FORMATS  # the readers that run it

    @property
    def description(self) -> str:
        return inspect.getdoc(self.apply) or ""
