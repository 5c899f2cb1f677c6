"""The bounded caches of an opened build, and every cache's bound, in one place.

An opened build never changes, so no entry goes stale: every cache only trades memory for
time. Most are least-recently-used caches (`LRU`, emptied least recently used first); those
that threads share sit behind a lock (`SharedCache`), the per-thread ones do not. The
hottest lookups of a search (a query word's frequency, a word's analysis, a misspelling's
correction) are memos instead (`Memo`): a plain dict, read without a lock, that stops
growing at its bound.

======================  ==========================  ==========================  ========
cache                   key -> value                bound                       threads
======================  ==========================  ==========================  ========
results                 search arguments -> results RESULTS (256 entries)       shared
filters                 (topic, article) -> a      FILTERS (1,024 entries)     shared
                        boolean per docnum
facet values            (kind, value, count) ->     FACETS (100,000; a memo)    shared
                        FacetCount
related                 (section, limit) ->         RELATED (4,096 entries)     shared
                        sections
snippet tokens          section -> plain text, its  SNIPPETS (4,096 entries)    shared
                        tokens and their positions
snippets                (section, length, terms and MARKED (20,000 entries)     shared
                        phrases it holds) -> HTML
section terms           section -> its sentences'   SECTION_TERMS (4,096)       shared
                        terms and P(t|d)
analyzed words          (word, stops, mode) ->      WORDS (50,000 entries;      shared
                        tokens                      a dict that stops growing)
term frequencies        term -> sections holding it FREQUENCIES (100,000;   shared
                                                    a memo)
expressions present     taxonomy expression ->      FREQUENCIES (100,000;   shared
                        all its terms indexed       a memo)
expansion clauses       (expression, weights) ->    FREQUENCIES (100,000;   shared
                        its Whoosh query            a memo)
expansion additions     (group, expressions typed,  FREQUENCIES (100,000;   shared
                        weights) -> its clauses,    a memo)
                        marks and Expansions
corrections             (word, distance) -> the     CORRECTIONS (20,000;        shared
                        closest known word          a memo)
joined pairs            (two words joined, weights) JOINED (20,000 entries;     shared
                        -> their indexed terms and  functools.lru_cache)
                        Whoosh clauses
postings                (field, term) or phrase ->  POSTINGS (2,000,000         one per
                        docnums and scores (arrays) postings in all)            thread
======================  ==========================  ==========================  ========

(Each thread's ranker also keeps one length-normalisation table per text field, at most
three lists of one float per document; they are tables, not caches.)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

RESULTS = 256  # the widget re-asks as people type and page
FILTERS = 1_024
FACETS = 100_000
RELATED = 4_096
SNIPPETS = 4_096
MARKED = 20_000  # snippets of a few hundred characters: a few MB at most
SECTION_TERMS = 4_096
WORDS = 50_000
FREQUENCIES = 100_000
CORRECTIONS = 20_000
JOINED = 20_000
POSTINGS = 2_000_000  # postings, not entries: one hot term may hold most of a corpus

V = TypeVar("V")

_MISSING = object()


class LRU(Generic[V]):
    """A least-recently-used cache holding at most `maxsize` in all, each value counting
    `getsizeof(value)` (1 without it); a value larger than `maxsize` is not kept. Not safe
    for threads to share: SharedCache locks one, a thread's own needs no lock.

    An OrderedDict whose end is the most recently used: a hit is one dict read and one
    move. A search makes about a hundred lookups (its terms' postings, its sections'
    analyses and snippets), and this hit costs a third of cachetools.LRUCache's (0.09 vs
    0.28 µs measured on a search's postings keys), whose Python layers it replaced.
    """

    __slots__ = ("maxsize", "currsize", "_sizeof", "_values")

    def __init__(self, maxsize: int, getsizeof: Callable[[V], int] | None = None):
        self.maxsize = maxsize
        self.currsize = 0
        self._sizeof = getsizeof
        self._values: OrderedDict = OrderedDict()

    def get(self, key: Hashable, default=None):
        """The value of `key` (now the most recently used), else `default`."""
        value = self._values.get(key, _MISSING)
        if value is _MISSING:
            return default
        self._values.move_to_end(key)
        return value

    def put(self, key: Hashable, value: V) -> V:
        """Store `value` under `key` as the most recently used, evicting the least recently
        used values while the total is over `maxsize`; return it."""
        sizeof = self._sizeof
        size = 1 if sizeof is None else sizeof(value)
        if size > self.maxsize:
            return value
        values = self._values
        old = values.pop(key, _MISSING)
        if old is not _MISSING:
            self.currsize -= 1 if sizeof is None else sizeof(old)
        values[key] = value
        self.currsize += size
        while self.currsize > self.maxsize:
            _key, evicted = values.popitem(last=False)
            self.currsize -= 1 if sizeof is None else sizeof(evicted)
        return value

    def clear(self) -> None:
        """Forget every value."""
        self._values.clear()
        self.currsize = 0

    def __len__(self) -> int:
        """The number of values held."""
        return len(self._values)


class SharedCache(Generic[V]):
    """A least-recently-used cache of at most `maxsize` entries that threads may share.

    Values are computed outside the lock, so a slow computation never holds up other
    threads; two threads missing the same key at once both compute it (values are pure
    functions of the key), and the last one stored wins.
    """

    def __init__(self, maxsize: int, getsizeof: Callable[[V], int] | None = None):
        self._cache: LRU[V] = LRU(maxsize, getsizeof=getsizeof)
        self.lock = threading.Lock()

    def get(self, key: Hashable, default=None):
        """The cached value of `key` (now the most recently used), else `default`."""
        with self.lock:
            return self._cache.get(key, default)

    def get_many(self, keys: list) -> list:
        """The cached value of each key (None where it has none), read under one lock."""
        with self.lock:
            get = self._cache.get
            return [get(key) for key in keys]

    def put(self, key: Hashable, value: V) -> V:
        """Store `value` under `key`, evicting the least recently used entries; return it."""
        with self.lock:
            return self._cache.put(key, value)

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The cached value of `key`, computing and storing it first if it is missing."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = self.put(key, compute())
        return value

    def __len__(self) -> int:
        """The number of entries held."""
        return len(self._cache)


class Memo(Generic[V]):
    """A memo of a pure function of an opened build that threads share without a lock.

    A plain dict (CPython's dict reads and writes are atomic) that stops growing at
    `maxsize` entries: past that, values are computed each time. For lookups made many
    times per search, where a lock and an LRU's bookkeeping cost more than the value.
    """

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._values: dict = {}

    def get(self, key: Hashable, default=None):
        """The remembered value of `key`, else `default`."""
        return self._values.get(key, default)

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The remembered value of `key`, else compute() (remembered while there is room)."""
        value = self._values.get(key, _MISSING)
        if value is _MISSING:
            value = compute()
            if len(self._values) < self.maxsize:
                self._values[key] = value
        return value

    def __len__(self) -> int:
        """The number of values remembered."""
        return len(self._values)
