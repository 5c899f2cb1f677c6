"""KnowledgeBase: one opened index build, and every read of it (search, lookups, suggestions).

It wires the parts together and holds no search logic of its own: queries are built by
kb.search.query, ranked by kb.search.ranking, filtered and faceted by kb.search.facets,
shown with kb.search.snippets and completed by kb.search.suggest. The analyzer is the one
the build's schema stores, so the build and the server cannot analyze text differently.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from whoosh.query import NullQuery
from whoosh.searching import Searcher

from kb.errors import ArticleNotFound, SectionNotFound, TopicNotFound
from kb.forward import read_forward
from kb.index import (
    OWN_FILES,
    OWN_POSTINGS_FORMAT,
    IndexNotFound,
    read_build,
    read_stems,
    read_taxonomy,
    read_vocabulary,
)
from kb.models import Article, Hit, SearchResults, Section, Suggestion
from kb.postings import StoredPostings, read_postings_store
from kb.safety import CrisisSettings, crisis_notices
from kb.search import cache
from kb.search.facets import DocumentTable
from kb.search.memo import MemoAnalyzer
from kb.search.query import ParsedQuery, QueryParser, analyze_expansion_groups
from kb.search.ranking import (
    Feedback,
    Ranker,
    Scores,
    SectionAnalysis,
    SentenceMatch,
    weighting,
)
from kb.search.reader import StoredReader
from kb.search.related import RelatedSections
from kb.search.settings import TEXT_FIELDS, RankingSettings
from kb.search.snippets import SNIPPET_MAXCHARS, Snippets
from kb.search.spelling import SpellingCorrector, Vocabulary
from kb.search.suggest import Suggester
from kb.taxonomy import Taxonomy, Topic


class KnowledgeBase:
    """One opened index build. Reads are thread-safe: each thread gets its own Searcher.

    `ranking` is read on every query, so a copy with other settings (and a fresh
    `_local`) ranks differently without re-opening the build (benchmarks/tuning.py).
    """

    def __init__(
        self,
        build_dir: str | Path,
        crisis: CrisisSettings | None = None,
        ranking: RankingSettings | None = None,
        taxonomy: Taxonomy | None = None,
    ):
        self.build_dir = Path(build_dir)
        self.ix, articles, self.meta = open_build(self.build_dir)
        # Whoosh's files of the build: if one goes away (the index directory removed or
        # moved while serving), `check_files` says so and requests get a clear 503. kb's own
        # files are read or mapped here, once, so a request never opens them again.
        self._files = tuple(
            sorted(p for p in self.build_dir.iterdir() if p.is_file() and p.name not in OWN_FILES)
        )
        self.version: str = self.meta["build"]
        self.built_at: str = self.meta["built_at"]
        self.articles: dict[str, Article] = {a.slug: a for a in articles}
        self.sections: dict[str, Section] = {s.id: s for a in articles for s in a.sections}
        self.crisis = crisis or CrisisSettings()
        self.ranking = ranking or RankingSettings()
        # The build's own taxonomy and analyzer (stored with it), so build and server agree.
        self.taxonomy = taxonomy or read_taxonomy(self.build_dir)
        self.analyzer = self.ix.schema["body"].analyzer
        memo = MemoAnalyzer(self.analyzer, read_stems(self.build_dir))
        self._local = threading.local()
        self._stored: StoredPostings | None = None
        reader = self._open(self.ix.reader)
        counts = read_vocabulary(self.build_dir)
        self.vocabulary = (
            Vocabulary.from_counts(counts) if counts is not None else Vocabulary.from_reader(reader)
        )
        self.queries = QueryParser(
            self.ix.schema,
            memo,
            analyze_expansion_groups(self.taxonomy, self.analyzer),
            SpellingCorrector(self.vocabulary),
            self._reader,
        )
        self.documents = DocumentTable(reader, self.sections, self.articles, self.taxonomy)
        reader.close()
        forward = self._read_own(read_forward, "section terms")
        rows = self._forward_rows() if forward is not None else None
        stored = self._read_own(read_postings_store, "postings") if rows is not None else None
        if stored is None and self.meta.get("format", 0) >= OWN_POSTINGS_FORMAT:
            raise IndexNotFound(
                f"index build {self.build_dir} has lost its title and body postings: run `kb build`"
            )
        boosts = {f: self.ix.schema[f].format.field_boost for f in TEXT_FIELDS}
        self._stored = StoredPostings(stored, forward, rows, boosts) if stored is not None else None
        analysis = SectionAnalysis(memo, self.documents.section, forward, rows)
        self.feedback = Feedback(analysis)
        self.sentence_match = SentenceMatch(analysis)
        self.snippets = Snippets(memo)
        self.suggester = Suggester(self.sections.values(), self.taxonomy, self.vocabulary)
        self._results: cache.SharedCache[SearchResults] = cache.SharedCache(cache.RESULTS)
        self.related_sections = RelatedSections(self.searcher, self.sections)

    # -- plumbing ----------------------------------------------------------------------

    def _read_own(self, read, what: str):
        """read(build directory), one of kb's own files of the build (None: a build made
        without them); IndexNotFound if they cannot be read."""
        try:
            return read(self.build_dir)
        except (OSError, ValueError) as exc:
            raise IndexNotFound(
                f"index build {self.build_dir} has unreadable {what} ({exc}): run `kb build`"
            ) from exc

    def _forward_rows(self) -> np.ndarray:
        """Each docnum's row in the build's kb.forward arrays (sections in corpus.json's
        order, as self.sections holds them; -1 for a deleted document)."""
        row = {section_id: n for n, section_id in enumerate(self.sections)}
        return np.array(
            [row[s.id] if s is not None else -1 for s in self.documents.sections], dtype=np.intp
        )

    def searcher(self):
        """This thread's Whoosh Searcher of the build (weighted as `ranking` says), reading
        the title and body from the build's own postings (kb.search.reader) when it has them."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            reader = self._open(self.ix.reader)
            if self._stored is not None:
                reader = StoredReader(reader, self._stored)
            searcher = Searcher(reader, weighting=weighting(self.ranking), fromindex=self.ix)
            self._local.searcher = searcher
        return searcher

    def _open(self, open_reader):
        """open_reader(), or IndexNotFound if the build's Whoosh files cannot be read."""
        try:
            return open_reader()
        except Exception as exc:  # noqa: BLE001 - files gone or damaged since opening
            raise IndexNotFound(
                f"index build {self.build_dir} can no longer be read "
                f"({type(exc).__name__}): run `kb build`"
            ) from exc

    def check_files(self) -> None:
        """Raise IndexNotFound if a file of this build has gone since it was opened."""
        for path in self._files:
            if not path.exists():
                raise IndexNotFound(
                    f"index build {self.build_dir} has lost {path.name} since it was opened: "
                    "run `kb build`"
                )

    def _reader(self):
        return self.searcher().reader()

    def _ranker(self) -> Ranker:
        ranker = getattr(self._local, "ranker", None)
        if ranker is None:
            ranker = Ranker(self.searcher(), self.ranking.k1, self.ranking.b, self._stored)
            self._local.ranker = ranker
        return ranker

    def close(self) -> None:
        """Close this thread's Searcher and the index."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
        self.ix.close()

    # -- lookups -----------------------------------------------------------------------

    def section_count(self) -> int:
        """The number of sections in the build."""
        return len(self.sections)

    def article_of(self, section: Section) -> Article:
        """The article a section belongs to."""
        return self.articles[section.article]

    def get_section(self, section_id: str) -> Section:
        """The section with this id; SectionNotFound if there is none."""
        try:
            return self.sections[section_id]
        except KeyError:
            raise SectionNotFound(section_id) from None

    def get_article(self, slug: str) -> Article:
        """The article with this slug; ArticleNotFound if there is none."""
        try:
            return self.articles[slug]
        except KeyError:
            raise ArticleNotFound(slug) from None

    def get_topic(self, topic_id: str) -> Topic:
        """The taxonomy's topic with this id; TopicNotFound if there is none."""
        try:
            return self.taxonomy.by_id[topic_id]
        except KeyError:
            raise TopicNotFound(topic_id) from None

    def topic_counts(self) -> dict[str, int]:
        """Sections per topic id: every taxonomy topic (0 if unused), then any other."""
        counts = {t.id: 0 for t in self.taxonomy.topics}
        for section in self.sections.values():
            for topic in section.topics:
                counts[topic] = counts.get(topic, 0) + 1
        return counts

    def sections_with_topic(self, topic_id: str) -> list[Section]:
        """The sections tagged with a topic, in build order."""
        return [s for s in self.sections.values() if topic_id in s.topics]

    # -- searching ---------------------------------------------------------------------

    def parse(self, text: str, syntax: str = "plain") -> ParsedQuery:
        """What kb makes of `text` (see QueryParser.parse) under this build's ranking."""
        return self.queries.parse(text, self.ranking, syntax)

    def search(
        self,
        text: str,
        limit: int = 10,
        offset: int = 0,
        topic: str | None = None,
        article: str | None = None,
        syntax: str = "plain",
    ) -> SearchResults:
        """Sections matching `text`, best first: hits offset..offset + limit with snippets,
        the total, topic and article facets over every match, a did-you-mean and any
        crisis notices. Repeated searches come from a cache.

        Raises InvalidQuery (unknown topic, bad advanced syntax) and ArticleNotFound.
        """
        text = " ".join(text.split())
        key = (text, limit, offset, topic, article, syntax)
        return self._results.get_or_compute(
            key, lambda: self._search(text, limit, offset, topic, article, syntax)
        )

    def _search(
        self,
        text: str,
        limit: int,
        offset: int,
        topic: str | None,
        article: str | None,
        syntax: str,
    ) -> SearchResults:
        parsed = self.parse(text, syntax)
        allowed = self.documents.allowed(topic, article)
        notices = crisis_notices(text, self.crisis)
        if parsed.query is NullQuery:
            return SearchResults(
                query=text,
                total=0,
                limit=limit,
                offset=offset,
                hits=(),
                notices=notices,
                interpretation=parsed.interpretation,
            )
        scores = self._scores(parsed, allowed)
        hits = tuple(
            self._hit(self.documents.section(docnum), score, parsed)
            for docnum, score in scores.top(offset + limit)[offset:]
        )
        # Facets over the whole match set, from per-document tables (no stored-field reads).
        topic_facets, article_facets, article_total = self.documents.facets(scores.ids)
        return SearchResults(
            query=text,
            total=len(scores),
            limit=limit,
            offset=offset,
            hits=hits,
            topic_facets=topic_facets,
            article_facets=article_facets,
            article_total=article_total,
            did_you_mean=parsed.corrected_text or parsed.suggestion_text,
            corrected=parsed.corrected_text is not None,
            notices=notices,
            interpretation=parsed.interpretation,
        )

    def rank(self, text: str, limit: int = 100, syntax: str = "plain") -> list[tuple[str, float]]:
        """(section id, score) best first: search()'s ranking without facets or snippets.

        For evaluation (benchmarks/relevance.py) and tools that need a long ranked list.
        """
        parsed = self.parse(" ".join(text.split()), syntax)
        if parsed.query is NullQuery:
            return []
        scores = self._scores(parsed)
        return [(self.documents.section(d).id, score) for d, score in scores.top(limit)]

    def _scores(self, parsed: ParsedQuery, allowed: np.ndarray | None = None) -> Scores:
        """Every match (passing `allowed`) and its score: the first pass re-ranked by
        feedback, then the first results by their best sentence. search() and rank() share it."""
        ranker = self._ranker()
        scores = self.feedback.rank(ranker, parsed, self.ranking, allowed)
        self.sentence_match.rerank(ranker, parsed.query, scores, self.ranking)
        return scores

    def _hit(self, section: Section, score: float, parsed: ParsedQuery) -> Hit:
        article = self.articles[section.article]
        return Hit(
            section=section,
            article_title=article.title,
            article_url=article.url,
            score=round(float(score), 4),
            snippet=self.snippet(section, parsed.highlight_terms, phrases=parsed.highlight_phrases),
        )

    def snippet(
        self,
        section: Section,
        terms: frozenset[str],
        maxchars: int = SNIPPET_MAXCHARS,
        phrases: frozenset[tuple[str, ...]] = frozenset(),
    ) -> str:
        """HTML snippet of a section: its best fragment for `terms` (and the multi-word
        `phrases`, marked only where whole), matches in <mark>."""
        return self.snippets.snippet(section, terms, maxchars, phrases)

    # -- related sections and suggestions ----------------------------------------------

    def related(self, section_id: str, limit: int = 5) -> tuple[Section, ...]:
        """Up to `limit` sections most like this one, itself excluded (see RelatedSections);
        SectionNotFound for an unknown id."""
        return self.related_sections.related(self.get_section(section_id), limit)

    def suggest(self, prefix: str, limit: int = 8) -> tuple[Suggestion, ...]:
        """As-you-type suggestions for `prefix` (see Suggester.suggest)."""
        return self.suggester.suggest(prefix, limit)


def open_build(build_dir: Path) -> tuple:
    """(Whoosh index, articles, meta) of a build; IndexNotFound if it is damaged."""
    ix, articles, meta = read_build(build_dir)
    try:
        # Open a reader now: a build with missing or truncated segment files fails here,
        # once, with a clear error, instead of on every search.
        ix.reader().close()
    except Exception as exc:  # noqa: BLE001 - any damage means the same to the caller
        raise IndexNotFound(
            f"index build {build_dir} is damaged ({type(exc).__name__}): run `kb build`"
        ) from exc
    return ix, articles, meta
