"""The clinical topic taxonomy (kb/data/taxonomy.yaml): loading, topic assignment, expansions.

The same data drives two things, so they cannot drift apart: which topics a section is
tagged with, and which alternative words a query is expanded with at search time.
"""

from __future__ import annotations

from functools import lru_cache

from kb.models import Section
from kb.taxonomy import (  # noqa: F401 - re-exported for callers of kb.topics
    DEFAULT_TAXONOMY,
    Taxonomy,
    TaxonomyError,
    Topic,
    load_taxonomy,
    parse_taxonomy,
)

STRONG, WEAK, THRESHOLD, HEADING_FACTOR = 3, 1, 3, 3


def _count_phrase(haystack: list[str], variants: tuple[tuple[str, ...], ...]) -> int:
    """Occurrences of an expression, counting whichever of its variants matches most."""
    best = 0
    for phrase in variants:
        n, first = len(phrase), phrase[0]
        count = sum(
            1
            for i, term in enumerate(haystack)
            if term == first and tuple(haystack[i : i + n]) == phrase
        )
        best = max(best, count)
    return best


@lru_cache(maxsize=1)
def _analyzed_topics(taxonomy: Taxonomy) -> tuple[tuple[str, tuple, tuple], ...]:
    from kb.analysis import phrase_variants

    def variants(expressions):
        return tuple(v for v in (phrase_variants(e) for e in expressions) if v)

    return tuple(
        (t.id, variants((*t.terms, *t.abbreviations, *t.synonyms)), variants(t.cues))
        for t in taxonomy.topics
    )


def topic_scores(section: Section, taxonomy: Taxonomy) -> dict[str, int]:
    """Score every topic for a section; see the assignment rule in taxonomy.yaml."""
    from kb.analysis import analyze

    title_terms = analyze(section.title)
    body_terms = analyze(section.text)
    scores: dict[str, int] = {}
    for topic_id, strong, weak in _analyzed_topics(taxonomy):
        score = 0
        for phrases, weight in ((strong, STRONG), (weak, WEAK)):
            for phrase in phrases:
                score += weight * (
                    HEADING_FACTOR * _count_phrase(title_terms, phrase)
                    + _count_phrase(body_terms, phrase)
                )
        if score:
            scores[topic_id] = score
    return scores


def assign_topics(section: Section, taxonomy: Taxonomy | None = None) -> tuple[str, ...]:
    """Topics whose score reaches the threshold, strongest first (ties by taxonomy order)."""
    taxonomy = taxonomy or load_taxonomy()
    scores = topic_scores(section, taxonomy)
    order = {t.id: i for i, t in enumerate(taxonomy.topics)}
    chosen = [t for t, s in scores.items() if s >= THRESHOLD]
    return tuple(sorted(chosen, key=lambda t: (-scores[t], order[t])))
