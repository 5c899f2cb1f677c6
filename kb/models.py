"""kb's own data shapes, free of Flask and Whoosh so every layer can share them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# A section id joins the article slug and the heading anchor. Both are limited to
# [a-z0-9-], so the separator can never occur inside either part.
SECTION_ID_SEPARATOR = ":"


def make_section_id(slug: str, anchor: str) -> str:
    return f"{slug}{SECTION_ID_SEPARATOR}{anchor}"


def split_section_id(section_id: str) -> tuple[str, str]:
    """Inverse of make_section_id; raises ValueError when the id has no separator."""
    slug, sep, anchor = section_id.partition(SECTION_ID_SEPARATOR)
    if not sep or not slug or not anchor:
        raise ValueError(f"not a section id: {section_id!r}")
    return slug, anchor


@dataclass(frozen=True)
class Section:
    """One heading of an article and the text under it, the unit kb indexes and returns."""

    id: str
    article: str  # the article slug
    anchor: str
    title: str
    level: int
    breadcrumb: tuple[str, ...]  # heading path from the top, ending with this title
    position: int  # 0-based order within the article
    text: str  # Markdown, without the heading line
    word_count: int
    line: int  # 1-based line of the heading in the source file (for error messages)
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    source: str
    summary: str
    sections: tuple[Section, ...]
    published: date | None = None
    url: str | None = None
    topics: tuple[str, ...] | None = None  # front-matter override, see kb.topics
    path: str = ""

    def section(self, anchor: str) -> Section | None:
        return next((s for s in self.sections if s.anchor == anchor), None)


@dataclass(frozen=True)
class Hit:
    """A section that matched a query, as the search layer reports it."""

    section: Section
    article_title: str
    article_url: str | None
    score: float
    snippet: str  # HTML: escaped text with matches wrapped in <mark>


@dataclass(frozen=True)
class FacetCount:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class Notice:
    kind: str  # e.g. "crisis"
    title: str
    message: str
    resources: tuple[dict, ...] = ()


@dataclass(frozen=True)
class SearchResults:
    query: str
    total: int
    limit: int
    offset: int
    hits: tuple[Hit, ...]
    topic_facets: tuple[FacetCount, ...] = ()
    article_facets: tuple[FacetCount, ...] = ()
    did_you_mean: str | None = None
    corrected: bool = False
    notices: tuple[Notice, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: str  # "section", "topic" or "term"
    section_id: str | None = None
