"""A Whoosh reader of a build whose title and body postings are kb's own (kb.postings).

A build indexes each section's title and body once, into its own arrays (kb.forward,
kb.postings), and gives Whoosh only the other fields (id, article, topics, breadcrumb,
position): writing the same postings a second time, posting by posting in Python, was
most of a full build's time. Whoosh's query objects, matchers, scorers and more_like still
do the searching; `StoredReader` answers the reader calls they make for the two fields
(postings with positions, frequencies, field lengths, the terms in order) from kb's arrays
with the numbers Whoosh would give, and passes every other call to the build's own Whoosh
reader.

It presents itself as one segment (is_atomic), so Whoosh asks it for every term with the
build's docnums; the other fields' postings of a build of several segments are read as
one list for that.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Iterator

import numpy as np
from whoosh.matching import ListMatcher
from whoosh.reading import IndexReader, TermInfo, TermNotFound

from kb.postings import StoredPostings


def _text(text) -> str:
    return text.decode("utf-8") if isinstance(text, bytes) else text


class _Positions:
    """The encoded positions of a term's postings (Whoosh's Positions format), each one
    encoded when a positional matcher first asks for it."""

    def __init__(self, positions: list[np.ndarray], encode):
        self._positions = positions
        self._encode = encode

    def __len__(self) -> int:
        return len(self._positions)

    def __getitem__(self, i: int) -> bytes:
        return self._encode(self._positions[i].tolist())


class StoredReader(IndexReader):
    """The build's Whoosh reader (`inner`) with the fields of `stored` read from it."""

    def __init__(self, inner: IndexReader, stored: StoredPostings):
        self.inner = inner
        self.stored = stored
        self.schema = inner.schema
        self._fields = frozenset(stored.postings.fields)
        self._terms: dict[str, list[str]] = {}

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    # -- what Whoosh's searcher asks of every reader ------------------------------------

    def is_atomic(self) -> bool:
        return True

    def leaf_readers(self) -> list[tuple[IndexReader, int]]:
        return [(self, 0)]

    def close(self) -> None:
        self.inner.close()

    def generation(self):
        return self.inner.generation()

    def indexed_field_names(self):
        return self.inner.indexed_field_names()

    def has_deletions(self) -> bool:
        return self.inner.has_deletions()

    def is_deleted(self, docnum: int) -> bool:
        return self.inner.is_deleted(docnum)

    def stored_fields(self, docnum: int) -> dict:
        return self.inner.stored_fields(docnum)

    def doc_count_all(self) -> int:
        return self.inner.doc_count_all()

    def doc_count(self) -> int:
        return self.inner.doc_count()

    def has_vector(self, docnum: int, fieldname: str) -> bool:
        return self.inner.has_vector(docnum, fieldname)

    def vector(self, docnum: int, fieldname: str, format_=None):
        return self.inner.vector(docnum, fieldname, format_)

    # -- terms --------------------------------------------------------------------------

    def __contains__(self, term) -> bool:
        fieldname, text = term
        if fieldname in self._fields:
            return self.stored.doc_frequency(fieldname, _text(text)) > 0
        return term in self.inner

    def _field_terms(self, fieldname: str) -> list[str]:
        terms = self._terms.get(fieldname)
        if terms is None:
            terms = self._terms[fieldname] = self.stored.field_terms(fieldname)
        return terms

    def terms_from(self, fieldname: str, prefix) -> Iterator[tuple[str, bytes]]:
        if fieldname not in self._fields:
            yield from self.inner.terms_from(fieldname, prefix)
            return
        terms = self._field_terms(fieldname)
        for text in itertools.islice(terms, bisect.bisect_left(terms, _text(prefix)), None):
            yield fieldname, text.encode("utf-8")

    def all_terms(self) -> Iterator[tuple[str, bytes]]:
        theirs = ((f, t) for f, t in self.inner.all_terms() if f not in self._fields)
        ours = [
            [(f, t.encode("utf-8")) for t in self._field_terms(f)] for f in sorted(self._fields)
        ]
        return heapq.merge(theirs, *ours)

    def term_info(self, fieldname: str, text) -> TermInfo:
        if fieldname not in self._fields:
            return self.inner.term_info(fieldname, text)
        docnums, weights = self.stored.weights(fieldname, _text(text))
        return self._term_info(fieldname, text, docnums, weights)

    def _term_info(self, fieldname: str, text, docnums: np.ndarray, weights: np.ndarray):
        if not docnums.size:
            raise TermNotFound((fieldname, text))
        lengths = self.stored.lengths[fieldname][docnums]
        return TermInfo(
            weight=float(weights.sum()),
            df=int(docnums.size),
            minlength=int(lengths.min()),
            maxlength=int(lengths.max()),
            maxweight=float(weights.max()),
            minid=int(docnums[0]),
            maxid=int(docnums[-1]),
        )

    def frequency(self, fieldname: str, text) -> float:
        if fieldname not in self._fields:
            return self.inner.frequency(fieldname, text)
        _docnums, weights = self.stored.weights(fieldname, _text(text))
        return float(weights.sum())

    def doc_frequency(self, fieldname: str, text) -> int:
        if fieldname not in self._fields:
            return self.inner.doc_frequency(fieldname, text)
        return self.stored.doc_frequency(fieldname, _text(text))

    # -- lengths ------------------------------------------------------------------------

    def field_length(self, fieldname: str) -> int:
        if fieldname not in self._fields:
            return self.inner.field_length(fieldname)
        return self.stored.totals[fieldname]

    def min_field_length(self, fieldname: str) -> int:
        if fieldname not in self._fields:
            return self.inner.min_field_length(fieldname)
        return int(self.stored.lengths[fieldname].min(initial=0))

    def max_field_length(self, fieldname: str) -> int:
        if fieldname not in self._fields:
            return self.inner.max_field_length(fieldname)
        return int(self.stored.lengths[fieldname].max(initial=0))

    def doc_field_length(self, docnum: int, fieldname: str, default=0):
        if fieldname not in self._fields:
            return self.inner.doc_field_length(docnum, fieldname, default)
        return int(self.stored.lengths[fieldname][docnum]) or default

    def field_lengths(self, fieldname: str) -> np.ndarray | None:
        """Every docnum's length in `fieldname` as doc_field_length gives it (0: none), or
        None for a field this reader passes on."""
        return self.stored.lengths.get(fieldname)

    # -- postings -----------------------------------------------------------------------

    def postings(self, fieldname: str, text, scorer=None):
        if fieldname in self._fields:
            return self._stored_matcher(fieldname, _text(text), scorer)
        if scorer is None:
            return self.inner.postings(fieldname, text)
        if self.inner.is_atomic():
            return self.inner.postings(fieldname, text, scorer=scorer)
        # Segments' matchers number documents from 0 in each; a scorer is given the build's
        # docnums, so the term's postings are read as one list.
        matcher = self.inner.postings(fieldname, text)
        ids, weights, values = [], [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            values.append(matcher.value())
            matcher.next()
        return ListMatcher(
            ids,
            weights,
            values,
            self.schema[fieldname].format,
            scorer=scorer,
            term=(fieldname, text),
            terminfo=self.inner.term_info(fieldname, text),
        )

    def _stored_matcher(self, fieldname: str, text: str, scorer):
        docnums, weights, positions = self.stored.entries(fieldname, text)
        terminfo = self._term_info(fieldname, text, docnums, weights)  # TermNotFound if none
        form = self.schema[fieldname].format
        return ListMatcher(
            docnums.tolist(),
            weights.tolist(),
            _Positions(positions, form.encode),
            form,
            scorer=scorer,
            term=(fieldname, text),
            terminfo=terminfo,
        )
