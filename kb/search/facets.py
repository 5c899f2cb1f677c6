"""Per-document tables of an opened build: filters and facet counts without stored fields."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kb.errors import ArticleNotFound, InvalidQuery
from kb.models import Article, FacetCount, Section
from kb.search import cache
from kb.search.ranking import SMALL, kth_smallest
from kb.taxonomy import Taxonomy

# Facet values of each kind in an answer: the most frequent (a results page shows 10).
FACET_LIMIT = 20


class DocumentTable:
    """Each Whoosh document number's section, topics and article, read once at opening.

    Filters by topic and article become boolean arrays over docnums and facets become counts over
    these lists, so a search never reads a stored field.
    """

    def __init__(
        self,
        reader,
        sections: dict[str, Section],
        articles: dict[str, Article],
        taxonomy: Taxonomy,
    ):
        by_docnum: list[Section | None] = [None] * reader.doc_count_all()
        for docnum, fields in reader.iter_docs():
            by_docnum[docnum] = sections.get(fields.get("id"))
        self.sections: list[Section | None] = by_docnum
        self.articles = articles
        self.taxonomy = taxonomy
        # Topics and articles as numbers, numbered in the order of their names (so ties in a
        # count order by name, as the answer lists them): facets are counts of these arrays.
        self._topic_names = sorted({t for s in by_docnum if s for t in s.topics})
        self._article_names = sorted({s.article for s in by_docnum if s})
        topic_number = {t: i for i, t in enumerate(self._topic_names)}
        article_number = {a: i for i, a in enumerate(self._article_names)}
        pairs = [(d, topic_number[t]) for d, s in enumerate(by_docnum) if s for t in s.topics]
        self._pair_docs = np.array([d for d, _ in pairs], dtype=np.intp)
        self._pair_topics = np.array([t for _, t in pairs], dtype=np.intp)
        self._article_of = np.array(
            [article_number[s.article] if s else -1 for s in by_docnum], dtype=np.intp
        )
        self._topic_labels = {t.id: t.label for t in taxonomy.topics}
        self._filters: cache.SharedCache[np.ndarray] = cache.SharedCache(cache.FILTERS)
        self._facets: cache.Memo[FacetCount] = cache.Memo(cache.FACETS)

    def section(self, docnum: int) -> Section:
        """The section indexed as document `docnum`."""
        return self.sections[docnum]

    def allowed(self, topic: str | None, article: str | None) -> np.ndarray | None:
        """Per docnum, whether it passes the topic/article filters (a boolean array; None:
        no filter), cached per filter.

        Raises InvalidQuery for a topic the taxonomy does not know and ArticleNotFound
        for an article the build does not hold.
        """
        if topic and topic not in self.taxonomy.by_id:
            raise InvalidQuery(f"unknown topic {topic!r}", field="topic")
        if article and article not in self.articles:
            raise ArticleNotFound(article)
        if not topic and not article:
            return None
        return self._filters.get_or_compute(
            (topic, article),
            lambda: np.array(
                [
                    section is not None
                    and (not topic or topic in section.topics)
                    and (not article or section.article == article)
                    for section in self.sections
                ],
                dtype=bool,
            ),
        )

    def facets(self, docnums) -> tuple[tuple[FacetCount, ...], tuple[FacetCount, ...], int]:
        """(topic facets, article facets, number of articles) of the matching documents
        `docnums` (an array of docnums): at most FACET_LIMIT values of each kind, most
        hits first, then by name. A corpus of one-section articles matches thousands of
        articles per query, and dumping them all was most of the cost of a cached answer."""
        ids = np.asarray(docnums, dtype=np.intp)
        matched = np.zeros(self._article_of.size, dtype=bool)
        matched[ids] = True
        topic_counts = np.bincount(
            self._pair_topics[matched[self._pair_docs]], minlength=len(self._topic_names)
        )
        articles = self._article_of[ids]
        article_counts = np.bincount(articles[articles >= 0], minlength=len(self._article_names))
        labels = self._topic_labels
        return (
            self._facet_counts(
                "topic", topic_counts, self._topic_names, lambda t: labels.get(t, t)
            ),
            self._facet_counts(
                "article",
                article_counts,
                self._article_names,
                lambda slug: self.articles[slug].title,
            ),
            int(np.count_nonzero(article_counts)),
        )

    def _facet_counts(
        self, kind: str, counts: np.ndarray, names: list[str], label: Callable[[str], str]
    ) -> tuple[FacetCount, ...]:
        """Facet values by count (then name: `names` are sorted). FacetCounts are immutable,
        so one instance per (value, count) is shared: a corpus of one-section articles has
        thousands of article facets per query, nearly all with count 1, and building them
        anew was most of the time of a search."""
        if counts.size <= SMALL:  # a few values: sorted in Python, cheaper than numpy's calls
            listed = counts.tolist()
            best = sorted((i for i, n in enumerate(listed) if n), key=lambda i: -listed[i])
            ordered = [(i, listed[i]) for i in best[:FACET_LIMIT]]
        else:
            present = counts.nonzero()[0]
            if present.size > FACET_LIMIT:
                values = counts[present]
                present = present[values >= kth_smallest(values, present.size - FACET_LIMIT)]
            top = present[np.lexsort((present, -counts[present]))][:FACET_LIMIT]
            ordered = zip(top.tolist(), counts[top].tolist(), strict=True)
        made = self._facets
        facets = []
        for i, n in ordered:
            v = names[i]
            facets.append(
                made.get_or_compute(
                    (kind, v, n), lambda v=v, n=n: FacetCount(value=v, label=label(v), count=n)
                )
            )
        return tuple(facets)
