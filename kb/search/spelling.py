"""The index's vocabulary, and the closest known word to a misspelt one.

The vocabulary field holds unstemmed words as written ("self-harm", not "selfharm"), so
completions (kb.search.suggest) and corrections offer words people recognise. Both are
given the one `Vocabulary` of an opened build.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable

VOCABULARY_FIELD = "vocabulary"


class Vocabulary:
    """The words of the vocabulary field, sorted, each with its document frequency."""

    def __init__(self, words: Iterable[tuple[str, int]]):
        ordered = sorted(words)
        self.terms: list[str] = [t for t, _ in ordered]
        self.frequencies: list[int] = [f for _, f in ordered]
        self.doc_frequency: dict[str, int] = dict(ordered)
        self.alphabet: list[str] = sorted({c for t in self.terms for c in t})

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


class SpellingCorrector:
    """Finds the most frequent known word a few edits away from an unknown one.

    `reader` returns a Whoosh reader of the same index (one per thread): edits of two
    letters are found by walking Whoosh's automaton over the vocabulary field.
    """

    def __init__(self, vocabulary: Vocabulary, reader: Callable[[], object]):
        self.vocabulary = vocabulary
        self._reader = reader

    def closest_word(self, word: str, max_distance: int = 2) -> tuple[str, int] | None:
        """(word, document frequency) of the most frequent vocabulary word within edit
        distance 1 (else 2) of `word`; None when there is none.

        Candidates keep the first letter and differ by Levenshtein edits after it, as
        Whoosh's terms_within(prefix=1) finds them. Distance 1, by far the commonest call,
        is answered by generating the word's edits and looking them up (a fraction of a
        millisecond); distance 2 walks Whoosh's automaton.
        """
        for distance in range(1, max_distance + 1):
            if distance == 1:
                frequencies = self.vocabulary.doc_frequency
                candidates = [
                    (frequencies[c], c) for c in self.edits1(word) if c in frequencies and c != word
                ]
            else:
                reader = self._reader()
                candidates = [
                    (reader.doc_frequency(VOCABULARY_FIELD, c), c)
                    for c in reader.terms_within(VOCABULARY_FIELD, word, distance, prefix=1)
                    if c != word
                ]
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
