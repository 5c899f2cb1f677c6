"""Each term's sections, counts and positions in the title and body fields, stored with
a build.

Scoring a query word no search has asked for yet means reading its postings. Whoosh
stores them in blocks of 128 that unpickle their term positions too, in Python; on a
corpus of 10,000 sections or more, reading the postings of a long query's new words was
most of a slow search, and Whoosh's positional matcher most of the rest. The build
already has every section's terms with their positions (kb.forward), so it also writes
them inverted, for the title and the body fields:

    postings-<field>-starts.npy       where each term's entries start (int64; one more at
                                      the end; a term's number is its place in
                                      forward-terms.json)
    postings-<field>-rows.npy         each entry's section, as its row in kb.forward (int32;
                                      a term's rows ascend)
    postings-<field>-counts.npy       how many times the term occurs there (int32)
    postings-<field>-occurrences.npy  where each term's positions start (int64; one more)
    postings-<field>-positions.npy    the positions, entry after entry, each entry's
                                      ascending (int32)

A section's title terms are the first `titles` of its kb.forward row, its body terms the
rest: exactly what Whoosh indexes for the two fields. Since build format 3 these files are
the only postings of the two fields (Whoosh indexing them too, posting by posting, was
most of a full build's time): kb.search.ranking scores them with Whoosh's BM25F numbers
and matches phrases from the positions, and kb.search.reader serves them to Whoosh's own
queries (advanced syntax, more_like). Whoosh's posting weight is a count times the
field's boost (`field_boost`), its field lengths are kept in a byte (`quantized`). The
breadcrumb field (and builds made before format 3 without these files) are read from
Whoosh. A server keeps the starts in memory and reads a term's slice of the other files
when it is asked for (os.pread), so they stay out of its memory.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path

import numpy as np
from whoosh.util.numeric import byte_to_length, length_to_byte

from kb.forward import Forward

FIELDS = ("title", "body")
PARTS = ("starts", "rows", "counts", "occurrences", "positions")
DTYPES = (np.int64, np.int32, np.int32, np.int64, np.int32)
FILES = tuple(f"postings-{field}-{part}.npy" for field in FIELDS for part in PARTS)

# starts, rows, counts, occurrences, positions (see the module's docstring)
Inverted = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
# Per field: (term x rows + row) of each entry, sorted; its count; its positions, in order.
Entries = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]


class TermPostings:
    """The inverted title and body fields of a build, a term (by number) at a time."""

    def __init__(self, fields: dict[str, Inverted]):
        self.fields = fields

    def get(self, field: str, number: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows (ascending) of the sections whose `field` holds term `number`, and the
        times it occurs in each (empty arrays: none does)."""
        starts, rows, counts, _occurrences, _positions = self.fields[field]
        if number + 1 >= len(starts):
            return rows[:0], counts[:0]
        start, end = int(starts[number]), int(starts[number + 1])
        return rows[start:end], counts[start:end]

    def positions(self, field: str, number: int) -> np.ndarray:
        """The positions of term `number` in `field`: each row's (as get() lists them)
        ascending, one after the other."""
        _starts, _rows, _counts, occurrences, positions = self.fields[field]
        if number + 1 >= len(occurrences):
            return positions[:0]
        return positions[int(occurrences[number]) : int(occurrences[number + 1])]

    def write(self, build: Path) -> None:
        """Write the files into a build directory."""
        for field, arrays in self.fields.items():
            for part, array, dtype in zip(PARTS, arrays, DTYPES, strict=True):
                np.save(build / f"postings-{field}-{part}.npy", np.asarray(array, dtype=dtype))


def invert(forward: Forward) -> TermPostings:
    """The title and body postings of every row of `forward`."""
    return _from_entries(_entries(forward, np.arange(len(forward))), forward)


def _entries(forward: Forward, rows: np.ndarray) -> Entries:
    """The entries of the given rows' tokens (see Entries).

    Each token is keyed by (term x rows + row) x span + position and the keys sorted: a
    term's rows come ascending, each row's positions ascending, and the repeats of a term
    within a row are neighbours, counted once.
    """
    offsets = np.asarray(forward.offsets, dtype=np.int64)
    starts, ends = offsets[rows], offsets[rows + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    # Each token's place in forward.tokens and in its row, rows taken in turn.
    first_of_run = np.repeat(np.cumsum(lengths) - lengths, lengths)
    place = np.arange(total, dtype=np.int64) - first_of_run
    at = np.repeat(starts, lengths) + place
    tokens = np.asarray(forward.tokens)[at].astype(np.int64)
    positions = np.asarray(forward.positions)[at].astype(np.int64)
    span = int(positions.max(initial=0)) + 1
    row_of_token = np.repeat(rows.astype(np.int64), lengths)
    in_title = place < np.repeat(np.asarray(forward.titles, dtype=np.int64)[rows], lengths)
    keys = (tokens * len(forward) + row_of_token) * span + positions
    out = {}
    for field, mask in (("title", in_title), ("body", ~in_title)):
        field_keys = np.sort(keys[mask])
        entry_keys = field_keys // span
        new = np.ones(field_keys.size, dtype=bool)  # where a (term, row) run starts
        np.not_equal(entry_keys[1:], entry_keys[:-1], out=new[1:])
        first = np.flatnonzero(new)
        counts = np.diff(np.append(first, field_keys.size))
        out[field] = (entry_keys[first], counts, field_keys - entry_keys * span)
    return out


def _from_entries(entries: Entries, forward: Forward) -> TermPostings:
    rows_count, terms_count = len(forward), len(forward.terms)
    fields: dict[str, Inverted] = {}
    for field, (keys, counts, positions) in entries.items():
        terms = keys // max(rows_count, 1)
        starts = np.searchsorted(terms, np.arange(terms_count + 1))
        occurrences = np.concatenate(([0], np.cumsum(counts)))[starts]
        rows = (keys - terms * rows_count).astype(np.int32)
        fields[field] = (starts, rows, counts, occurrences, positions)
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
    for field, (starts, rows, counts, _occurrences, positions) in previous.fields.items():
        starts, counts = np.asarray(starts), np.asarray(counts)
        terms = np.repeat(term_map, np.diff(starts))
        new_rows = kept[np.asarray(rows)]
        keep = (new_rows >= 0) & (terms >= 0)
        keys = terms[keep] * rows_count + new_rows[keep]
        if keys.size > 1 and not bool(np.all(keys[1:] > keys[:-1])):
            return None
        kept_counts = counts[keep]
        kept_positions = np.asarray(positions)[np.repeat(keep, counts)]
        fresh_keys, fresh_counts, fresh_positions = fresh[field]
        at = np.searchsorted(keys, fresh_keys)
        # Each new entry's positions go where the kept entry it comes before starts.
        places = np.concatenate(([0], np.cumsum(kept_counts)))[at]
        entries[field] = (
            np.insert(keys, at, fresh_keys),
            np.insert(kept_counts, at, fresh_counts),
            np.insert(kept_positions, np.repeat(places, fresh_counts), fresh_positions),
        )
    return _from_entries(entries, forward)


class ArrayFile:
    """A one-dimensional .npy file read a slice at a time (os.pread).

    A term's postings are one slice of each file. Read this way they pass through the
    page cache only, while a mapped file's pages count in the server's memory (RSS) once
    touched, and a long-running server touches most of them.
    """

    def __init__(self, path: Path):
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            self.offset = f.tell()
        if len(shape) != 1 or dtype.hasobject:
            raise ValueError(f"{path.name} is not a one-dimensional array of numbers")
        self.length, self.dtype = shape[0], dtype
        self.fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self.fd)
        if os.fstat(self.fd).st_size < self.offset + self.length * dtype.itemsize:
            raise ValueError(f"{path.name} is shorter than its header says")

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: slice) -> np.ndarray:
        start, stop, _step = key.indices(self.length)
        size = self.dtype.itemsize
        want = max(stop - start, 0) * size
        data = os.pread(self.fd, want, self.offset + start * size) if want else b""
        if len(data) != want:
            raise OSError(f"short read from a postings file ({len(data)} of {want} bytes)")
        return np.frombuffer(data, dtype=self.dtype)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self[:]
        return whole if dtype is None else whole.astype(dtype)


def read_postings_store(build: Path) -> TermPostings | None:
    """A build's TermPostings (None: a build made without them): each term's starts in
    memory, its rows and counts read from the files as terms are asked for."""
    build = Path(build)
    if not all((build / name).is_file() for name in FILES):
        return None
    fields = {}
    for field in FIELDS:
        starts, occurrences = (
            np.load(build / f"postings-{field}-{part}.npy") for part in ("starts", "occurrences")
        )
        rows, counts, positions = (
            ArrayFile(build / f"postings-{field}-{part}.npy")
            for part in ("rows", "counts", "positions")
        )
        if (
            starts.ndim != 1
            or starts.shape != occurrences.shape
            or not starts.size
            or int(starts[-1]) != len(rows)
            or len(rows) != len(counts)
            or int(occurrences[-1]) != len(positions)
        ):
            raise ValueError(f"postings-{field}-* do not agree")
        fields[field] = (starts, rows, counts, occurrences, positions)
    return TermPostings(fields)


def quantized(lengths: np.ndarray) -> np.ndarray:
    """Each length as Whoosh stores a document's field length, in one byte
    (length_to_byte) read back with byte_to_length (int32)."""
    unique, inverse = np.unique(lengths, return_inverse=True)
    table = np.array([byte_to_length(length_to_byte(int(n))) for n in unique], dtype=np.int32)
    return table[inverse].reshape(lengths.shape)


class StoredPostings:
    """A server's view of TermPostings: a term's Whoosh docnums (ascending) and weights,
    and which documents hold a phrase.

    `forward` is the build's kb.forward data (its rows and term numbers), `row_of` each
    docnum's row (-1: a deleted document) and `boosts` each field's boost, as Whoosh
    multiplies the count by it and keeps the product as a 32-bit float.
    """

    def __init__(self, postings: TermPostings, forward: Forward, row_of: np.ndarray, boosts):
        self.postings = postings
        self.number = forward.number
        self.terms = forward.terms
        self.boosts = boosts
        live = np.flatnonzero(row_of >= 0)
        self.docnum_of_row = np.empty(len(forward), dtype=np.intp)
        self.docnum_of_row[row_of[live]] = live
        # Rows in docnum order (a full build) need no sorting after the mapping.
        self.ordered = bool(np.all(np.diff(self.docnum_of_row) > 0))
        # Each docnum's length (terms) in each field as Whoosh counts it (a section's title
        # terms are the first `titles` of its row, its body terms the rest) and stores it
        # (in a byte: `quantized`), and each field's total.
        titles = np.asarray(forward.titles, dtype=np.int64)
        row_lengths = {"title": titles, "body": np.diff(np.asarray(forward.offsets)) - titles}
        self.lengths: dict[str, np.ndarray] = {}
        self.totals: dict[str, int] = {}
        for field, of_row in row_lengths.items():
            lengths = np.zeros(row_of.size, dtype=np.int64)
            lengths[live] = of_row[row_of[live]]
            self.lengths[field] = quantized(lengths)
            self.totals[field] = int(lengths.sum())

    def doc_frequency(self, field: str, term: str) -> int:
        """How many sections' `field` holds `term`."""
        number = self.number(term)
        if number is None:
            return 0
        starts = self.postings.fields[field][0]
        return int(starts[number + 1] - starts[number]) if number + 1 < len(starts) else 0

    def field_terms(self, field: str) -> list[str]:
        """The terms some section's `field` holds, sorted."""
        starts = self.postings.fields[field][0]
        return [self.terms[n] for n in np.flatnonzero(np.diff(starts) > 0).tolist()]

    def __contains__(self, field: str) -> bool:
        return field in self.postings.fields

    def weights(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(docnums ascending, weights) of a term in a stored field, as Whoosh reads them."""
        docnums, weights, _positions = self._read(field, term, positions=False)
        return docnums, weights

    def entries(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """(docnums ascending, weights, each one's positions) of a term in a stored field."""
        return self._read(field, term, positions=True)

    def _read(self, field: str, term: str, positions: bool):
        number = self.number(term)
        if number is None:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64), []
        rows, counts = self.postings.get(field, number)
        docnums = self.docnum_of_row[rows]
        weights = (counts * self.boosts[field]).astype(np.float32).astype(np.float64)
        found = []
        if positions and counts.size:
            found = np.split(self.postings.positions(field, number), np.cumsum(counts)[:-1])
        if not self.ordered:
            order = np.argsort(docnums, kind="stable")
            docnums, weights = docnums[order], weights[order]
            found = [found[i] for i in order.tolist()] if found else found
        return docnums, weights, found

    def phrase(self, field: str, words, candidates: np.ndarray, slop: int) -> np.ndarray:
        """Those of `candidates` (ascending docnums whose `field` holds every word) where
        the words occur in order, each 1 to `slop` positions after the one before: the
        documents Whoosh's Phrase matches (SpanNear2, ordered, mindist 1).

        Each word's positions in the candidates are keyed candidate x span + position
        (span: more than any position plus `slop`, so keys of two candidates never come
        within `slop`); an occurrence continues the phrase when the nearest continuing
        occurrence of the previous word before it is at most `slop` behind.
        """
        numbers = [self.number(word) for word in words]
        if not candidates.size or None in numbers:
            return candidates[:0]
        found = []  # per word: (which candidate, position) of its occurrences in them
        for number in numbers:
            rows, counts = self.postings.get(field, number)
            docnums = np.repeat(self.docnum_of_row[rows], counts)
            positions = self.postings.positions(field, number)
            which = np.searchsorted(candidates, docnums)
            inside = which < candidates.size
            inside[inside] = candidates[which[inside]] == docnums[inside]
            found.append((which[inside].astype(np.int64), positions[inside].astype(np.int64)))
        span = max(int(p.max(initial=0)) for _w, p in found) + slop + 2
        keys = [which * span + positions for which, positions in found]
        ends = np.sort(keys[0])
        for following in keys[1:]:
            before = np.searchsorted(ends, following, side="left") - 1
            ok = before >= 0
            ok[ok] = following[ok] - ends[before[ok]] <= slop
            ends = np.sort(following[ok])
            if not ends.size:
                break
        return candidates[np.unique(ends // span)]
