"""As-you-type suggestions: topic labels, section titles, then completions of the last word."""

from __future__ import annotations

from collections.abc import Iterable

from kb.models import Section, Suggestion
from kb.search.spelling import Vocabulary
from kb.taxonomy import Taxonomy


class Suggester:
    """Suggestions for one build, from its section titles, the taxonomy and the vocabulary."""

    def __init__(self, sections: Iterable[Section], taxonomy: Taxonomy, vocabulary: Vocabulary):
        self._titles = sorted({(s.title.lower(), s.title, s.id) for s in sections})
        self._topic_labels = [
            (label.lower(), label, topic.id)
            for topic in taxonomy.topics
            for label in (topic.label, *topic.abbreviations)
        ]
        self.vocabulary = vocabulary

    def suggest(self, prefix: str, limit: int = 8) -> tuple[Suggestion, ...]:
        """Up to `limit` suggestions for what someone has typed so far (two letters at least):
        topics whose label or abbreviation has a word starting with it, then section titles
        (about half the budget), then the typed text with its last word completed."""
        prefix = " ".join(prefix.lower().split())
        if len(prefix) < 2:
            return ()
        found: list[Suggestion] = []
        seen: set[str] = set()

        def add(text: str, kind: str, section_id: str | None = None) -> None:
            if text.lower() not in seen and len(found) < limit:
                seen.add(text.lower())
                found.append(Suggestion(text=text, kind=kind, section_id=section_id))

        for lower, label, _topic in self._topic_labels:
            if _starts_a_word(lower, prefix):
                add(label, "topic")
        title_budget = max(1, limit // 2)
        for lower, title, section_id in self._titles:
            if len(found) >= title_budget + 1:
                break
            if _starts_a_word(lower, prefix):
                add(title, "section", section_id)
        head, _, last = prefix.rpartition(" ")
        if len(last) >= 2:
            for term in self.vocabulary.completions(last, limit):
                add(f"{head} {term}".strip(), "term")
        return tuple(found)


def _starts_a_word(text: str, prefix: str) -> bool:
    return text.startswith(prefix) or f" {prefix}" in text or f"-{prefix}" in text
