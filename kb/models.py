"""kb's own data shapes, free of Flask and Whoosh so every layer can share them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kb.taxonomy import Topic

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


AUDIENCES = ("patients", "clinicians", "families")


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
    # Review metadata a clinic's governance needs (all optional in front matter).
    reviewed: date | None = None
    next_review: date | None = None
    reviewed_by: str | None = None
    authors: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()  # of AUDIENCES
    tags: tuple[str, ...] = ()

    def review_overdue(self, today: date) -> bool:
        """Whether the article's next review date has passed."""
        return self.next_review is not None and self.next_review < today

    def section(self, anchor: str) -> Section | None:
        return next((s for s in self.sections if s.anchor == anchor), None)

    @property
    def section_count(self) -> int:
        return len(self.sections)

    @property
    def section_topics(self) -> tuple[str, ...]:
        """Every topic id of any of its sections, sorted: what the article is about."""
        return tuple(sorted({t for s in self.sections for t in s.topics}))


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
class Correction:
    """A typed word kb read as a misspelling: replaced (`applied`) or only suggested."""

    word: str
    replacement: str
    applied: bool


@dataclass(frozen=True)
class Expansion:
    """A taxonomy expression kb also searched for because the query named its synonym."""

    typed: str  # the expression found in the query ("meds")
    term: str  # the expression added ("medication")


@dataclass(frozen=True)
class Interpretation:
    """What kb did to a query, as data: a search response's `interpretation`."""

    corrections: tuple[Correction, ...] = ()
    expansions: tuple[Expansion, ...] = ()
    ignored: tuple[str, ...] = ()  # words too common to search for ("how", "my")
    dropped: tuple[str, ...] = ()  # words left out of a very long query (least informative)


@dataclass(frozen=True)
class SearchResults:
    query: str
    total: int
    limit: int
    offset: int
    hits: tuple[Hit, ...]
    topic_facets: tuple[FacetCount, ...] = ()
    article_facets: tuple[FacetCount, ...] = ()
    article_total: int = 0  # articles holding a match (article_facets lists the top ones)
    did_you_mean: str | None = None
    corrected: bool = False
    notices: tuple[Notice, ...] = field(default_factory=tuple)
    interpretation: Interpretation = field(default_factory=Interpretation)


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: str  # "section", "topic" or "term"
    section_id: str | None = None


# -- composites: what one answer of kb holds when it needs more than one model -----------


@dataclass(frozen=True)
class SectionDetail:
    """One section in its place: its article, its neighbours and sections like it."""

    section: Section
    article: Article
    related: tuple[Section, ...] = ()

    @property
    def previous(self) -> Section | None:
        index = self.section.position
        return self.article.sections[index - 1] if index > 0 else None

    @property
    def next(self) -> Section | None:
        index = self.section.position
        siblings = self.article.sections
        return siblings[index + 1] if index + 1 < len(siblings) else None


@dataclass(frozen=True)
class RelatedSections:
    """Sections most like the section `section_id`, never itself."""

    section_id: str
    related: tuple[Section, ...]


@dataclass(frozen=True)
class ArticleList:
    articles: tuple[Article, ...]


@dataclass(frozen=True)
class TopicSummary:
    """A topic of the taxonomy and how many sections have it."""

    topic: Topic
    section_count: int


@dataclass(frozen=True)
class TopicList:
    topics: tuple[TopicSummary, ...]


@dataclass(frozen=True)
class TopicDetail:
    """A topic of the taxonomy and its sections."""

    topic: Topic
    sections: tuple[Section, ...]

    @property
    def section_count(self) -> int:
        return len(self.sections)


@dataclass(frozen=True)
class Suggestions:
    """Completions for what someone has typed so far (`query`)."""

    query: str
    suggestions: tuple[Suggestion, ...]


@dataclass(frozen=True)
class IndexStatus:
    """Which index build is served, and how big it is."""

    status: str  # "ok" when a build is served
    build: str
    built_at: str
    articles: int
    sections: int
