"""Search over one index build: query building, ranking, snippets, facets, suggestions.

Everything returned is a kb model (kb.models); Whoosh objects stay inside this module.

Plain text is the default: the query is analyzed word by word and the Whoosh query is built
directly, so quotes, colons, AND, * and brackets are only text and can never be a syntax
error. `syntax="advanced"` opts into Whoosh's query language for people who want it.
"""

from __future__ import annotations

import bisect
import heapq
import html
import math
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from whoosh import highlight, scoring
from whoosh.analysis import Token
from whoosh.qparser import MultifieldParser
from whoosh.query import And, NullQuery, Or, Phrase, Term

from kb.analysis import WORD_RE, contains_sequence, default_analyzer, phrase_variants
from kb.errors import ArticleNotFound, InvalidQuery, SectionNotFound, TopicNotFound
from kb.index import IndexNotFound, current_build, read_build
from kb.models import (
    Article,
    FacetCount,
    Hit,
    SearchResults,
    Section,
    Suggestion,
)
from kb.safety import CrisisSettings, crisis_notices
from kb.topics import Taxonomy, Topic, load_taxonomy

TEXT_FIELDS = ("title", "body", "breadcrumb")
PHRASE_FIELDS = ("title", "body")


@dataclass(frozen=True)
class RankingSettings:
    """The one ranking configuration every corpus gets (tuned in benchmarks/).

    See benchmarks/results/levers.md for what each value was measured to do.
    """

    k1: float = 0.9
    b: float = 0.75
    idf: str = "lucene"  # or "whoosh" (see _LuceneIdfBM25F)
    # Query-time weights of each field's BM25 score (on top of the index-time boosts). The
    # title counts less than the body: a heading repeats a few words of its section, so a
    # full-weight title match outranked sections whose text answers the query; the
    # breadcrumb (article title and parent headings) only repeated titles and is left out.
    title_weight: float = 0.4
    body_weight: float = 1.0
    breadcrumb_weight: float = 0.0
    phrase_boost: float = 1.0
    phrase_slop: int = 5
    # A phrase of more words than this almost never matches and costs an intersection of
    # every word's postings, so long queries (pasted sentences) skip it.
    phrase_max_terms: int = 6
    joined_boost: float = 0.5
    # Synonyms and topic terms are hints, not the query: at 0.6 "depression" pulled in every
    # co-occurring-condition word; 0.2 still lets "meds" find the medication passage.
    expansion_weight: float = 0.2
    # ...unless the searcher's own word is in no section ("online" where the articles say
    # "telehealth"): then the expansion is all there is to go on and counts as the word.
    absent_word_expansion_weight: float = 1.0
    correction_min_length: int = 5  # shorter words are too often right and merely absent
    correction_distance_two_length: int = 8  # only long words may be two edits away
    # Pseudo-relevance feedback (RM3-style, see KnowledgeBase._feedback_query): the best
    # new terms of the first 10 results, OR-ed in at 0.3 of a query word's weight. It finds
    # what the searcher did not think to type; feedback_docs = 0 turns it off.
    feedback_docs: int = 10
    feedback_terms: int = 20
    feedback_weight: float = 0.3


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
    # Only paired delimiters are markup: "window.__state" or "5 * 3" are text.
    text = re.sub(r"(?<![\w*])(\*\*|__)(?=\S)(.+?)(?<=\S)\1(?![\w*])", r"\2", text)
    text = re.sub(r"(?<![\w*])([*_])(?=[^\s*_])(.+?)(?<=[^\s*_])\1(?![\w*])", r"\2", text)
    text = re.sub(r"`([^`\n]+)`", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


class _LuceneIdfBM25F(scoring.BM25F):
    """BM25F with the idf of Lucene and Anserini: log(1 + (N - n + 0.5) / (n + 0.5)).

    Whoosh's idf, log(N / (n + 1)) + 1, never drops below 1, so a word found in nearly
    every section ("I", "my", "do", "therapy" in a clinic's own articles) still weighs
    a third as much as the rarest one; on a small corpus such words decided the ranking.
    """

    def idf(self, searcher, fieldname, text):
        parent = searcher.get_parent()
        n = parent.doc_frequency(fieldname, text)
        total = parent.doc_count_all()
        return math.log(1 + (total - n + 0.5) / (n + 0.5))


class _Ranker:
    """Scores a Whoosh query term at a time: the same BM25F numbers, several times faster.

    Whoosh walks a tree of union matchers document by document, and the facet counts need
    every match, so the whole tree is visited for each matching document. Summing each
    term's posting list into one score table instead gives the identical scores (the sum of
    the per-field BM25 scores of the matching clauses, times their boosts) at a fraction of
    the cost, and the table doubles as the match set for the total and the facets.
    Clauses other than Or and Term on a text field (phrases, advanced syntax) are scored by
    their own Whoosh matcher. One per thread, like the Searcher it reads from.
    """

    MAX_CACHED_POSTINGS = 2_000_000

    def __init__(self, searcher, k1: float, b: float):
        self.searcher = searcher
        self.reader = searcher.reader()
        self.k1, self.b = k1, b
        self._norms: dict[str, list[float]] = {}
        self._postings: OrderedDict[tuple[str, str], tuple] = OrderedDict()
        self._cached = 0

    def _field_norms(self, field: str) -> list[float]:
        """k1 * (1 - b + b * length / average length) per document, as BM25 divides by."""
        norms = self._norms.get(field)
        if norms is None:
            reader, k1, b = self.reader, self.k1, self.b
            average = self.searcher.avg_field_length(field) or 1
            norms = [
                k1 * ((1 - b) + b * (reader.doc_field_length(d, field) or 0) / average)
                for d in range(reader.doc_count_all())
            ]
            self._norms[field] = norms
        return norms

    def _posting_list(self, field: str, term: str) -> tuple[list[int], list[float]]:
        """(docnums, BM25 scores) of a term, from a bounded cache (hot terms recur).

        The score is Whoosh's bm25(idf, weight, length, average length, B, K1) for each
        posting; it depends only on the index and k1/b, so it is computed once per term.
        """
        key = (field, term)
        cached = self._postings.get(key)
        if cached is not None:
            self._postings.move_to_end(key)
            return cached
        ids: list[int] = []
        contributions: list[float] = []
        if key in self.reader:
            idf, k1 = self.searcher.idf(field, term), self.k1
            norms = self._field_norms(field)
            matcher = self.reader.postings(field, term)
            while matcher.is_active():
                docnum, weight = matcher.id(), matcher.weight()
                ids.append(docnum)
                contributions.append(idf * ((weight * (k1 + 1)) / (weight + norms[docnum])))
                matcher.next()
        self._postings[key] = cached = (ids, contributions)
        self._cached += len(ids)
        while self._cached > self.MAX_CACHED_POSTINGS and len(self._postings) > 1:
            _, (old, _c) = self._postings.popitem(last=False)
            self._cached -= len(old)
        return cached

    def _may_co_occur(self, phrase: Phrase) -> bool:
        """Whether some document holds every word of the phrase (from cached postings)."""
        if phrase.fieldname not in TEXT_FIELDS:
            return True
        lists = sorted((self._posting_list(phrase.fieldname, w)[0] for w in phrase.words), key=len)
        common = set(lists[0]) if lists else set()
        for ids in lists[1:]:
            if not common:
                break
            common.intersection_update(ids)
        return bool(common)

    def scores(
        self, query, scores: dict[int, float] | None = None, boost: float = 1.0
    ) -> dict[int, float]:
        """Add the query's score for every matching document into `scores` (docnum -> score)."""
        scores = {} if scores is None else scores
        if isinstance(query, Or) and not query.minmatch and not query.scale:
            for sub in query.subqueries:
                self.scores(sub, scores, boost * query.boost)
        elif isinstance(query, Term) and query.fieldname in TEXT_FIELDS:
            ids, contributions = self._posting_list(query.fieldname, query.text)
            factor = boost * query.boost
            get = scores.get
            if factor == 1.0:
                for docnum, score in zip(ids, contributions, strict=True):
                    scores[docnum] = get(docnum, 0.0) + score
            else:
                for docnum, score in zip(ids, contributions, strict=True):
                    scores[docnum] = get(docnum, 0.0) + factor * score
        elif isinstance(query, Phrase) and not self._may_co_occur(query):
            pass  # no document has all the words: skip Whoosh's positional matcher
        elif query is not NullQuery:
            matcher = query.matcher(self.searcher)
            get = scores.get
            while matcher.is_active():
                docnum = matcher.id()
                scores[docnum] = get(docnum, 0.0) + boost * matcher.score()
                matcher.next()
        return scores


class _MemoAnalyzer:
    """The analyzer's tokens for highlighting, analyzing each distinct word only once.

    The tokenizer and every filter work word by word, so a text's tokens are its words'
    tokens shifted to the word's offset; remembering them per word makes snippets cheap.
    """

    MAX_WORDS = 50_000

    def __init__(self, analyzer):
        self.analyzer = analyzer
        self._words: dict[tuple, list[tuple]] = {}

    def __call__(self, value, removestops=True, mode="", **_kwargs):
        words = self._words
        for match in WORD_RE.finditer(value):
            key = (match.group(), removestops, mode)
            tokens = words.get(key)
            if tokens is None:
                tokens = [
                    (t.text, t.startchar, t.endchar, t.stopped)
                    for t in self.analyzer(
                        match.group(), chars=True, removestops=removestops, mode=mode
                    )
                ]
                if len(words) >= self.MAX_WORDS:
                    words.clear()
                words[key] = tokens
            offset = match.start()
            for text, start, end, stopped in tokens:
                token = Token(chars=True, removestops=removestops, mode=mode)
                token.text, token.stopped, token.boost = text, stopped, 1.0
                token.startchar, token.endchar = offset + start, offset + end
                yield token


SNIPPET_SURROUND = 70


def _window_start(starts: list[int], ends: list[int], reset: int, last: int, surround: int) -> int:
    """First token of Whoosh's context window after tokens reset..last (last + 1: empty).

    Whoosh appends each token's start and pops from the left while the newest token's end
    is more than `surround` past the oldest start. Starts never decrease, but a hyphenated
    word's joined token ends past its parts, so a token k survives only if no token from k
    to last ends more than `surround` after it; only tokens starting within `surround` of
    the last end can, so the scan is short.
    """
    if last < reset:
        return last + 1
    k = bisect.bisect_left(starts, ends[last] - surround, reset, last + 1)
    kept, max_end = last + 1, 0
    for j in range(last, k - 1, -1):
        max_end = max(max_end, ends[j])
        if max_end - starts[j] > surround:
            break
        kept = j
    return kept


def _best_fragment(
    text: str, tokens: tuple, terms: frozenset[str], maxchars: int, surround: int
) -> str:
    """Exactly what whoosh.highlight.highlight(..., ContextFragmenter(maxchars, surround),
    MarkFormatter(), top=1) returns, but walking only the tokens near a match.

    Whoosh feeds every token of the text through its fragmenter; outside a fragment a
    token only moves the window of context kept before the next match, which is computed
    here directly (bisect), so a long section costs about as much as its matches. The
    loop below is Whoosh's ContextFragmenter.fragment_tokens, quirks included.
    """
    texts, starts, ends = tokens
    n = len(texts)
    last_end = ends[-1] if ends else 0  # Whoosh's endchar after its loop
    matched = [i for i in range(n) if texts[i] in terms]
    if not matched:
        return ""
    fragments = []  # (match indexes, startchar, endchar)
    countdown, first, tks, currentlen = -1, None, [], 0
    reset, appended = 0, -1  # tokens reset..appended are the context window's candidates
    next_match = 0
    i = 0
    while i < n:
        if countdown < 0 and texts[i] not in terms:
            # Skip to the next match: the tokens in between only feed the context window.
            while next_match < len(matched) and matched[next_match] < i:
                next_match += 1
            j = matched[next_match] if next_match < len(matched) else n
            appended, i = j - 1, j
            continue
        start, end = starts[i], ends[i]
        length = end - start
        if currentlen + length > maxchars:
            countdown = 0
        elif texts[i] in terms:
            countdown = surround
            if first is None:
                k = _window_start(starts, ends, reset, appended, surround)
                if k <= appended:
                    first = starts[k]
                else:
                    first = start
                    countdown += surround
            tks.append(i)
        if countdown >= 0:
            currentlen += length
            countdown -= length
            if countdown <= 0:
                fragments.append((tks, first, end))
                tks, first, currentlen = [], None, 0
                reset, appended = i + 1, i
        i += 1
    if tks:
        fragments.append((tks, first, last_end))
    best = None
    for tks, first, end in fragments:
        score = len(tks) * ((len({texts[t] for t in tks}) * 100) or 1)
        key = (score, first if first is not None else 0)
        if score >= 1 and (best is None or key > best[0]):
            best = (key, tks, end)
    if best is None:
        return ""
    (_score, startchar), tks, endchar = best
    matches = []
    for t in tks:
        token = Token(chars=True)
        token.text, token.startchar, token.endchar, token.boost = texts[t], starts[t], ends[t], 1.0
        matches.append(token)
    return MarkFormatter()(text, [highlight.Fragment(text, matches, startchar, endchar)])


class KnowledgeBase:
    """One opened index build. Reads are thread-safe: each thread gets its own Searcher."""

    def __init__(
        self,
        build_dir: str | Path,
        crisis: CrisisSettings | None = None,
        ranking: RankingSettings | None = None,
        taxonomy: Taxonomy | None = None,
    ):
        self.build_dir = Path(build_dir)
        self.ix, articles, self.meta = read_build(self.build_dir)
        try:
            # Open a reader now: a build with missing or truncated segment files fails here,
            # once, with a clear error, instead of on every search.
            self.ix.reader().close()
        except Exception as exc:  # noqa: BLE001 - any damage means the same to the caller
            raise IndexNotFound(
                f"index build {build_dir} is damaged ({type(exc).__name__}): run `kb build`"
            ) from exc
        self.version: str = self.meta["build"]
        self.built_at: str = self.meta["built_at"]
        self.articles: dict[str, Article] = {a.slug: a for a in articles}
        self.sections: dict[str, Section] = {s.id: s for a in articles for s in a.sections}
        self.crisis = crisis or CrisisSettings()
        self.ranking = ranking or RankingSettings()
        self.taxonomy = taxonomy or load_taxonomy()
        self.analyzer = default_analyzer()
        weights = (
            self.ranking.title_weight,
            self.ranking.body_weight,
            self.ranking.breadcrumb_weight,
        )
        self._field_weights = tuple(
            (f, w) for f, w in zip(TEXT_FIELDS, weights, strict=True) if w > 0
        )
        self._local = threading.local()
        self._expansions = self._analyze_expansion_groups()
        self._related_cache: dict[tuple[str, int], tuple[Section, ...]] = {}
        self._counts_cache: dict[str, dict[str, int]] = {}
        self._memo_analyzer = _MemoAnalyzer(self.analyzer)
        self._snippet_cache: dict[str, tuple[str, tuple]] = {}
        self._filter_cache: dict[tuple, frozenset[int]] = {}
        self._results_cache: OrderedDict[tuple, SearchResults] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._doc_sections = self._sections_by_docnum()
        self._facet_objects: dict[tuple[str, str, int], FacetCount] = {}
        self._doc_topics = [s.topics if s else () for s in self._doc_sections]
        self._doc_articles = [s.article if s else "" for s in self._doc_sections]
        self._topic_labels_by_id = {t.id: t.label for t in self.taxonomy.topics}
        self._build_suggestion_tables()

    # Repeated searches (the widget re-asks as people type and page) are answered from a
    # small cache; a KnowledgeBase is one immutable build, so entries never go stale.
    RESULTS_CACHE_SIZE = 256

    # -- plumbing ----------------------------------------------------------------------

    def _sections_by_docnum(self) -> list[Section | None]:
        reader = self.searcher().reader()
        by_docnum: list[Section | None] = [None] * reader.doc_count_all()
        for docnum, fields in reader.iter_docs():
            by_docnum[docnum] = self.sections.get(fields.get("id"))
        return by_docnum

    def searcher(self):
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            weighting_class = _LuceneIdfBM25F if self.ranking.idf == "lucene" else scoring.BM25F
            weighting = weighting_class(B=self.ranking.b, K1=self.ranking.k1)
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

    def get_topic(self, topic_id: str) -> Topic:
        topic = self.taxonomy.by_id.get(topic_id)
        if topic is None:
            raise TopicNotFound(topic_id)
        return topic

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

    def _in_index(self, terms: tuple[str, ...]) -> bool:
        """Whether every term of an expression occurs somewhere (a cheap stand-in for a match)."""
        return all(self._doc_frequency(t) for t in terms)

    def _closest_word(self, word: str, max_distance: int = 2) -> tuple[str, int] | None:
        """The most frequent vocabulary word within edit distance 1 (else 2) of `word`.

        Candidates keep the first letter and differ by Levenshtein edits after it, as
        Whoosh's terms_within(prefix=1) finds them. Distance 1, by far the commonest call,
        is answered by generating the word's edits and looking them up (a fraction of a
        millisecond); distance 2 walks Whoosh's automaton.
        """
        reader = self.searcher().reader()
        for distance in range(1, max_distance + 1):
            if distance == 1:
                frequencies = self._vocab_df
                candidates = [
                    (frequencies[c], c)
                    for c in self._edits1(word)
                    if c in frequencies and c != word
                ]
            else:
                candidates = [
                    (reader.doc_frequency("vocabulary", c), c)
                    for c in reader.terms_within("vocabulary", word, distance, prefix=1)
                    if c != word
                ]
            if candidates:
                frequency, best = max(candidates)
                return best, frequency
        return None

    def _edits1(self, word: str) -> set[str]:
        """Words one insertion, deletion or substitution away, the first letter kept."""
        head, rest = word[:1], word[1:]
        splits = [(rest[:i], rest[i:]) for i in range(len(rest) + 1)]
        alphabet = self._vocab_alphabet
        edits = {a + b[1:] for a, b in splits if b}
        edits.update(a + c + b[1:] for a, b in splits if b for c in alphabet)
        edits.update(a + c + b for a, b in splits for c in alphabet)
        return {head + e for e in edits}

    def _is_expansion_term(self, word: _Word) -> bool:
        return any(
            (t,) in variants for t in word.terms for group in self._expansions for variants in group
        )

    def _correct(self, words: list[_Word]) -> tuple[list[_Word], bool, bool]:
        """Replace unknown words by their closest known word; flag rare words worth suggesting.

        Returns (words, replaced_any, suggestion_better).
        """
        settings = self.ranking
        replaced = better = False
        corrected: list[_Word] = []
        for word in words:
            if (
                len(word.text) < settings.correction_min_length
                or not word.text.isalpha()
                or self._is_expansion_term(word)
            ):
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
        return Or([Term(f, term, boost=w) for f, w in self._field_weights], boost=boost)

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
        if 1 < len(flat) <= settings.phrase_max_terms and settings.phrase_boost > 0:
            clauses.append(
                Or(
                    [Phrase(f, flat, slop=settings.phrase_slop) for f in PHRASE_FIELDS],
                    boost=settings.phrase_boost,
                )
            )
        joined_terms = set()
        pairs = zip(words, words[1:], strict=False) if settings.joined_boost > 0 else ()
        for first, second in pairs:
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

        for group in self._expansions if settings.expansion_weight > 0 else ():
            typed = [variants for variants in group if in_query(variants)]
            if not typed:
                continue
            weight = settings.expansion_weight
            if not any(self._in_index(variants[0]) for variants in typed):
                weight = max(weight, settings.absent_word_expansion_weight)
            for variants in group:
                if variants not in typed:
                    clauses.append(self._sequence_query(variants[0], weight))
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
                raise InvalidQuery(f"unknown topic {topic!r}", field="topic")
            clauses.append(Term("topics", topic))
        if article:
            if article not in self.articles:
                raise ArticleNotFound(article)
            clauses.append(Term("article", article))
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else And(clauses)

    def search(
        self,
        text: str,
        limit: int = 10,
        offset: int = 0,
        topic: str | None = None,
        article: str | None = None,
        syntax: str = "plain",
    ) -> SearchResults:
        text = " ".join(text.split())
        key = (text, limit, offset, topic, article, syntax)
        cached = self._results_cache.get(key)
        if cached is not None:
            return cached
        results = self._search(text, limit, offset, topic, article, syntax)
        with self._cache_lock:
            self._results_cache[key] = results
            while len(self._results_cache) > self.RESULTS_CACHE_SIZE:
                self._results_cache.popitem(last=False)
        return results

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
        allowed = self._filter_docs(topic, article)
        notices = crisis_notices(text, self.crisis)
        if parsed.query is NullQuery:
            return SearchResults(
                query=text, total=0, limit=limit, offset=offset, hits=(), notices=notices
            )
        scores = self._scores(parsed, allowed)
        hits = tuple(
            self._hit(self._doc_sections[docnum].id, score, parsed.highlight_terms)
            for docnum, score in self._top(scores, offset + limit)[offset:]
        )
        # Facets over the whole match set, from per-document tables (no stored-field reads).
        doc_topics, doc_articles = self._doc_topics, self._doc_articles
        topic_counts = Counter(chain.from_iterable(map(doc_topics.__getitem__, scores)))
        article_counts = Counter(map(doc_articles.__getitem__, scores))
        return SearchResults(
            query=text,
            total=len(scores),
            limit=limit,
            offset=offset,
            hits=hits,
            topic_facets=self._facet_counts(
                "topic", topic_counts, lambda t: self._topic_labels_by_id.get(t, t)
            ),
            article_facets=self._facet_counts(
                "article", article_counts, lambda slug: self.articles[slug].title
            ),
            did_you_mean=parsed.corrected_text or parsed.suggestion_text,
            corrected=parsed.corrected_text is not None,
            notices=notices,
        )

    def _filter_docs(self, topic: str | None, article: str | None) -> frozenset[int] | None:
        """Docnums passing the topic/article filters (None: no filter), cached per filter."""
        if self._filter(topic, article) is None:  # validates, raising InvalidQuery
            return None
        key = (topic, article)
        allowed = self._filter_cache.get(key)
        if allowed is None:
            allowed = frozenset(
                docnum
                for docnum, section in enumerate(self._doc_sections)
                if section is not None
                and (not topic or topic in section.topics)
                and (not article or section.article == article)
            )
            self._filter_cache[key] = allowed
        return allowed

    def _ranker(self) -> _Ranker:
        ranker = getattr(self._local, "ranker", None)
        if ranker is None:
            ranker = _Ranker(self.searcher(), self.ranking.k1, self.ranking.b)
            self._local.ranker = ranker
        return ranker

    @staticmethod
    def _top(scores: dict[int, float], n: int) -> list[tuple[int, float]]:
        """The n best (docnum, score), ties in index order (as Whoosh orders them)."""
        return heapq.nsmallest(n, scores.items(), key=lambda item: (-item[1], item[0]))

    def _scores(
        self, parsed: ParsedQuery, allowed: frozenset[int] | None = None
    ) -> dict[int, float]:
        """docnum -> score of every matching document: the one ranking search() and rank()
        share (pseudo-relevance feedback included)."""
        ranker = self._ranker()
        scores = ranker.scores(parsed.query)
        if allowed is not None:
            scores = {d: v for d, v in scores.items() if d in allowed}
        if self.ranking.feedback_docs > 0 and scores:
            feedback = self._feedback_query(
                self._top(scores, self.ranking.feedback_docs), parsed.query
            )
            if feedback is not None:
                # Feedback re-ranks what the query matched and adds no documents: every
                # result still contains a query word (or a synonym), the total and the
                # facets mean what they say, and on a small corpus the feedback terms
                # (common words of the one good match) cannot pull in unrelated sections.
                for docnum, score in ranker.scores(feedback).items():
                    if docnum in scores:
                        scores[docnum] += score
        return scores

    def rank(self, text: str, limit: int = 100, syntax: str = "plain") -> list[tuple[str, float]]:
        """(section id, score) best first: search()'s ranking without facets or snippets.

        For evaluation (benchmarks/relevance.py) and tools that need a long ranked list.
        """
        parsed = self.parse(" ".join(text.split()), syntax)
        if parsed.query is NullQuery:
            return []
        return [
            (self._doc_sections[d].id, score) for d, score in self._top(self._scores(parsed), limit)
        ]

    def _feedback_query(self, top: list[tuple[int, float]], query):
        """RM3-style pseudo-relevance feedback: the top documents' best new terms, weighted.

        Each term of the top `feedback_docs` documents gets sum_d P(t|d) * P(d|q), with P(d|q)
        the document's share of the first-pass scores; the `feedback_terms` best terms not
        already in the query are OR-ed in, weighted relative to the best one and scaled by
        `feedback_weight`. Leaving the query's own terms out (instead of re-weighting them
        as RM3 does) keeps long, precise queries (SciFact's claims) from drifting.
        """
        settings = self.ranking
        total = sum(score for _, score in top)
        if total <= 0:
            return None
        in_query = {text for _field, text in query.iter_all_terms()}
        weights: dict[str, float] = {}
        for docnum, score in top:
            counts = self._term_counts(self._doc_sections[docnum].id)
            length = sum(counts.values()) or 1
            for term, count in counts.items():
                if term not in in_query:
                    weights[term] = weights.get(term, 0.0) + (count / length) * (score / total)
        best = heapq.nlargest(settings.feedback_terms, weights.items(), key=lambda i: i[1])
        if not best:
            return None
        top_weight = best[0][1]
        return Or(
            [
                self._term_query(term, settings.feedback_weight * weight / top_weight)
                for term, weight in best
            ]
        )

    def _term_counts(self, section_id: str) -> dict[str, int]:
        """Analyzed term counts of a section's title and text (cached per section)."""
        cache = self._counts_cache
        counts = cache.get(section_id)
        if counts is None:
            section = self.sections[section_id]
            counts = {}
            for token in self._memo_analyzer(f"{section.title}\n{section.text}"):
                counts[token.text] = counts.get(token.text, 0) + 1
            if len(cache) >= 4096:
                cache.pop(next(iter(cache)))
            cache[section_id] = counts
        return counts

    def _facet_counts(self, kind: str, counts_by_value: Counter, label) -> tuple[FacetCount, ...]:
        """Facet values by count (then value). FacetCounts are immutable, so one instance per
        (value, count) is shared: a corpus of one-section articles has thousands of article
        facets per query, nearly all with count 1, and building them anew was most of the
        time of a search."""
        made = self._facet_objects
        ordered = sorted((-n, v) for v, n in counts_by_value.items() if v)
        facets = []
        for n, v in ordered:
            facet = made.get((kind, v, n))
            if facet is None:
                if len(made) > 100_000:
                    made.clear()
                facet = made[(kind, v, n)] = FacetCount(value=v, label=label(v), count=-n)
            facets.append(facet)
        return tuple(facets)

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
        plain, tokens = self._snippet_tokens(section)
        marked = _best_fragment(plain, tokens, terms, maxchars, SNIPPET_SURROUND) if terms else ""
        if marked:
            return marked.strip()
        head = plain[:maxchars]
        if len(plain) > maxchars:
            head = head.rsplit(" ", 1)[0] + " …"
        return html.escape(head, quote=False)

    def _snippet_tokens(self, section: Section) -> tuple[str, tuple]:
        """A section's plain text and its (terms, starts, ends), cached per section."""
        cached = self._snippet_cache.get(section.id)
        if cached is None:
            plain = markdown_to_plain(section.text)
            texts, starts, ends = [], [], []
            for token in self._memo_analyzer(plain, removestops=False, mode="query"):
                if token.endchar > highlight.DEFAULT_CHARLIMIT:
                    ends.append(token.endchar)  # Whoosh stops here; its last end counts
                    break
                texts.append(token.text)
                starts.append(token.startchar)
                ends.append(token.endchar)
            cached = (plain, (texts, starts, ends))
            with self._cache_lock:
                self._snippet_cache[section.id] = cached
                while len(self._snippet_cache) > 4096:
                    self._snippet_cache.pop(next(iter(self._snippet_cache)))
        return cached

    # -- related sections ----------------------------------------------------------------

    def related(self, section_id: str, limit: int = 5) -> tuple[Section, ...]:
        section = self.get_section(section_id)
        key = (section_id, limit)
        if key not in self._related_cache:
            searcher = self.searcher()
            docnum = searcher.document_number(id=section_id)
            results = searcher.more_like(
                docnum, "body", text=section.text or section.title, top=limit, numterms=12
            )
            self._related_cache[key] = tuple(
                self.sections[hit["id"]] for hit in results if hit["id"] != section_id
            )
        return self._related_cache[key]

    # -- suggestions ---------------------------------------------------------------------

    def _build_suggestion_tables(self) -> None:
        self._titles = sorted({(s.title.lower(), s.title, s.id) for s in self.sections.values()})
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
        self._vocab_df = dict(vocabulary)
        self._vocab_alphabet = sorted({c for t in self._vocab_terms for c in t})

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
