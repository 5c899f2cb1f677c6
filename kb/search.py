"""Search over one index build: query building, ranking, snippets, facets, suggestions.

Everything returned is a kb model (kb.models); Whoosh objects stay inside this module.

Plain text is the default: the query is analyzed word by word and the Whoosh query is built
directly, so quotes, colons, AND, * and brackets are only text and can never be a syntax
error. `syntax="advanced"` opts into Whoosh's query language for people who want it.
"""

from __future__ import annotations

import bisect
import html
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from whoosh import highlight, scoring
from whoosh.qparser import MultifieldParser
from whoosh.query import And, NullQuery, Or, Phrase, Term
from whoosh.sorting import FieldFacet

from kb.analysis import WORD_RE, contains_sequence, default_analyzer, phrase_variants
from kb.index import current_build, read_build
from kb.models import (
    Article,
    FacetCount,
    Hit,
    SearchResults,
    Section,
    Suggestion,
)
from kb.safety import CrisisSettings, crisis_notices
from kb.topics import Taxonomy, load_taxonomy

TEXT_FIELDS = ("title", "body", "breadcrumb")
PHRASE_FIELDS = ("title", "body")


@dataclass(frozen=True)
class RankingSettings:
    """The one ranking configuration every corpus gets (tuned in benchmarks/)."""

    k1: float = 1.2
    b: float = 0.75
    phrase_boost: float = 1.0
    phrase_slop: int = 2
    joined_boost: float = 0.5
    expansion_weight: float = 0.6
    correction_min_length: int = 5  # shorter words are too often right and merely absent
    correction_distance_two_length: int = 8  # only long words may be two edits away


class InvalidQuery(ValueError):
    """The caller's query or filters cannot be searched; the message says why."""


class SectionNotFound(LookupError):
    pass


class ArticleNotFound(LookupError):
    pass


@dataclass
class ParsedQuery:
    """What kb made of the caller's text: the Whoosh query and the terms to highlight."""

    query: object
    highlight_terms: frozenset[str]
    corrected_text: str | None = None  # set when a word was replaced by a correction
    suggestion_text: str | None = None  # set when a correction would probably do better


@dataclass
class _Word:
    text: str  # lower-cased surface form
    terms: list[str]  # its analyzed terms (usually one)


class MarkFormatter(highlight.HtmlFormatter):
    """Wraps matches in a bare <mark>; Whoosh escapes the text around and inside it."""

    def __init__(self):
        super().__init__(tagname="mark", between=" … ")

    def format_token(self, text, token, replace=False):
        return f"<mark>{self._text(highlight.get_text(text, token, replace))}</mark>"


def markdown_to_plain(text: str) -> str:
    """Good-enough plain text for snippets: drop emphasis, code and link syntax."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"^\s{0,3}(?:[-*+]|\d+\.)\s+", "", text, flags=re.M)
    text = re.sub(r"^\s{0,3}>\s?", "", text, flags=re.M)
    text = re.sub(r"(\*\*|__|\*|`)", "", text)
    return re.sub(r"\s+", " ", text).strip()


class KnowledgeBase:
    """One opened index build. Reads are thread-safe: each thread gets its own Searcher."""

    def __init__(self, build_dir: str | Path, crisis: CrisisSettings | None = None,
                 ranking: RankingSettings | None = None, taxonomy: Taxonomy | None = None):
        self.build_dir = Path(build_dir)
        self.ix, articles, self.meta = read_build(self.build_dir)
        self.version: str = self.meta["build"]
        self.built_at: str = self.meta["built_at"]
        self.articles: dict[str, Article] = {a.slug: a for a in articles}
        self.sections: dict[str, Section] = {
            s.id: s for a in articles for s in a.sections
        }
        self.crisis = crisis or CrisisSettings()
        self.ranking = ranking or RankingSettings()
        self.taxonomy = taxonomy or load_taxonomy()
        self.analyzer = default_analyzer()
        self._local = threading.local()
        self._expansions = self._analyze_expansion_groups()
        self._related_cache: dict[tuple[str, int], tuple[Section, ...]] = {}
        self._build_suggestion_tables()

    # -- plumbing ----------------------------------------------------------------------

    def searcher(self):
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            weighting = scoring.BM25F(B=self.ranking.b, K1=self.ranking.k1)
            searcher = self.ix.searcher(weighting=weighting)
            self._local.searcher = searcher
        return searcher

    def close(self) -> None:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
        self.ix.close()

    def section_count(self) -> int:
        return len(self.sections)

    def article_of(self, section: Section) -> Article:
        return self.articles[section.article]

    def get_section(self, section_id: str) -> Section:
        try:
            return self.sections[section_id]
        except KeyError:
            raise SectionNotFound(section_id) from None

    def get_article(self, slug: str) -> Article:
        try:
            return self.articles[slug]
        except KeyError:
            raise ArticleNotFound(slug) from None

    def topic_counts(self) -> dict[str, int]:
        counts = {t.id: 0 for t in self.taxonomy.topics}
        for section in self.sections.values():
            for topic in section.topics:
                counts[topic] = counts.get(topic, 0) + 1
        return counts

    def sections_with_topic(self, topic_id: str) -> list[Section]:
        return [s for s in self.sections.values() if topic_id in s.topics]

    # -- query building ----------------------------------------------------------------

    def _analyze_expansion_groups(self) -> list[list[tuple[tuple[str, ...], ...]]]:
        """Per group, each expression as its term-sequence variants (see phrase_variants)."""
        groups = []
        for group in self.taxonomy.expansion_groups():
            analyzed = []
            for expression in group:
                variants = phrase_variants(expression, self.analyzer)
                if variants and variants not in analyzed:
                    analyzed.append(variants)
            if len(analyzed) > 1:
                groups.append(analyzed)
        return groups

    def _words(self, text: str) -> list[_Word]:
        """Query words; a hyphenated word counts as its parts, so "self-harm" = "self harm"."""
        words = []
        for match in WORD_RE.finditer(text):
            for piece in match.group().lower().split("-"):
                terms = [t.text for t in self.analyzer(piece)] if piece else []
                if terms:
                    words.append(_Word(piece, terms))
        return words

    def _doc_frequency(self, term: str) -> int:
        reader = self.searcher().reader()
        return sum(reader.doc_frequency(f, term) for f in ("title", "body"))

    def _closest_word(self, word: str, max_distance: int = 2) -> tuple[str, int] | None:
        """The most frequent vocabulary word within edit distance 1 (else 2) of `word`."""
        reader = self.searcher().reader()
        for distance in range(1, max_distance + 1):
            candidates = [
                (reader.doc_frequency("vocabulary", c), c)
                for c in reader.terms_within("vocabulary", word, distance, prefix=1)
                if c != word
            ]
            if candidates:
                frequency, best = max(candidates)
                return best, frequency
        return None

    def _is_expansion_term(self, word: _Word) -> bool:
        return any((t,) in variants for t in word.terms for group in self._expansions
                   for variants in group)

    def _correct(self, words: list[_Word]) -> tuple[list[_Word], bool, bool]:
        """Replace unknown words by their closest known word; flag rare words worth suggesting.

        Returns (words, replaced_any, suggestion_better).
        """
        settings = self.ranking
        replaced = better = False
        corrected: list[_Word] = []
        for word in words:
            if len(word.text) < settings.correction_min_length \
                    or not word.text.isalpha() or self._is_expansion_term(word):
                corrected.append(word)
                continue
            terms = word.terms
            frequency = sum(self._doc_frequency(t) for t in terms) if terms else 0
            if frequency == 0 and terms:
                long_word = len(word.text) >= settings.correction_distance_two_length
                closest = self._closest_word(word.text, max_distance=2 if long_word else 1)
                if closest:
                    corrected.extend(self._words(closest[0]))
                    replaced = True
                    continue
            elif 0 < frequency <= 1 and len(word.text) >= 5:
                closest = self._closest_word(word.text, max_distance=1)
                if closest and closest[1] >= 10 * frequency:
                    better = True
                    corrected.extend(self._words(closest[0]))
                    continue
            corrected.append(word)
        return corrected, replaced, better

    def _term_query(self, term: str, boost: float = 1.0):
        return Or([Term(f, term) for f in TEXT_FIELDS], boost=boost)

    def _sequence_query(self, terms: tuple[str, ...] | list[str], boost: float = 1.0):
        if len(terms) == 1:
            return self._term_query(terms[0], boost)
        return Or([Phrase(f, list(terms), slop=1) for f in PHRASE_FIELDS], boost=boost)

    def _word_query(self, word: _Word):
        if len(word.terms) == 1:
            return self._term_query(word.terms[0])
        return Or([self._term_query(t) for t in word.terms])

    def parse(self, text: str, syntax: str = "plain") -> ParsedQuery:
        if syntax == "advanced":
            return self._parse_advanced(text)
        words = self._words(text)
        corrected, replaced, better = self._correct(words)
        correction_text = " ".join(w.text for w in corrected) if (replaced or better) else None
        if replaced:
            words = corrected
        if not words:
            return ParsedQuery(NullQuery, frozenset())

        settings = self.ranking
        clauses = [self._word_query(w) for w in words]
        flat = [t for w in words for t in w.terms]
        if len(flat) > 1:
            clauses.append(
                Or([Phrase(f, flat, slop=settings.phrase_slop) for f in PHRASE_FIELDS],
                   boost=settings.phrase_boost)
            )
        joined_terms = set()
        for first, second in zip(words, words[1:], strict=False):
            # "self harm" also finds "selfharm" (and "self-harm", indexed joined too).
            for joined in self._words(first.text + second.text):
                if not self._doc_frequency(joined.terms[0]):
                    continue
                joined_terms.update(joined.terms)
                clauses.append(self._term_query(joined.terms[0], settings.joined_boost))
        highlight_terms = set(flat) | joined_terms
        haystacks = [flat, *([term] for term in joined_terms)]

        def in_query(variants) -> bool:
            return any(contains_sequence(h, v) for h in haystacks for v in variants)

        for group in self._expansions:
            if any(in_query(variants) for variants in group):
                for variants in group:
                    if not in_query(variants):
                        clauses.append(
                            self._sequence_query(variants[0], settings.expansion_weight)
                        )
                        highlight_terms.update(variants[0])
        return ParsedQuery(
            Or(clauses),
            frozenset(highlight_terms),
            corrected_text=correction_text if replaced else None,
            suggestion_text=correction_text if better and not replaced else None,
        )

    def _parse_advanced(self, text: str) -> ParsedQuery:
        parser = MultifieldParser(list(TEXT_FIELDS), self.ix.schema)
        try:
            query = parser.parse(text)
        except Exception as exc:  # Whoosh raises assorted errors on odd syntax
            raise InvalidQuery(f"could not parse the advanced query: {exc}") from None
        terms = frozenset(
            t for f, t in query.iter_all_terms() if f in TEXT_FIELDS and isinstance(t, str)
        )
        return ParsedQuery(query, terms)

    # -- searching ---------------------------------------------------------------------

    def _filter(self, topic: str | None, article: str | None):
        clauses = []
        if topic:
            if topic not in self.taxonomy.by_id:
                raise InvalidQuery(f"unknown topic {topic!r}; see /api/v1/topics")
            clauses.append(Term("topics", topic))
        if article:
            if article not in self.articles:
                raise ArticleNotFound(article)
            clauses.append(Term("article", article))
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else And(clauses)

    def search(self, text: str, limit: int = 10, offset: int = 0, topic: str | None = None,
               article: str | None = None, syntax: str = "plain") -> SearchResults:
        text = " ".join(text.split())
        parsed = self.parse(text, syntax)
        filter_query = self._filter(topic, article)
        notices = crisis_notices(text, self.crisis)
        if parsed.query is NullQuery:
            return SearchResults(query=text, total=0, limit=limit, offset=offset, hits=(),
                                 notices=notices)
        searcher = self.searcher()
        facets = {
            "topics": FieldFacet("topics", allow_overlap=True),
            "article": FieldFacet("article"),
        }
        results = searcher.search(parsed.query, limit=offset + limit, filter=filter_query,
                                  groupedby=facets)
        hits = tuple(
            self._hit(hit["id"], hit.score, parsed.highlight_terms)
            for hit in results[offset: offset + limit]
        )
        return SearchResults(
            query=text,
            total=len(results),
            limit=limit,
            offset=offset,
            hits=hits,
            topic_facets=self._facet_counts(results.groups("topics"), self.taxonomy.label),
            article_facets=self._facet_counts(
                results.groups("article"), lambda slug: self.articles[slug].title
            ),
            did_you_mean=parsed.corrected_text or parsed.suggestion_text,
            corrected=parsed.corrected_text is not None,
            notices=notices,
        )

    @staticmethod
    def _facet_counts(groups: dict, label) -> tuple[FacetCount, ...]:
        counts = [
            FacetCount(value=v, label=label(v), count=len(docs))
            for v, docs in groups.items() if v
        ]
        return tuple(sorted(counts, key=lambda c: (-c.count, c.value)))

    def _hit(self, section_id: str, score: float, terms: frozenset[str]) -> Hit:
        section = self.sections[section_id]
        article = self.articles[section.article]
        return Hit(
            section=section,
            article_title=article.title,
            article_url=article.url,
            score=round(float(score), 4),
            snippet=self.snippet(section, terms),
        )

    def snippet(self, section: Section, terms: frozenset[str], maxchars: int = 220) -> str:
        plain = markdown_to_plain(section.text)
        fragmenter = highlight.ContextFragmenter(maxchars=maxchars, surround=70)
        marked = highlight.highlight(plain, terms, self.analyzer, fragmenter, MarkFormatter(),
                                     top=1) if terms else ""
        if marked:
            return marked.strip()
        head = plain[:maxchars]
        if len(plain) > maxchars:
            head = head.rsplit(" ", 1)[0] + " …"
        return html.escape(head, quote=False)

    # -- related sections ----------------------------------------------------------------

    def related(self, section_id: str, limit: int = 5) -> tuple[Section, ...]:
        section = self.get_section(section_id)
        key = (section_id, limit)
        if key not in self._related_cache:
            searcher = self.searcher()
            docnum = searcher.document_number(id=section_id)
            results = searcher.more_like(docnum, "body", text=section.text or section.title,
                                         top=limit, numterms=12)
            self._related_cache[key] = tuple(
                self.sections[hit["id"]] for hit in results if hit["id"] != section_id
            )
        return self._related_cache[key]

    # -- suggestions ---------------------------------------------------------------------

    def _build_suggestion_tables(self) -> None:
        self._titles = sorted(
            {(s.title.lower(), s.title, s.id) for s in self.sections.values()}
        )
        self._topic_labels = [
            (label.lower(), label, topic.id)
            for topic in self.taxonomy.topics
            for label in (topic.label, *topic.abbreviations)
        ]
        reader = self.searcher().reader()
        vocabulary = [
            (term.decode("utf-8") if isinstance(term, bytes) else term, info.doc_frequency())
            for term, info in reader.iter_field("vocabulary")
        ]
        vocabulary.sort()
        self._vocab_terms = [t for t, _ in vocabulary]
        self._vocab_freq = [f for _, f in vocabulary]

    def suggest(self, prefix: str, limit: int = 8) -> tuple[Suggestion, ...]:
        prefix = " ".join(prefix.lower().split())
        if len(prefix) < 2:
            return ()
        found: list[Suggestion] = []
        seen: set[str] = set()

        def add(text: str, kind: str, section_id: str | None = None) -> None:
            if text.lower() not in seen and len(found) < limit:
                seen.add(text.lower())
                found.append(Suggestion(text=text, kind=kind, section_id=section_id))

        for lower, label, _topic in self._topic_labels:
            if _starts_a_word(lower, prefix):
                add(label, "topic")
        title_budget = max(1, limit // 2)
        for lower, title, section_id in self._titles:
            if len(found) >= title_budget + 1:
                break
            if _starts_a_word(lower, prefix):
                add(title, "section", section_id)
        head, _, last = prefix.rpartition(" ")
        if len(last) >= 2:
            start = bisect.bisect_left(self._vocab_terms, last)
            end = bisect.bisect_left(self._vocab_terms, last + "\uffff")
            candidates = sorted(range(start, end), key=lambda i: -self._vocab_freq[i])[:limit]
            for i in candidates:
                add(f"{head} {self._vocab_terms[i]}".strip(), "term")
        return tuple(found)


def _starts_a_word(text: str, prefix: str) -> bool:
    return text.startswith(prefix) or f" {prefix}" in text or f"-{prefix}" in text


class LiveKnowledgeBase:
    """Follows an index directory: opens the newest build when CURRENT changes.

    Requests in flight keep the KnowledgeBase they started with, so a switch never fails
    a request; the old build is simply dropped when nobody holds it any more.
    """

    def __init__(self, index_dir: str | Path, **options):
        self.index_dir = Path(index_dir)
        self.options = options
        self._lock = threading.Lock()
        self._current: KnowledgeBase | None = None
        self._stamp: tuple | None = None

    def _current_stamp(self) -> tuple | None:
        try:
            st = (self.index_dir / "CURRENT").stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def get(self) -> KnowledgeBase:
        stamp = self._current_stamp()
        current = self._current
        if current is not None and stamp == self._stamp:
            return current
        with self._lock:
            if self._current is not None and stamp == self._stamp:
                return self._current
            try:
                build = current_build(self.index_dir)
                if self._current is None or build != self._current.build_dir:
                    self._current = KnowledgeBase(build, **self.options)
                self._stamp = stamp
            except Exception:
                if self._current is None:
                    raise
                # A damaged new build: keep serving the one that works.
            return self._current


__all__ = [
    "ArticleNotFound",
    "InvalidQuery",
    "KnowledgeBase",
    "LiveKnowledgeBase",
    "RankingSettings",
    "SectionNotFound",
]
