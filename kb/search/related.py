"""Related sections: the sections most like a given one, by Whoosh's more_like."""

from __future__ import annotations

from collections.abc import Callable

from kb.models import Section
from kb.search import cache


class RelatedSections:
    """Sections like a section, from its body's most significant terms (cached).

    `searcher` returns this thread's Whoosh Searcher of the build.
    """

    def __init__(self, searcher: Callable[[], object], sections: dict[str, Section]):
        self._searcher = searcher
        self.sections = sections
        self._cache: cache.SharedCache[tuple[Section, ...]] = cache.SharedCache(cache.RELATED)

    def related(self, section: Section, limit: int = 5) -> tuple[Section, ...]:
        """Up to `limit` sections most like `section` (Whoosh's more_like on the body, 12
        terms), `section` itself excluded."""
        return self._cache.get_or_compute(
            (section.id, limit), lambda: self._more_like(section, limit)
        )

    def _more_like(self, section: Section, limit: int) -> tuple[Section, ...]:
        searcher = self._searcher()
        docnum = searcher.document_number(id=section.id)
        results = searcher.more_like(
            docnum, "body", text=section.text or section.title, top=limit, numterms=12
        )
        return tuple(self.sections[hit["id"]] for hit in results if hit["id"] != section.id)
