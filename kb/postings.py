"""Each term's sections and counts in the title and body fields, stored with a build.

Scoring a query word no search has asked for yet means reading its postings. Whoosh
stores them in blocks of 128 that unpickle their term positions too, in Python; on a
corpus of 10,000 sections or more, reading the postings of a long query's new words was
most of a slow search. The build already has every section's terms (kb.forward), so it
also writes them inverted, as arrays a server maps from disk:

    postings-<field>-starts.npy   where each term's entries start (int64; one more at the
                                  end; a term's number is its place in forward-terms.json)
    postings-<field>-rows.npy     the sections holding the term, ascending, as their rows
                                  in kb.forward (int32)
    postings-<field>-counts.npy   how many times the term occurs in each (int32)

for the title and the body fields. A section's title terms are the first `titles` of its
kb.forward row, its body terms the rest: exactly what the build gave Whoosh for the two
fields. Whoosh's posting weight is that count times the field's boost (`field_boost`);
kb.search.ranking scores these arrays with Whoosh's BM25F numbers and reads any other
field (and builds made without these files) from Whoosh.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kb.forward import Forward

FIELDS = ("title", "body")
PARTS = ("starts", "rows", "counts")
FILES = tuple(f"postings-{field}-{part}.npy" for field in FIELDS for part in PARTS)

Inverted = tuple[np.ndarray, np.ndarray, np.ndarray]  # starts, rows, counts


class TermPostings:
    """The inverted title and body fields of a build: (rows, counts) of a term by number."""

    def __init__(self, fields: dict[str, Inverted]):
        self.fields = fields

    def get(self, field: str, number: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows (ascending) of the sections whose `field` holds term `number`, and the
        times it occurs in each (empty arrays: none does)."""
        starts, rows, counts = self.fields[field]
        if number + 1 >= len(starts):
            return rows[:0], counts[:0]
        start, end = int(starts[number]), int(starts[number + 1])
        return rows[start:end], counts[start:end]

    def write(self, build: Path) -> None:
        """Write the files into a build directory."""
        for field, arrays in self.fields.items():
            for part, array, dtype in zip(
                PARTS, arrays, (np.int64, np.int32, np.int32), strict=True
            ):
                np.save(build / f"postings-{field}-{part}.npy", np.asarray(array, dtype=dtype))


def invert(forward: Forward) -> TermPostings:
    """The title and body postings of every row of `forward`.

    Each token is keyed by term x rows + row and the keys sorted, so a term's rows come
    ascending and repeats of a term within a row are neighbours, counted once.
    """
    return _from_entries(_entries(forward, np.arange(len(forward))), forward)


def _entries(forward: Forward, rows: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per field, the sorted (term x row count + row) keys of the given rows' tokens, each
    (term, row) once, and its count."""
    offsets = np.asarray(forward.offsets, dtype=np.int64)
    starts, ends = offsets[rows], offsets[rows + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    # Each token's place in forward.tokens and in its row, rows taken in turn.
    first_of_run = np.repeat(np.cumsum(lengths) - lengths, lengths)
    place = np.arange(total, dtype=np.int64) - first_of_run
    tokens = np.asarray(forward.tokens)[np.repeat(starts, lengths) + place]
    row_of_token = np.repeat(rows.astype(np.int64), lengths)
    in_title = place < np.repeat(np.asarray(forward.titles, dtype=np.int64)[rows], lengths)
    keys = tokens.astype(np.int64) * len(forward) + row_of_token
    out = {}
    for field, mask in (("title", in_title), ("body", ~in_title)):
        field_keys = np.sort(keys[mask])
        new = np.ones(field_keys.size, dtype=bool)  # where a (term, row) run starts
        np.not_equal(field_keys[1:], field_keys[:-1], out=new[1:])
        first = np.flatnonzero(new)
        out[field] = (field_keys[first], np.diff(np.append(first, field_keys.size)))
    return out


def _from_entries(
    entries: dict[str, tuple[np.ndarray, np.ndarray]], forward: Forward
) -> TermPostings:
    rows_count, terms_count = len(forward), len(forward.terms)
    fields: dict[str, Inverted] = {}
    for field, (keys, counts) in entries.items():
        terms = keys // max(rows_count, 1)
        starts = np.searchsorted(terms, np.arange(terms_count + 1))
        fields[field] = (starts, (keys - terms * rows_count).astype(np.int32), counts)
    return TermPostings(fields)


def update(
    previous: TermPostings,
    previous_forward: Forward,
    forward: Forward,
    kept_runs: list[tuple[int, int, int]],
) -> TermPostings | None:
    """The postings of `forward` (an incremental build's rows), from the previous build's
    for the rows it kept and inverting only the new ones: what invert(forward) gives.

    `kept_runs` are (previous first row, first row in `forward`, rows) of each article
    kept. The previous entries stay sorted when both the kept rows and the terms keep
    their order (articles keep the corpus's order; terms are sorted in both): None if not.
    """
    kept = np.full(len(previous_forward), -1, dtype=np.int64)
    for old, new, count in kept_runs:
        kept[old : old + count] = np.arange(new, new + count)
    position = {term: n for n, term in enumerate(forward.terms)}
    term_map = np.array([position.get(t, -1) for t in previous_forward.terms], dtype=np.int64)
    rows_count = len(forward)
    is_new = np.ones(rows_count, dtype=bool)
    is_new[kept[kept >= 0]] = False
    fresh = _entries(forward, np.flatnonzero(is_new))
    entries = {}
    for field, (starts, rows, counts) in previous.fields.items():
        starts = np.asarray(starts)
        terms = np.repeat(term_map, np.diff(starts))
        new_rows = kept[np.asarray(rows)]
        keep = (new_rows >= 0) & (terms >= 0)
        keys = terms[keep] * rows_count + new_rows[keep]
        if keys.size > 1 and not bool(np.all(keys[1:] > keys[:-1])):
            return None
        fresh_keys, fresh_counts = fresh[field]
        at = np.searchsorted(keys, fresh_keys)
        entries[field] = (
            np.insert(keys, at, fresh_keys),
            np.insert(np.asarray(counts)[keep], at, fresh_counts),
        )
    return _from_entries(entries, forward)


def read_postings_store(build: Path) -> TermPostings | None:
    """A build's TermPostings, mapped from disk (None: a build made without them)."""
    build = Path(build)
    if not all((build / name).is_file() for name in FILES):
        return None
    return TermPostings(
        {
            field: tuple(
                np.load(build / f"postings-{field}-{part}.npy", mmap_mode="r") for part in PARTS
            )
            for field in FIELDS
        }
    )


class StoredPostings:
    """A server's view of TermPostings: a term's Whoosh docnums (ascending) and weights.

    `number` gives a term's number (kb.forward.Forward.number), `row_of` each docnum's row
    (-1: a deleted document) and `boosts` each field's boost, as Whoosh multiplies the
    count by it and keeps the product as a 32-bit float.
    """

    def __init__(self, postings: TermPostings, number, row_of: np.ndarray, boosts: dict):
        self.postings = postings
        self.number = number
        self.boosts = boosts
        live = np.flatnonzero(row_of >= 0)
        self.docnum_of_row = np.empty(int(row_of.max(initial=-1)) + 1, dtype=np.intp)
        self.docnum_of_row[row_of[live]] = live
        # Rows in docnum order (a full build) need no sorting after the mapping.
        self.ordered = bool(np.all(np.diff(self.docnum_of_row) > 0))

    def __contains__(self, field: str) -> bool:
        return field in self.postings.fields

    def weights(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(docnums ascending, weights) of a term in a stored field, as Whoosh reads them."""
        number = self.number(term)
        if number is None:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
        rows, counts = self.postings.get(field, number)
        docnums = self.docnum_of_row[rows]
        weights = (counts * self.boosts[field]).astype(np.float32).astype(np.float64)
        if not self.ordered:
            order = np.argsort(docnums, kind="stable")
            docnums, weights = docnums[order], weights[order]
        return docnums, weights
