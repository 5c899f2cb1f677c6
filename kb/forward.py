"""Each section's analysed terms and their sentence numbers, stored with a build.

Pseudo-relevance feedback and sentence matching (kb.search.ranking) read the terms of a
query's best sections. Analysing those sections at search time, word by word in Python,
was about a third of a new search on a corpus of 10,000 sections, while the build had
just analysed every one of them. So the build keeps what it found, as arrays a server
maps from disk:

    forward-terms.json      the terms, sorted (a term's number is its place here)
    forward-tokens.npy      every section's terms in order, as numbers (int32)
    forward-sentences.npy   each of those terms' sentence number in its section (int32)
    forward-offsets.npy     where each section's terms start (int64; one more at the end)
    forward-titles.npy      how many of each section's terms are its title's (int32)
    forward-positions.npy   each term's position in its field, as Whoosh indexed it (int32)

Sections are in the order of corpus.json (articles in order, their sections in order).
A section's terms are those of its title, then its text, stop words removed, exactly as
the build's analyzer gives them; its sentences are the pieces of "title\\ntext" between
SENTENCE_BREAKs that hold a term, numbered from 0. An incremental build takes the rows of
the articles it keeps from the previous build and renumbers the terms.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from kb.analysis import SENTENCE_BREAK

TERMS_FILE = "forward-terms.json"
TOKENS_FILE = "forward-tokens.npy"
SENTENCES_FILE = "forward-sentences.npy"
OFFSETS_FILE = "forward-offsets.npy"
TITLES_FILE = "forward-titles.npy"
POSITIONS_FILE = "forward-positions.npy"
FILES = (TERMS_FILE, TOKENS_FILE, SENTENCES_FILE, OFFSETS_FILE, TITLES_FILE, POSITIONS_FILE)


def section_terms(
    title: str, text: str, terms_of: Callable[[str], Sequence[str]]
) -> tuple[list[str], list[int]]:
    """The terms of a section (`terms_of`: the analyzer's indexed terms of a text) and each
    one's sentence number: what feedback and sentence matching read (ForwardCollector
    computes the same, with numbers for terms)."""
    terms: list[str] = []
    numbers: list[int] = []
    number = 0
    for part in SENTENCE_BREAK.split(f"{title}\n{text}"):
        found = terms_of(part)
        if found:
            terms.extend(found)
            numbers.extend([number] * len(found))
            number += 1
    return terms, numbers


class Forward:
    """Sections' term numbers and sentence numbers, row by row (one row per section).

    `terms` are the term texts by number; `tokens`, `sentences`, `offsets`, `titles` and
    `positions` are the arrays described in the module's docstring (in memory while a build collects
    them, mapped from the build's files when a server reads them).
    """

    def __init__(
        self,
        terms: list[str],
        tokens: np.ndarray,
        sentences: np.ndarray,
        offsets: np.ndarray,
        titles: np.ndarray,
        positions: np.ndarray,
    ):
        self.terms = terms
        self.tokens = tokens
        self.sentences = sentences
        self.offsets = offsets
        self.titles = titles
        self.positions = positions

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def row(self, number: int) -> tuple[np.ndarray, np.ndarray]:
        """(term numbers, sentence numbers) of the section in row `number`."""
        start, end = int(self.offsets[number]), int(self.offsets[number + 1])
        return self.tokens[start:end], self.sentences[start:end]

    def number(self, term: str) -> int | None:
        """The number of `term` (None: no section has it)."""
        at = bisect_left(self.terms, term)
        return at if at < len(self.terms) and self.terms[at] == term else None

    def write(self, build: Path) -> None:
        """Write the six files into a build directory."""
        (build / TERMS_FILE).write_text(json.dumps(self.terms, ensure_ascii=False), "utf-8")
        np.save(build / TOKENS_FILE, np.ascontiguousarray(self.tokens, dtype=np.int32))
        np.save(build / SENTENCES_FILE, np.ascontiguousarray(self.sentences, dtype=np.int32))
        np.save(build / OFFSETS_FILE, np.ascontiguousarray(self.offsets, dtype=np.int64))
        np.save(build / TITLES_FILE, np.ascontiguousarray(self.titles, dtype=np.int32))
        np.save(build / POSITIONS_FILE, np.ascontiguousarray(self.positions, dtype=np.int32))


Analysed = tuple[list[tuple[str, int]], list[int]]  # PositionedTerms' terms, terms per sentence


class ForwardCollector:
    """Collects sections' terms while a build process indexes them, numbered in the order
    first seen; `forward()` hands them over as a Forward (not yet sorted by term).

    A section comes as the build analysed it for indexing: its title's and its text's
    (term, position) lists and their terms per sentence (kb.analysis.PositionedTerms with
    `sentences`). The sentences of "title\ntext" that hold a term are the title's, then
    the text's: the line break between them is a SENTENCE_BREAK.
    """

    def __init__(self):
        self._numbers: dict[str, int] = {}
        self._terms: list[str] = []
        self._tokens: list[int] = []
        self._counts: list[int] = []  # terms per sentence, sections after one another
        self._sentences: list[int] = []  # sentences per section
        self._titles: list[int] = []  # title terms per section
        self._positions: list[int] = []  # each term's position in its field
        self.rows: dict[str, tuple[int, int]] = {}  # article slug -> (first row, rows)

    def add_article(self, slug: str, sections: Sequence[tuple[Analysed, Analysed]]) -> None:
        """Add one article's sections, in order: (title, text) as analysed for each."""
        self.rows[slug] = (len(self._sentences), len(sections))
        numbers, terms, tokens = self._numbers, self._terms, self._tokens
        for title, text in sections:
            sentences = len(self._counts)
            self._titles.append(len(title[0]))
            for positioned, counts in (title, text):
                texts = [term for term, _position in positioned]
                found = list(map(numbers.get, texts))
                if None in found:
                    for i, term in enumerate(texts):
                        if found[i] is None:
                            found[i] = numbers.get(term)
                            if found[i] is None:
                                found[i] = numbers[term] = len(terms)
                                terms.append(term)
                tokens.extend(found)
                self._positions.extend([position for _term, position in positioned])
                self._counts.extend(counts)
            self._sentences.append(len(self._counts) - sentences)

    def forward(self) -> Forward:
        """What was collected."""
        counts = np.array(self._counts, dtype=np.int64)
        per_section = np.array(self._sentences, dtype=np.int64)
        # Each term's sentence number: its sentence's place within its section.
        first_of_section = np.repeat(np.cumsum(per_section) - per_section, per_section)
        sentence_numbers = np.arange(counts.size) - first_of_section
        section_of = np.repeat(np.arange(per_section.size), per_section)
        terms_per_section = np.bincount(section_of, counts, per_section.size).astype(np.int64)
        return Forward(
            self._terms,
            np.array(self._tokens, dtype=np.int32),
            np.repeat(sentence_numbers, counts).astype(np.int32),
            np.concatenate(([0], np.cumsum(terms_per_section))).astype(np.int64),
            np.array(self._titles, dtype=np.int32),
            np.array(self._positions, dtype=np.int32),
        )


def merge(pieces: Sequence[tuple[Forward, int, int]]) -> Forward:
    """One Forward of the rows `pieces` name, in order: (forward, first row, rows) each.

    The terms are the ones those rows hold, sorted, and every row is renumbered to them
    (a previous build's rows of the articles kept, and new processes' rows of the rest).
    """
    runs: list[list] = []  # [forward, first row, rows]: consecutive rows of one forward joined
    for forward, first, count in pieces:
        last = runs[-1] if runs else None
        if last is not None and last[0] is forward and last[1] + last[2] == first:
            last[2] += count
        else:
            runs.append([forward, first, count])
    slices = []  # (forward, tokens, sentences, section lengths, title lengths, positions)
    used: dict[int, np.ndarray] = {}  # id(forward) -> which of its terms the rows use
    for forward, first, count in runs:
        bounds = forward.offsets[first : first + count + 1]
        start, end = int(bounds[0]), int(bounds[-1])
        tokens = np.asarray(forward.tokens[start:end])
        titles = forward.titles[first : first + count]
        slices.append(
            (
                forward,
                tokens,
                forward.sentences[start:end],
                np.diff(bounds),
                titles,
                forward.positions[start:end],
            )
        )
        mask = used.setdefault(id(forward), np.zeros(len(forward.terms), dtype=bool))
        mask[tokens] = True
    sources = {id(forward): forward for forward, _first, _count in runs}
    terms = sorted(
        {sources[key].terms[n] for key, mask in used.items() for n in np.flatnonzero(mask)}
    )
    position = {term: n for n, term in enumerate(terms)}
    renumber = {
        key: np.array([position.get(term, -1) for term in forward.terms], dtype=np.int32)
        for key, forward in sources.items()
    }
    empty = np.empty(0, dtype=np.int32)
    lengths = np.concatenate([s[3] for s in slices]) if slices else np.empty(0, np.int64)
    return Forward(
        terms,
        np.concatenate([renumber[id(s[0])][s[1]] for s in slices] or [empty]),
        np.concatenate([np.asarray(s[2]) for s in slices] or [empty]),
        np.concatenate(([0], np.cumsum(lengths))).astype(np.int64),
        np.concatenate([np.asarray(s[4]) for s in slices] or [empty]).astype(np.int32),
        np.concatenate([np.asarray(s[5]) for s in slices] or [empty]).astype(np.int32),
    )


def read_forward(build: Path) -> Forward | None:
    """A build's Forward, its arrays mapped from disk (None: a build made without one)."""
    build = Path(build)
    if not all((build / name).is_file() for name in FILES):
        return None
    terms = json.loads((build / TERMS_FILE).read_text(encoding="utf-8"))
    arrays = [np.load(build / name, mmap_mode="r") for name in FILES[1:]]
    return Forward(terms, *arrays)
