"""Topic assignment: which taxonomy topics a section is about, as a step of every build.

The taxonomy itself (data and loading) is kb.taxonomy. Parsing a corpus file does not
assign topics (it only applies a front-matter `topics:` override); `tag_articles` does,
when an index is built or `kb check` summarises the corpus, with the build's taxonomy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache

from kb.analysis import analyzer_for, phrase_variants
from kb.models import Article, Section
from kb.taxonomy import (  # noqa: F401 - re-exported for callers of kb.topics
    DEFAULT_TAXONOMY,
    Taxonomy,
    TaxonomyError,
    Topic,
    load_taxonomy,
    parse_taxonomy,
)

STRONG, WEAK, THRESHOLD, HEADING_FACTOR = 3, 1, 3, 3


Terms = list[tuple[str, int]]


def analyzed_terms(text: str, analyzer) -> Terms:
    """(term, position) of a text, as the index sees it: a build analyses each title and
    body once and hands the same terms to topic assignment and to the index."""
    return [(t.text, t.pos) for t in analyzer(text, positions=True)]


class _Positions:
    """The analyzed terms of a text by position (a hyphenated word's joined form shares its
    first part's position), so "Transference-Focused Psychotherapy" holds the sequence
    transference, focused, psychotherapy; with each term's positions for fast lookup."""

    def __init__(self, terms: Terms):
        self.where: dict[str, list[int]] = {}
        for text, pos in terms:
            self.where.setdefault(text, []).append(pos)
        self._sets: dict[str, set[int]] = {}

    def positions(self, text: str) -> set[int]:
        """The positions of a term, as a set (made the first time a phrase asks)."""
        found = self._sets.get(text)
        if found is None:
            found = self._sets[text] = set(self.where.get(text, ()))
        return found

    def count(self, variants: tuple[tuple[str, ...], ...]) -> int:
        """Occurrences of an expression, counting whichever of its variants matches most."""
        best = 0
        for phrase in variants:
            starts = self.where.get(phrase[0])
            if not starts:
                continue
            if len(phrase) == 1:
                count = len(starts)
            else:
                # Only phrases whose first word occurs get here: the positions of their
                # other words (not a map of the whole text by position) say where they follow.
                later = [self.positions(word) for word in phrase[1:]]
                count = sum(1 for p in starts if all(p + k in at for k, at in enumerate(later, 1)))
            best = max(best, count)
        return best


@lru_cache(maxsize=4)
def _analyzed_topics(taxonomy: Taxonomy) -> tuple[tuple[str, tuple, tuple], ...]:
    analyzer = analyzer_for(taxonomy)

    def variants(expressions):
        return tuple(v for v in (phrase_variants(e, analyzer) for e in expressions) if v)

    topics = []
    for t in taxonomy.topics:
        strong, weak = variants((*t.terms, *t.abbreviations, *t.synonyms)), variants(t.cues)
        # The first words of every phrase: a section holding none of them scores 0.
        firsts = frozenset(v[0] for phrases in (*strong, *weak) for v in phrases)
        topics.append((t.id, strong, weak, firsts))
    return tuple(topics)


def topic_scores(
    section: Section,
    taxonomy: Taxonomy,
    title_terms: Terms | None = None,
    body_terms: Terms | None = None,
) -> dict[str, int]:
    """Score every topic for a section; see the assignment rule in taxonomy.yaml.

    `title_terms` and `body_terms` are the section's analyzed terms when the caller has
    them already (a build); otherwise they are computed here."""
    analyzer = analyzer_for(taxonomy)
    if title_terms is None:
        title_terms = analyzed_terms(section.title, analyzer)
    if body_terms is None:
        body_terms = analyzed_terms(section.text, analyzer)
    title_positions, body_positions = _Positions(title_terms), _Positions(body_terms)
    scores: dict[str, int] = {}
    present = title_positions.where.keys() | body_positions.where.keys()
    for topic_id, strong, weak, firsts in _analyzed_topics(taxonomy):
        if firsts.isdisjoint(present):
            continue
        score = 0
        for phrases, weight in ((strong, STRONG), (weak, WEAK)):
            for phrase in phrases:
                score += weight * (
                    HEADING_FACTOR * title_positions.count(phrase) + body_positions.count(phrase)
                )
        if score:
            scores[topic_id] = score
    return scores


def assign_topics(
    section: Section,
    taxonomy: Taxonomy | None = None,
    title_terms: Terms | None = None,
    body_terms: Terms | None = None,
) -> tuple[str, ...]:
    """Topics whose score reaches the threshold, strongest first (ties by taxonomy order)."""
    taxonomy = taxonomy or load_taxonomy()
    scores = topic_scores(section, taxonomy, title_terms, body_terms)
    order = _topic_order(taxonomy)
    chosen = [t for t, s in scores.items() if s >= THRESHOLD]
    return tuple(sorted(chosen, key=lambda t: (-scores[t], order[t])))


@lru_cache(maxsize=4)
def _topic_order(taxonomy: Taxonomy) -> dict[str, int]:
    return {t.id: i for i, t in enumerate(taxonomy.topics)}


def tag_article(article: Article, taxonomy: Taxonomy) -> Article:
    """The article with every section's topics assigned (a front-matter override wins)."""
    if article.topics is not None:
        return article
    sections = tuple(replace(s, topics=assign_topics(s, taxonomy)) for s in article.sections)
    return replace(article, sections=sections)


def tag_articles(articles: Iterable[Article], taxonomy: Taxonomy) -> list[Article]:
    """Topic tagging, the build step: `tag_article` for each article."""
    return [tag_article(a, taxonomy) for a in articles]
