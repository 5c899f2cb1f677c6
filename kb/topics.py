"""The clinical topic taxonomy (kb/data/taxonomy.yaml): loading, topic assignment, expansions.

The same data drives two things, so they cannot drift apart: which topics a section is
tagged with, and which alternative words a query is expanded with at search time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from kb.models import Section

DEFAULT_TAXONOMY = Path(__file__).parent / "data" / "taxonomy.yaml"
TOPIC_KEYS = {"id", "label", "terms", "abbreviations", "synonyms", "cues", "parent"}
STRONG, WEAK, THRESHOLD, HEADING_FACTOR = 3, 1, 3, 3


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    terms: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    cues: tuple[str, ...] = ()
    parent: str | None = None

    @property
    def expressions(self) -> tuple[str, ...]:
        """Everything that names the topic outright: label, terms, abbreviations, synonyms."""
        return (self.label, *self.terms, *self.abbreviations, *self.synonyms)


@dataclass(frozen=True, eq=False)  # identity hash: cached per loaded taxonomy
class Taxonomy:
    topics: tuple[Topic, ...]
    spellings: dict[str, str] = field(default_factory=dict)
    stems: dict[str, str] = field(default_factory=dict)
    synonym_groups: tuple[tuple[str, ...], ...] = ()

    @property
    def by_id(self) -> dict[str, Topic]:
        return {t.id: t for t in self.topics}

    def label(self, topic_id: str) -> str:
        topic = self.by_id.get(topic_id)
        return topic.label if topic else topic_id

    def expansion_groups(self) -> tuple[tuple[str, ...], ...]:
        """Groups of interchangeable expressions for query expansion (cues excluded)."""
        return tuple(t.expressions for t in self.topics) + self.synonym_groups


class TaxonomyError(ValueError):
    pass


def _as_tuple(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaxonomyError(f"{where} must be a list of strings")
    return tuple(value)


def parse_taxonomy(data: dict) -> Taxonomy:
    topics = []
    for i, entry in enumerate(data.get("topics") or []):
        where = f"topics[{i}]"
        if not isinstance(entry, dict) or "id" not in entry or "label" not in entry:
            raise TaxonomyError(f"{where} needs an id and a label")
        unknown = set(entry) - TOPIC_KEYS
        if unknown:
            raise TaxonomyError(f"{where}: unknown keys {sorted(unknown)}")
        topics.append(
            Topic(
                id=entry["id"],
                label=entry["label"],
                terms=_as_tuple(entry.get("terms"), f"{where}.terms"),
                abbreviations=_as_tuple(entry.get("abbreviations"), f"{where}.abbreviations"),
                synonyms=_as_tuple(entry.get("synonyms"), f"{where}.synonyms"),
                cues=_as_tuple(entry.get("cues"), f"{where}.cues"),
                parent=entry.get("parent"),
            )
        )
    ids = [t.id for t in topics]
    if len(ids) != len(set(ids)):
        raise TaxonomyError("topic ids must be unique")
    for t in topics:
        if t.parent and t.parent not in ids:
            raise TaxonomyError(f"topic {t.id}: unknown parent {t.parent}")
    spellings = {str(k).lower(): str(v).lower() for k, v in (data.get("spellings") or {}).items()}
    groups = tuple(
        _as_tuple(g, f"synonym_groups[{i}]") for i, g in enumerate(data.get("synonym_groups") or [])
    )
    stems = {str(k).lower(): str(v).lower() for k, v in (data.get("stems") or {}).items()}
    return Taxonomy(topics=tuple(topics), spellings=spellings, stems=stems, synonym_groups=groups)


@lru_cache(maxsize=4)
def _load(path: str) -> Taxonomy:
    with open(path, encoding="utf-8") as handle:
        return parse_taxonomy(yaml.safe_load(handle) or {})


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """The taxonomy at `path`, else $KB_TAXONOMY, else the packaged one (cached)."""
    return _load(str(path or os.environ.get("KB_TAXONOMY") or DEFAULT_TAXONOMY))


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
