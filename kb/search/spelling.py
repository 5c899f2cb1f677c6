"""The index's vocabulary, and the closest known word to a misspelt one.

The vocabulary holds unstemmed words as written ("self-harm", not "selfharm"), each with
the number of sections it occurs in, so completions (kb.search.suggest) and corrections
offer words people recognise. A build counts it (kb.index writes vocabulary.json beside
the index: half of a Whoosh field's postings, for a table this size); builds made before
that kept it in a Whoosh field, which `from_reader` still reads. Both completions and
corrections are given the one `Vocabulary` of an opened build.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from functools import cached_property

from rapidfuzz import process
from rapidfuzz.distance import OSA

from kb.search import cache

VOCABULARY_FIELD = "vocabulary"  # the Whoosh field of builds made before vocabulary.json


class Vocabulary:
    """The words of the vocabulary field, sorted, each with its document frequency."""

    def __init__(self, words: Iterable[tuple[str, int]]):
        ordered = sorted(words)
        self.terms: list[str] = [t for t, _ in ordered]
        self.frequencies: list[int] = [f for _, f in ordered]
        self.doc_frequency: dict[str, int] = dict(ordered)
        self.alphabet: list[str] = sorted({c for t in self.terms for c in t})

    @classmethod
    def from_counts(cls, counts: Mapping[str, int]) -> Vocabulary:
        """The vocabulary from a build's word -> document frequency table."""
        return cls(counts.items())

    @classmethod
    def from_reader(cls, reader, field: str = VOCABULARY_FIELD) -> Vocabulary:
        """The vocabulary of an index, read from its `field` with a Whoosh reader."""
        return cls(
            (term.decode("utf-8") if isinstance(term, bytes) else term, info.doc_frequency())
            for term, info in reader.iter_field(field)
        )

    def completions(self, prefix: str, limit: int) -> list[str]:
        """Up to `limit` words starting with `prefix`, most frequent first (then A-Z)."""
        start = bisect.bisect_left(self.terms, prefix)
        end = bisect.bisect_left(self.terms, prefix + "\uffff")
        candidates = sorted(range(start, end), key=lambda i: -self.frequencies[i])[:limit]
        return [self.terms[i] for i in candidates]

    @cached_property
    def _by_initial(self) -> dict[str, list[str]]:
        by_initial: dict[str, list[str]] = {}
        for term in self.terms:
            by_initial.setdefault(term[:1], []).append(term)
        return by_initial

    def within(self, word: str, distance: int) -> list[str]:
        """Words within `distance` edits of `word` (insertions, deletions, substitutions and
        swaps of neighbours: optimal string alignment) that keep its first letter, which is
        what Whoosh's terms_within(prefix=1) found; by rapidfuzz over that letter's words."""
        candidates = self._by_initial.get(word[:1], [])
        return [
            match
            for match, _score, _index in process.extract(
                word, candidates, scorer=OSA.distance, score_cutoff=distance, limit=None
            )
        ]


class SpellingCorrector:
    """Finds the most frequent known word a few edits away from an unknown one."""

    def __init__(self, vocabulary: Vocabulary):
        self.vocabulary = vocabulary
        self._closest: cache.Memo[tuple[str, int] | None] = cache.Memo(cache.CORRECTIONS)

    def closest_word(self, word: str, max_distance: int = 2) -> tuple[str, int] | None:
        """(word, document frequency) of the most frequent vocabulary word within edit
        distance 1 (else 2) of `word`; None when there is none. Remembered per word: the
        same misspellings recur.

        Candidates keep the first letter and differ by Levenshtein edits after it.
        Distance 1, by far the commonest call, is answered by generating the word's edits
        and looking them up (a fraction of a millisecond); distance 2 compares the word
        with the vocabulary's words of the same first letter (rapidfuzz).
        """
        return self._closest.get_or_compute(
            (word, max_distance), lambda: self._closest_word(word, max_distance)
        )

    def _closest_word(self, word: str, max_distance: int) -> tuple[str, int] | None:
        frequencies = self.vocabulary.doc_frequency
        for distance in range(1, max_distance + 1):
            if distance == 1:
                found = [c for c in self.edits1(word) if c in frequencies]
            else:
                found = self.vocabulary.within(word, distance)
            candidates = [(frequencies[c], c) for c in found if c != word]
            if candidates:
                frequency, best = max(candidates)
                return best, frequency
        return None

    def edits1(self, word: str) -> set[str]:
        """Words one insertion, deletion or substitution away, the first letter kept
        (letters drawn from the vocabulary's alphabet)."""
        head, rest = word[:1], word[1:]
        splits = [(rest[:i], rest[i:]) for i in range(len(rest) + 1)]
        alphabet = self.vocabulary.alphabet
        edits = {a + b[1:] for a, b in splits if b}
        edits.update(a + c + b[1:] for a, b in splits if b for c in alphabet)
        edits.update(a + c + b for a, b in splits for c in alphabet)
        return {head + e for e in edits}
