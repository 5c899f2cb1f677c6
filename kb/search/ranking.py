"""Ranking: BM25F with Lucene's idf, scored term at a time, pseudo-relevance feedback and a
re-ranking of the first results by their best-matching sentence."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from whoosh import scoring
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher, MultiMatcher
from whoosh.query import NullQuery, Or, Phrase, Term

from kb.forward import Forward, section_terms
from kb.models import Section
from kb.postings import StoredPostings
from kb.search import cache
from kb.search.query import ParsedQuery, term_query
from kb.search.settings import TEXT_FIELDS, RankingSettings


class LuceneIdfBM25F(scoring.BM25F):
    """BM25F with the idf of Lucene and Anserini: log(1 + (N - n + 0.5) / (n + 0.5)).

    Whoosh's idf, log(N / (n + 1)) + 1, never drops below 1, so a word found in nearly
    every section ("I", "my", "do", "therapy" in a clinic's own articles) still weighs
    a third as much as the rarest one; on a small corpus such words decided the ranking.
    """

    def idf(self, searcher, fieldname, text):
        """Lucene's idf of `text` in `fieldname`, over the whole index."""
        parent = searcher.get_parent()
        n = parent.doc_frequency(fieldname, text)
        total = parent.doc_count_all()
        return math.log(1 + (total - n + 0.5) / (n + 0.5))


def weighting(settings: RankingSettings) -> scoring.BM25F:
    """The Whoosh weighting object of `settings` (Lucene's idf unless idf="whoosh")."""
    weighting_class = LuceneIdfBM25F if settings.idf == "lucene" else scoring.BM25F
    return weighting_class(B=settings.b, K1=settings.k1)


# Up to this many values, sorting them in Python costs less than numpy's calls do.
SMALL = 32


def kth_smallest(values: np.ndarray, k: int) -> float:
    """The value at index k of `values` sorted (values is left as it is): np.partition's
    answer without its wrapper around ndarray.partition, which costs more than a small
    partition (numpy method calls instead of numpy functions, here and below)."""
    copy = values.copy()
    copy.partition(k)
    return copy[k]


def top_of(ids: np.ndarray, values: np.ndarray, n: int) -> list[tuple[int, float]]:
    """The n best (docnum, score) of the documents `ids` with the scores `values` (arrays
    of one length), ties in index order: the n-th best score is found first, and only the
    scores at or above it are sorted."""
    if n <= 0 or not ids.size:
        return []
    if ids.size <= SMALL:  # a few scores: Python's sort is cheaper than numpy's calls
        pairs = sorted(zip(ids.tolist(), values.tolist(), strict=True), key=lambda p: (-p[1], p[0]))
        return pairs[:n]
    if ids.size > n:
        threshold = kth_smallest(values, ids.size - n)
        keep = values >= threshold
        ids, values = ids[keep], values[keep]
    order = np.lexsort((ids, -values))[:n]
    return list(zip(ids[order].tolist(), values[order].tolist(), strict=True))


Postings = tuple[np.ndarray, np.ndarray]  # docnums (ascending) and their scores


@dataclass
class Scores:
    """Every match of a query: docnums (ascending) and their scores, as two arrays of one
    length. The total, the facets and the page all read these arrays, and the re-rankers
    add into `values` in place."""

    ids: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return int(self.ids.size)

    def top(self, n: int) -> list[tuple[int, float]]:
        """The n best (docnum, score), ties in index order (see top_of)."""
        return top_of(self.ids, self.values, n)

    def as_dict(self) -> dict[int, float]:
        """docnum -> score."""
        return dict(zip(self.ids.tolist(), self.values.tolist(), strict=True))


def read_postings(matcher) -> tuple[list[int], list[float]]:
    """Every remaining (docnum, weight) of a Whoosh term matcher, as two lists.

    Whoosh's own codec (W3LeafMatcher) is read a block at a time (up to 128 postings per
    Python step instead of one): that is most of the cost of a query word no search has
    asked for yet. A build of several segments (MultiMatcher) is read segment by segment
    with its docnum offsets, deleted documents (FilterMatcher) are left out, and any other
    matcher is read a posting at a time.
    """
    kind = type(matcher)
    if kind is MultiMatcher:
        ids: list[int] = []
        weights: list[float] = []
        start = matcher.current
        for sub, offset in zip(matcher.matchers[start:], matcher.offsets[start:], strict=True):
            sub_ids, sub_weights = read_postings(sub)
            ids.extend(docnum + offset for docnum in sub_ids)
            weights.extend(sub_weights)
        return ids, weights
    if kind is FilterMatcher and matcher._exclude:
        sub_ids, sub_weights = read_postings(matcher.child)
        gone = matcher._ids
        kept = [(d, w) for d, w in zip(sub_ids, sub_weights, strict=True) if d not in gone]
        return [d for d, _ in kept], [w for _, w in kept]
    ids, weights = [], []
    if kind is W3LeafMatcher:
        while matcher.is_active():
            if matcher._ids is None:
                matcher._read_ids()
            if matcher._weights is None:
                matcher._read_weights()
            start = matcher._i
            ids.extend(matcher._ids[start:])
            weights.extend(matcher._weights[start:])
            matcher._next_block()
        return ids, weights
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return ids, weights


# A clause's postings and the factor its scores are multiplied by (its boosts).
Piece = tuple[np.ndarray, np.ndarray, float]


def _summed(size: int, pieces: list[Piece]) -> np.ndarray:
    """Score per docnum of (docnums, scores, factor) lists, each list's scores times its
    factor, added one list after the other."""
    if not pieces:
        return np.zeros(size, dtype=np.float64)
    ids, values = _weighted(pieces)
    return np.bincount(ids, weights=values, minlength=size)


def _weighted(pieces: list[Piece]) -> tuple[np.ndarray, np.ndarray]:
    """Every docnum of (docnums, scores, factor) lists, one list after the other, and its
    score times its list's factor; `pieces` is not empty.

    np.bincount adds its weights in order, so summing these per docnum gives each
    document the same floating-point sum, in the same order, as adding the scaled lists
    into a zero array in turn; and one multiplication of all the scores by their lists'
    factors gives each product as scaling each list would (a factor of 1 changes nothing
    either way). A query has dozens of clauses: this is a few numpy calls instead of two
    per clause."""
    if len(pieces) == 1:
        ids, values, factor = pieces[0]
        return ids, values * factor
    ids = np.concatenate([ids for ids, _values, _factor in pieces])
    values = np.concatenate([values for _ids, values, _factor in pieces])
    factors = np.array([factor for _ids, _values, factor in pieces], dtype=np.float64).repeat(
        [ids.size for ids, _v, _f in pieces]
    )
    return ids, values * factors


def _intersection(lists: list[np.ndarray]) -> np.ndarray:
    """The docnums (ascending) in every one of the ascending docnum arrays, the shortest
    intersected first."""
    if not lists:
        return np.empty(0, dtype=np.intp)
    lists = sorted(lists, key=len)
    common = lists[0]
    for ids in lists[1:]:
        if not common.size:
            break
        common = np.intersect1d(common, ids, assume_unique=True)
    return common


def _tree_sum(parts: list[np.ndarray]) -> np.ndarray:
    """The sum of `parts` as Whoosh adds its matchers' scores: halves, recursively
    (whoosh.util.make_binary_tree), so the floating-point sums are the same."""
    if len(parts) == 1:
        return parts[0]
    half = len(parts) // 2
    return _tree_sum(parts[:half]) + _tree_sum(parts[half:])


def _posting_count(postings: Postings) -> int:
    return len(postings[0]) + 1  # + 1: a term in no document still takes an entry


class Ranker:
    """Scores a Whoosh query term at a time: the same BM25F numbers, several times faster.

    Whoosh walks a tree of union matchers document by document, and the facet counts need
    every match, so the whole tree is visited for each matching document. Adding each
    term's posting list (docnums and BM25 scores, as arrays) into one dense score array
    instead gives the identical scores (the sum of the per-field BM25 scores of the
    matching clauses, times their boosts, added in the same order) at a fraction of the
    cost, and the array of matches doubles as the match set for the total and the facets.
    Phrases are scored by Whoosh's positional matcher once and cached like postings; other
    clauses (advanced syntax) by their own Whoosh matcher. One per thread, like the
    Searcher it reads from, whose weighting must be BM25F with the same k1 and b.
    """

    def __init__(self, searcher, k1: float, b: float, stored: StoredPostings | None = None):
        self.searcher = searcher
        self.stored = stored  # the build's title and body postings (kb.postings), if any
        self.reader = searcher.reader()
        self.k1, self.b = k1, b
        self.size = self.reader.doc_count_all()
        self._norms: dict[str, np.ndarray] = {}
        self._postings: cache.LRU[Postings] = cache.LRU(cache.POSTINGS, getsizeof=_posting_count)

    def _field_norms(self, field: str) -> np.ndarray:
        """k1 * (1 - b + b * length / average length) per document, as BM25 divides by."""
        norms = self._norms.get(field)
        if norms is None:
            reader, k1, b = self.reader, self.k1, self.b
            average = self.searcher.avg_field_length(field) or 1
            lengths = getattr(reader, "field_lengths", lambda _field: None)(field)
            if lengths is None:
                lengths = [reader.doc_field_length(d, field) or 0 for d in range(self.size)]
            norms = k1 * ((1 - b) + b * np.asarray(lengths, dtype=np.float64) / average)
            self._norms[field] = norms
        return norms

    def posting_list(self, field: str, term: str) -> Postings:
        """(docnums, BM25 scores) of a term, from a bounded cache (hot terms recur).

        The score is Whoosh's bm25(idf, weight, length, average length, B, K1) for each
        posting; it depends only on the index and k1/b, so it is computed once per term.
        The title and body postings come from the build's arrays (kb.postings) when it
        has them, else (and for the breadcrumb) from Whoosh.
        """
        key = (field, term)
        cached = self._postings.get(key)
        if cached is not None:
            return cached
        stored = self.stored
        if stored is not None and field in stored:
            docnums, w = stored.weights(field, term)
        else:
            ids: list[int] = []
            weights: list[float] = []
            if key in self.reader:
                ids, weights = read_postings(self.reader.postings(field, term))
            docnums = np.array(ids, dtype=np.intp)
            w = np.array(weights, dtype=np.float64)
        if docnums.size:
            idf, k1 = self.searcher.idf(field, term), self.k1
            w = idf * ((w * (k1 + 1)) / (w + self._field_norms(field)[docnums]))
        cached = (docnums, w)
        self._postings.put(key, cached)
        return cached

    def phrase_list(self, phrase: Phrase) -> Postings:
        """(docnums, scores) of a phrase, from the same bounded cache as term postings.

        A taxonomy expression of several words ("substance use", "phone coaching") is a
        phrase in every query that expands to it, and Whoosh's positional matcher is the
        costliest part of a search; its result depends only on the build, so it is
        computed once per thread.
        """
        key = ("phrase", phrase.fieldname, tuple(phrase.words), phrase.slop, phrase.boost)
        cached = self._postings.get(key)
        if cached is not None:
            return cached
        if self.stored is not None and phrase.fieldname in self.stored and phrase.words:
            cached = self._stored_phrase(phrase)
        else:
            ids: list[int] = []
            contributions: list[float] = []
            if self._may_co_occur(phrase):  # else no document has all the words: skip Whoosh
                matcher = phrase.matcher(self.searcher)
                while matcher.is_active():
                    ids.append(matcher.id())
                    contributions.append(matcher.score())
                    matcher.next()
            cached = (np.array(ids, dtype=np.intp), np.array(contributions, dtype=np.float64))
        self._postings.put(key, cached)
        return cached

    def _stored_phrase(self, phrase: Phrase) -> Postings:
        """What Whoosh's phrase matcher gives, from the build's postings and positions
        (kb.postings): the documents holding every word (intersecting their postings)
        where the words follow one another within the slop, each scored as Whoosh's
        intersection of the words' term matchers scores it (their BM25 scores added as
        a binary tree of pairs), times the phrase's boost."""
        lists = [self.posting_list(phrase.fieldname, word) for word in phrase.words]
        common = _intersection([ids for ids, _scores in lists])
        if not common.size:
            return common, np.empty(0, dtype=np.float64)
        docnums = self.stored.phrase(phrase.fieldname, phrase.words, common, phrase.slop)
        scores = _tree_sum([s[ids.searchsorted(docnums)] for ids, s in lists])
        if phrase.boost != 1.0:
            scores = scores * phrase.boost
        return docnums, scores

    def _may_co_occur(self, phrase: Phrase) -> bool:
        """Whether some document holds every word of the phrase (from cached postings)."""
        if phrase.fieldname not in TEXT_FIELDS:
            return True
        return bool(self._holding_all(phrase).size)

    def _holding_all(self, phrase: Phrase) -> np.ndarray:
        """The docnums (ascending) whose field holds every word of the phrase: the words'
        cached postings intersected, the shortest first."""
        return _intersection([self.posting_list(phrase.fieldname, w)[0] for w in phrase.words])

    def accumulate(self, query, boost: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(score per docnum, matched per docnum): dense arrays of the query's scores, each
        clause's (docnums, scores) added in the query's order (see _summed)."""
        pieces: list[Piece] = []
        self._add(query, pieces, boost)
        matched = np.zeros(self.size, dtype=bool)
        if not pieces:
            return np.zeros(self.size, dtype=np.float64), matched
        ids, values = _weighted(pieces)
        matched[ids] = True
        return np.bincount(ids, weights=values, minlength=self.size), matched

    def _add(self, query, pieces: list[Piece], boost: float) -> None:
        if isinstance(query, Or) and not query.minmatch and not query.scale:
            for sub in query.subqueries:
                self._add(sub, pieces, boost * query.boost)
            return
        if isinstance(query, Term) and query.fieldname in TEXT_FIELDS:
            ids, contributions = self.posting_list(query.fieldname, query.text)
            factor = boost * query.boost
        elif isinstance(query, Phrase):
            ids, contributions = self.phrase_list(query)
            factor = boost
        else:
            if query is not NullQuery:
                found: list[int] = []
                values: list[float] = []
                matcher = query.matcher(self.searcher)
                while matcher.is_active():
                    found.append(matcher.id())
                    values.append(boost * matcher.score())
                    matcher.next()
                if found:
                    pieces.append((np.array(found, dtype=np.intp), np.array(values), 1.0))
            return
        if ids.size:
            pieces.append((ids, contributions, factor))

    def term_scores(
        self, terms: list[tuple[str, float]], field_weights: tuple[tuple[str, float], ...]
    ) -> np.ndarray:
        """Score per docnum of OR-ed weighted terms, each in every weighted field: what
        accumulate() gives for Or([term_query(term, field_weights, boost), ...]), added in
        the same order, without building and walking the query."""
        pieces: list[Piece] = []
        for term, boost in terms:
            for field, weight in field_weights:
                ids, contributions = self.posting_list(field, term)
                if ids.size:
                    pieces.append((ids, contributions, boost * weight))
        return _summed(self.size, pieces)

    def scores(self, query, boost: float = 1.0) -> dict[int, float]:
        """docnum -> score of every document matching the query."""
        scores, matched = self.accumulate(query, boost)
        ids = matched.nonzero()[0]
        return dict(zip(ids.tolist(), scores[ids].tolist(), strict=True))


class SectionTerms:
    """One section's title and text analyzed once, for feedback and sentence matching:
    its terms in order (as numbers: `tokens`) and each one's sentence number."""

    __slots__ = ("tokens", "sentences", "term_ids", "shares", "_sentences_by_term")

    def __init__(self, tokens: np.ndarray, sentences: np.ndarray):
        self.tokens = tokens
        self.sentences = sentences
        self._sentences_by_term: tuple[np.ndarray, np.ndarray] | None = None
        unique, first, counts = np.unique(tokens, return_index=True, return_counts=True)
        order = np.argsort(first, kind="stable")
        self.term_ids = unique[order]  # the distinct terms, first seen first
        self.shares = counts[order] / max(len(tokens), 1)  # count / term count: P(t|d)

    def best_sentence(self, probe: np.ndarray, values: list[float]) -> float:
        """The highest sum, over the section's sentences, of the `values` (one per term of
        `probe`, sentence_probe(term_ids): made once per query for all its sections) of the
        distinct terms each sentence holds, added in the terms' order; 0.0 when no sentence
        holds one.

        The section's distinct (term, sentence) pairs are sorted once, by term then
        sentence (a section stays cached), so each term's sentences are one slice found by
        binary search, and only the sentences holding a query term are visited.
        """
        index = self._sentences_by_term
        if index is None:
            order = np.lexsort((self.sentences, self.tokens))
            terms, sentences = self.tokens[order], self.sentences[order]
            distinct = np.ones(terms.size, dtype=bool)
            distinct[1:] = (terms[1:] != terms[:-1]) | (sentences[1:] != sentences[:-1])
            index = self._sentences_by_term = (terms[distinct], sentences[distinct])
        terms, sentences = index
        bounds = terms.searchsorted(probe).tolist()
        sums: dict[int, float] = {}
        for i, value in enumerate(values):
            start, end = bounds[2 * i], bounds[2 * i + 1]
            if start < end:
                for sentence in sentences[start:end].tolist():
                    sums[sentence] = sums.get(sentence, 0) + value
        return max(sums.values(), default=0.0)


def sentence_probe(term_ids: list[int | None]) -> np.ndarray:
    """Each term number n as n and n + 1 (-1 and 0 for a term with none): searching a
    section's terms for these gives each term's slice."""
    return np.array(
        [n + k for n in (-1 if term is None else term for term in term_ids) for k in (0, 1)],
        dtype=np.intp,
    )


class TermTable:
    """Numbers for the terms of sections, so feedback sums them as arrays: a build's
    Forward numbers its terms already (`forward`); a section analyzed here numbers the
    terms that Forward lacks after them.

    Numbers are handed out as sections are first analyzed and never change; reads take no
    lock (a dict and a list that only grow), new terms are numbered under one.
    """

    def __init__(self, forward: Forward | None = None):
        self._forward = forward
        self._base = len(forward.terms) if forward is not None else 0
        self._ids: dict[str, int] = {}
        self._extra: list[str] = []
        self._lock = threading.Lock()

    def term(self, number: int) -> str:
        """The text of term `number`."""
        if number < self._base:
            return self._forward.terms[number]
        return self._extra[number - self._base]

    def number(self, term: str) -> int | None:
        """The number of `term`, None if it has none."""
        if self._forward is not None:
            number = self._forward.number(term)
            if number is not None:
                return number
        return self._ids.get(term)

    def ids(self, terms) -> np.ndarray:
        """The numbers of `terms` (numbering the new ones), in order."""
        out = [self.number(term) for term in terms]
        if None in out:
            with self._lock:
                for i, term in enumerate(terms):
                    if out[i] is None:
                        out[i] = self._ids.get(term)
                        if out[i] is None:
                            out[i] = self._ids[term] = self._base + len(self._extra)
                            self._extra.append(term)
        return np.array(out, dtype=np.intp)

    def known(self, terms) -> np.ndarray:
        """The numbers of those of `terms` that have one (no new ones)."""
        found = (self.number(term) for term in terms)
        return np.array([i for i in found if i is not None], dtype=np.intp)


class SectionAnalysis:
    """docnum -> SectionTerms, cached: the first results of a query are analyzed once.

    `analyzer` is the build's analyzer (memoized), `section_of` maps a docnum to its Section.
    With `forward` (the build's kb.forward data) and `row_of` (docnum -> its row there),
    a section's terms are read from the build instead of analysed.
    """

    def __init__(
        self,
        analyzer,
        section_of: Callable[[int], Section],
        forward: Forward | None = None,
        row_of: np.ndarray | None = None,
    ):
        self.analyzer = analyzer
        self.section_of = section_of
        self.forward = forward if row_of is not None else None
        self.row_of = row_of
        self.table = TermTable(self.forward)
        self._cache: cache.SharedCache[SectionTerms] = cache.SharedCache(cache.SECTION_TERMS)

    def __call__(self, docnum: int) -> SectionTerms:
        """The analyzed terms of the section with this docnum."""
        return self._cache.get_or_compute(docnum, lambda: self._terms(docnum))

    def many(self, docnums: list[int]) -> list[SectionTerms]:
        """The analyzed terms of each of these sections: the cached ones read under one
        lock (a search asks for its first results twice, for feedback and sentences)."""
        found = self._cache.get_many(docnums)
        if None in found:
            found = [
                self(d) if terms is None else terms for d, terms in zip(docnums, found, strict=True)
            ]
        return found

    def _terms(self, docnum: int) -> SectionTerms:
        if self.forward is not None and self.row_of[docnum] >= 0:
            tokens, sentences = self.forward.row(int(self.row_of[docnum]))
            return SectionTerms(np.asarray(tokens, dtype=np.intp), np.asarray(sentences))
        section = self.section_of(docnum)
        terms, sentences = section_terms(section.title, section.text, self.analyzer.terms)
        return SectionTerms(self.table.ids(terms), np.array(sentences, dtype=np.intp))


class Feedback:
    """RM3-style pseudo-relevance feedback from the analyzed text of the top sections."""

    def __init__(self, analysis: SectionAnalysis):
        self.analysis = analysis

    def terms(
        self, best: list[tuple[int, float]], query, settings: RankingSettings
    ) -> list[tuple[str, float]]:
        """The feedback terms for the first-pass top documents `best`, with their boosts.

        Each term of the top `feedback_docs` documents gets sum_d P(t|d) * P(d|q), with P(d|q)
        the document's share of the first-pass scores; the `feedback_terms` best terms not
        already in the query (ties: the first seen first) are kept, weighted relative to the
        best one and scaled by `feedback_weight`. Leaving the query's own terms out (instead
        of re-weighting them as RM3 does) keeps long, precise queries (SciFact's claims)
        from drifting. The sums are array operations over the sections' term numbers.
        """
        total = sum(score for _, score in best)
        if total <= 0 or settings.feedback_terms <= 0:
            return []
        analyses = self.analysis.many([docnum for docnum, _score in best])
        ids = np.concatenate([terms.term_ids for terms in analyses])
        if not ids.size:
            return []
        # P(t|d) * P(d|q), summed per term in the order the documents come (as a loop would).
        sizes = [terms.term_ids.size for terms in analyses]
        shares = np.array([score / total for _docnum, score in best], dtype=np.float64).repeat(
            sizes
        )
        products = np.concatenate([terms.shares for terms in analyses]) * shares
        unique, first, sums = _sum_by_term(ids, products)
        table = self.analysis.table
        in_query = table.known(query_texts(query))
        in_query.sort()
        keep = ~_member(unique, in_query)
        unique, first, sums = unique[keep], first[keep], sums[keep]
        n = settings.feedback_terms
        if unique.size > n:
            threshold = kth_smallest(sums, unique.size - n)
            at_least = sums >= threshold
            unique, first, sums = unique[at_least], first[at_least], sums[at_least]
        order = np.lexsort((first, -sums))[:n]
        if not order.size:
            return []
        top_weight = float(sums[order[0]])
        return [
            (table.term(term), settings.feedback_weight * weight / top_weight)
            for term, weight in zip(unique[order].tolist(), sums[order].tolist(), strict=True)
        ]

    def query(self, best: list[tuple[int, float]], query, settings: RankingSettings):
        """The feedback query (see `terms`) as Whoosh would run it: each term OR-ed in every
        weighted field with its boost (None: no feedback)."""
        chosen = self.terms(best, query, settings)
        if not chosen:
            return None
        field_weights = settings.field_weights()
        return Or([term_query(term, field_weights, boost) for term, boost in chosen])

    def rank(
        self,
        ranker: Ranker,
        parsed: ParsedQuery,
        settings: RankingSettings,
        allowed: np.ndarray | None = None,
    ) -> Scores:
        """Every document matching the query (and passing `allowed`) with its score: the
        first pass re-ranked by feedback, the one ranking search() and rank() share."""
        scores, matched = ranker.accumulate(parsed.query)
        if allowed is not None:
            matched &= allowed
        ids = matched.nonzero()[0]
        if settings.feedback_docs > 0 and ids.size:
            best = top_of(ids, scores[ids], settings.feedback_docs)
            chosen = self.terms(best, parsed.query, settings)
            if chosen:
                # Feedback re-ranks what the query matched and adds no documents: every
                # result still contains a query word (or a synonym), the total and the
                # facets mean what they say, and on a small corpus the feedback terms
                # (common words of the one good match) cannot pull in unrelated sections.
                extra = ranker.term_scores(chosen, settings.field_weights())
                scores[ids] += extra[ids]
        return Scores(ids, scores[ids])


def _sum_by_term(ids: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, ...]:
    """(distinct ids ascending, the index of each one's first occurrence, the sum of its
    values), as np.unique(ids, return_index=True) and a bincount over its inverse give them.

    Term numbers are dense (a build numbers its terms 0, 1, 2...), so when they span no
    more than a few times as many numbers as there are ids (the long sections of a clinic's
    articles), one bincount per column replaces np.unique's sort, at a tenth of its cost.
    Each sum adds the values in the order they come either way: the same floating point.
    `ids` is not empty."""
    span = int(ids.max()) + 1
    if span > 8 * ids.size:  # sparse numbers (short sections of a big build): sort them
        unique, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        return unique, first, np.bincount(inverse, weights=values)
    first = np.full(span, ids.size, dtype=np.intp)
    np.minimum.at(first, ids, np.arange(ids.size))
    unique = (first < ids.size).nonzero()[0]
    return unique, first[unique], np.bincount(ids, weights=values, minlength=span)[unique]


def query_texts(query) -> set[str]:
    """The texts of every term of a query (phrases' words too): {text for _field, text in
    query.iter_all_terms()}, walking kb's Or/Term/Phrase trees directly (Whoosh's generators
    cost more than the rest of feedback's bookkeeping)."""
    texts: set[str] = set()
    stack = [query]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is Or:
            stack.extend(node.subqueries)
        elif kind is Term:
            texts.add(node.text)
        elif kind is Phrase:
            texts.update(node.words)
        else:
            texts.update(text for _field, text in node.iter_all_terms())
    return texts


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """np.isin(values, sorted_set) for a small sorted set (a binary search per value)."""
    if not sorted_set.size:
        return np.zeros(values.shape, dtype=bool)
    at = np.minimum(sorted_set.searchsorted(values), sorted_set.size - 1)
    return sorted_set[at] == values


def body_term_weights(query) -> dict[str, float]:
    """Each term the query searches in the body, with its weight in the query (the product
    of the boosts above it: 1 for a typed word, less for a synonym or a joined pair)."""
    weights: dict[str, float] = {}

    def walk(node, weight: float) -> None:
        kind = type(node)  # kb's own trees: Or, Term and Phrase; isinstance for the rest
        if kind is Phrase:
            return
        if kind is Or or (kind is not Term and isinstance(node, Or)):
            weight = weight * node.boost
            for sub in node.subqueries:
                walk(sub, weight)
        elif (kind is Term or isinstance(node, Term)) and node.fieldname == "body":
            term_weight = weight * node.boost
            if term_weight > weights.get(node.text, 0.0):
                weights[node.text] = term_weight

    walk(query, 1.0)
    return weights


class SentenceMatch:
    """Re-ranks the first results by how much of the query one sentence of theirs holds.

    People describe one situation ("still feel everything so strongly after 6 months in
    therapy") and the answer is often one sentence ("A person may still feel intense
    emotions after months of treatment"), while BM25 counts the words wherever they are
    in the section. For each of the `sentence_candidates` best sections, its best sentence
    scores the sum of idf x query weight of the distinct query terms it holds; the best
    such sentence among them adds `sentence_weight` x the top score, and the others in
    proportion. Only the order of the first results changes; nothing is added or removed.
    """

    def __init__(self, analysis: SectionAnalysis):
        self.analysis = analysis

    def rerank(self, ranker: Ranker, query, scores: Scores, settings: RankingSettings) -> None:
        """Add each of the best sections' sentence score to `scores` (in place)."""
        if settings.sentence_weight <= 0 or settings.sentence_candidates <= 0 or not scores:
            return
        weights = body_term_weights(query)
        values = {t: w * ranker.searcher.idf("body", t) for t, w in weights.items()}
        best = scores.top(settings.sentence_candidates)
        docnums = [docnum for docnum, _score in best]
        analysed = zip(docnums, self.analysis.many(docnums), strict=True)
        number = self.analysis.table.number  # (after the analysis, which may number terms)
        probe = sentence_probe([number(term) for term in values])
        term_values = list(values.values())
        matched = {docnum: terms.best_sentence(probe, term_values) for docnum, terms in analysed}
        most = max(matched.values(), default=0.0)
        if most <= 0:
            return
        scale = settings.sentence_weight * best[0][1] / most
        at = scores.ids.searchsorted(list(matched))
        for position, value in zip(at.tolist(), matched.values(), strict=True):
            scores.values[position] += scale * value
