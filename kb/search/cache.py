"""The bounded caches of an opened build, and every cache's bound, in one place.

An opened build never changes, so no entry goes stale: every cache only trades memory for
time. Most are `cachetools.LRUCache`, emptied least recently used first; those that threads
share sit behind a lock (`SharedCache`), the per-thread ones do not. The hottest lookups
of a search (a query word's frequency, a word's analysis, a misspelling's correction) are
memos instead (`Memo`): a plain dict, read without a lock, that stops growing at its bound.

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
corrections             (word, distance) -> the     CORRECTIONS (20,000;        shared
                        closest known word          a memo)
postings                (field, term) or phrase ->  POSTINGS (2,000,000         one per
                        docnums and scores (arrays) postings in all)            thread
======================  ==========================  ==========================  ========

(Each thread's ranker also keeps one length-normalisation table per text field, at most
three lists of one float per document; they are tables, not caches.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

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
POSTINGS = 2_000_000  # postings, not entries: one hot term may hold most of a corpus

V = TypeVar("V")

_MISSING = object()


class SharedCache(Generic[V]):
    """A least-recently-used cache of at most `maxsize` entries that threads may share.

    Values are computed outside the lock, so a slow computation never holds up other
    threads; two threads missing the same key at once both compute it (values are pure
    functions of the key), and the last one stored wins.
    """

    def __init__(self, maxsize: int, getsizeof: Callable[[V], float] | None = None):
        self._cache: LRUCache = LRUCache(maxsize, getsizeof=getsizeof)
        self.lock = threading.Lock()

    def get(self, key: Hashable, default=None):
        """The cached value of `key` (now the most recently used), else `default`."""
        with self.lock:
            return lookup(self._cache, key, default)

    def put(self, key: Hashable, value: V) -> V:
        """Store `value` under `key`, evicting the least recently used entries; return it."""
        with self.lock:
            store(self._cache, key, value)
        return value

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The cached value of `key`, computing and storing it first if it is missing."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = self.put(key, compute())
        return value

    @property
    def unlocked(self) -> LRUCache:
        """The cache itself, for many lookups under one `with cache.lock:`."""
        return self._cache

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


def lookup(cache: LRUCache, key: Hashable, default=None):
    """cache.get(key, default) for a hot cache: cachetools' get() asks `key in cache` and
    then reads it (two Python calls), indexing reads it once (a miss raises KeyError). A
    search looks up about a hundred postings; this halves what that costs."""
    try:
        return cache[key]
    except KeyError:
        return default


def store(cache: LRUCache, key: Hashable, value) -> None:
    """cache[key] = value, except a value larger than the whole cache is not kept."""
    try:
        cache[key] = value
    except ValueError:  # cachetools: "value too large" for the cache's maxsize
        pass


def local_cache(maxsize: int, getsizeof: Callable | None = None) -> LRUCache:
    """An unlocked least-recently-used cache, for state that belongs to one thread."""
    return LRUCache(maxsize, getsizeof=getsizeof)
