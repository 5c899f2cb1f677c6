"""The ranking configuration and the index fields a query searches."""

from __future__ import annotations

from dataclasses import dataclass

TEXT_FIELDS = ("title", "body", "breadcrumb")
PHRASE_FIELDS = ("title", "body")


@dataclass(frozen=True)
class RankingSettings:
    """The one ranking configuration every corpus gets (tuned in benchmarks/).

    See benchmarks/results/levers.md for what each value was measured to do.
    """

    k1: float = 0.9
    b: float = 0.75
    idf: str = "lucene"  # or "whoosh" (see kb.search.ranking.LuceneIdfBM25F)
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
    # co-occurring-condition word. 0.35 (from 0.2) once patients' words became taxonomy
    # lay terms: +0.012 nDCG@10 on the judged `tune` half (benchmarks/relevance.py).
    expansion_weight: float = 0.35
    # ...unless the searcher's own word is in no section ("online" where the articles say
    # "telehealth"): then the expansion is all there is to go on and counts as the word.
    absent_word_expansion_weight: float = 1.0
    # A query of more words than this (a pasted letter; up to 1,000 characters are
    # accepted) keeps only its most informative words (kb.search.query.QueryParser.cap).
    max_words: int = 32
    correction_min_length: int = 5  # shorter words are too often right and merely absent
    correction_distance_two_length: int = 8  # only long words may be two edits away
    # Pseudo-relevance feedback (RM3-style, see kb.search.ranking.Feedback): the best new
    # terms of the first 10 results, OR-ed in at 0.3 of a query word's weight. It finds
    # what the searcher did not think to type; feedback_docs = 0 turns it off.
    feedback_docs: int = 10
    feedback_terms: int = 20
    feedback_weight: float = 0.3
    # The best sentence of each of the first results (kb.search.ranking.SentenceMatch):
    # +0.008 nDCG@10 on the judged `tune` half at 0.4 (0.7: +0.017, but Cranfield -0.004);
    # the public collections moved by less than 0.002. 0 turns it off.
    sentence_weight: float = 0.4
    sentence_candidates: int = 10  # the feedback's documents: analyzed once for both

    def field_weights(self) -> tuple[tuple[str, float], ...]:
        """(field, query-time weight) of each text field searched (weight above zero)."""
        weights = (self.title_weight, self.body_weight, self.breadcrumb_weight)
        return tuple((f, w) for f, w in zip(TEXT_FIELDS, weights, strict=True) if w > 0)
