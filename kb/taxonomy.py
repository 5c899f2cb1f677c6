"""The clinical topic taxonomy (kb/data/taxonomy.yaml) as data: loading and validation.

It imports nothing else from kb, so anything may use it. The same data drives topic
assignment (kb.topics), query expansion (kb.search) and the analyzer's spelling and stem
tables (kb.analysis), so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_TAXONOMY = Path(__file__).parent / "data" / "taxonomy.yaml"
TOPIC_KEYS = {
    "id",
    "label",
    "terms",
    "abbreviations",
    "synonyms",
    "lay_terms",
    "reviewed_by",
    "cues",
    "parent",
}


@dataclass(frozen=True)
class Topic:
    """One topic: its id, label and the expressions that name it (see taxonomy.yaml)."""

    id: str
    label: str
    terms: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    cues: tuple[str, ...] = ()
    parent: str | None = None
    # Patients' and relatives' words for the topic ("zoom" for telehealth): they expand
    # queries but never assign the topic to a section. `reviewed_by` says who checked them.
    lay_terms: tuple[str, ...] = ()
    reviewed_by: str | None = None

    @property
    def expressions(self) -> tuple[str, ...]:
        """Everything that names the topic outright: label, terms, abbreviations, synonyms."""
        return (self.label, *self.terms, *self.abbreviations, *self.synonyms)

    @property
    def query_expressions(self) -> tuple[str, ...]:
        """What a query may say for the topic: its expressions and its lay terms."""
        return (*self.expressions, *self.lay_terms)


@dataclass(frozen=True, eq=False)  # identity hash: cached per loaded taxonomy
class Taxonomy:
    """The whole taxonomy: topics, spelling variants, stem overrides, synonym groups.

    `data` is the mapping it was parsed from, so a build can store exactly what it used
    (kb.index writes it beside the index) and a server can read the same taxonomy back.
    """

    topics: tuple[Topic, ...]
    spellings: dict[str, str] = field(default_factory=dict)
    stems: dict[str, str] = field(default_factory=dict)
    synonym_groups: tuple[tuple[str, ...], ...] = ()
    data: dict = field(default_factory=dict, repr=False)
    # Everyday words for the articles' clinical wording ("GP" for "primary care"): like
    # synonym groups, and checked by `lay_reviewed_by`.
    lay_synonym_groups: tuple[tuple[str, ...], ...] = ()
    lay_reviewed_by: str | None = None

    @property
    def by_id(self) -> dict[str, Topic]:
        """Topics by id."""
        return {t.id: t for t in self.topics}

    def label(self, topic_id: str) -> str:
        """The topic's label, or the id itself when the taxonomy has no such topic."""
        topic = self.by_id.get(topic_id)
        return topic.label if topic else topic_id

    def expansion_groups(self) -> tuple[tuple[str, ...], ...]:
        """Groups of interchangeable expressions for query expansion (cues excluded)."""
        topics = tuple(t.query_expressions for t in self.topics)
        return topics + self.synonym_groups + self.lay_synonym_groups


class TaxonomyError(ValueError):
    """The taxonomy data breaks its format; str() says where."""


def _as_tuple(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaxonomyError(f"{where} must be a list of strings")
    return tuple(value)


def parse_taxonomy(data: dict) -> Taxonomy:
    """Validate taxonomy data (as read from YAML) and build the Taxonomy."""
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
                lay_terms=_as_tuple(entry.get("lay_terms"), f"{where}.lay_terms"),
                reviewed_by=entry.get("reviewed_by"),
            )
        )
    ids = [t.id for t in topics]
    if len(ids) != len(set(ids)):
        raise TaxonomyError("topic ids must be unique")
    for t in topics:
        if t.lay_terms and not t.reviewed_by:
            raise TaxonomyError(f"topic {t.id}: lay_terms need reviewed_by (who checked them)")
        if t.parent and t.parent not in ids:
            raise TaxonomyError(f"topic {t.id}: unknown parent {t.parent}")
    spellings = _spelling_list(data.get("spelling_list"), data.get("spelling_exceptions"))
    spellings.update(
        {str(k).lower(): str(v).lower() for k, v in (data.get("spellings") or {}).items()}
    )
    groups = tuple(
        _as_tuple(g, f"synonym_groups[{i}]") for i, g in enumerate(data.get("synonym_groups") or [])
    )
    stems = {str(k).lower(): str(v).lower() for k, v in (data.get("stems") or {}).items()}
    lay_groups, lay_reviewed_by = _lay_synonym_groups(data.get("lay_synonym_groups"))
    return Taxonomy(
        topics=tuple(topics),
        spellings=spellings,
        stems=stems,
        synonym_groups=groups,
        data=data,
        lay_synonym_groups=lay_groups,
        lay_reviewed_by=lay_reviewed_by,
    )


def _lay_synonym_groups(value) -> tuple[tuple[tuple[str, ...], ...], str | None]:
    """(groups, reviewer) of `lay_synonym_groups: {reviewed_by: ..., groups: [[...], ...]}`."""
    if value is None:
        return (), None
    if not isinstance(value, dict) or set(value) - {"reviewed_by", "groups"}:
        raise TaxonomyError("lay_synonym_groups must be a mapping of reviewed_by and groups")
    groups = tuple(
        _as_tuple(g, f"lay_synonym_groups.groups[{i}]")
        for i, g in enumerate(value.get("groups") or [])
    )
    reviewer = value.get("reviewed_by")
    if groups and not (isinstance(reviewer, str) and reviewer.strip()):
        raise TaxonomyError("lay_synonym_groups need reviewed_by (who checked them)")
    return groups, reviewer


SPELLING_LISTS = ("breame",)


def _spelling_list(name, exceptions) -> dict[str, str]:
    """The maintained list of British -> American spellings `name` names, minus `exceptions`."""
    if name is None:
        return {}
    if name not in SPELLING_LISTS:
        raise TaxonomyError(f"spelling_list must be one of {list(SPELLING_LISTS)}, not {name!r}")
    from breame.data.spelling_constants import BRITISH_ENGLISH_SPELLINGS

    skip = {str(e).lower() for e in _as_tuple(exceptions, "spelling_exceptions")}
    return {k: v for k, v in BRITISH_ENGLISH_SPELLINGS.items() if k not in skip}


@lru_cache(maxsize=4)
def _load(path: str) -> Taxonomy:
    with open(path, encoding="utf-8") as handle:
        return parse_taxonomy(yaml.safe_load(handle) or {})


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """The taxonomy at `path`, else the packaged one (cached per path).

    Which file to use is configuration (KB_TAXONOMY, read by kb.config only).
    """
    return _load(str(path or DEFAULT_TAXONOMY))
