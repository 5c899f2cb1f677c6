"""Corpus checks that warn rather than refuse: what `kb check` reports beyond validity.

- **Headings that may not match their section.** A heading names the text under it; an
  imported page whose subheads slipped one paragraph (a common copy-and-paste accident)
  gives every search hit the wrong title. A heading is reported when its content words
  (analyzed as search analyzes them: stemmed, stop words out) occur in a neighbouring
  section's text and not in its own, or in more of a neighbour's text than its own, by at
  least two distinct words.
- **Reviews overdue.** An article whose `next_review` date has passed.

Each finding is a `Warning` with the file, the line and the message, printed by `kb check`
as `path:line: message`; `kb check --strict` fails on any.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from kb.analysis import analyze
from kb.corpus import INTRO_ANCHOR
from kb.models import Article


@dataclass(frozen=True)
class Warning:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def heading_warnings(article: Article, analyzer=None) -> list[Warning]:
    """Headings of `article` that seem to name a neighbouring section's text."""
    sections = article.sections
    texts = [set(analyze(s.text, analyzer)) for s in sections]
    warnings = []
    for i, section in enumerate(sections):
        if section.anchor == INTRO_ANCHOR:
            continue
        words = set(analyze(section.title, analyzer))
        own = len(words & texts[i])
        for j in (i - 1, i + 1):
            if not 0 <= j < len(sections):
                continue
            theirs = len(words & texts[j])
            if (own == 0 and theirs > 0) or (theirs >= 2 and theirs > own):
                warnings.append(
                    Warning(
                        article.path,
                        section.line,
                        f"heading may not match its section: {section.title!r} shares "
                        f"{theirs} word(s) with the {'previous' if j < i else 'next'} "
                        f"section's text and {own} with its own",
                    )
                )
                break
    return warnings


def review_warnings(article: Article, today: date) -> list[Warning]:
    """The article's review is overdue (next_review has passed)."""
    if not article.review_overdue(today):
        return []
    return [
        Warning(
            article.path,
            1,
            f"review overdue: next_review {article.next_review.isoformat()} has passed",
        )
    ]


def corpus_warnings(articles: Iterable[Article], today: date, analyzer=None) -> list[Warning]:
    """Every warning for a corpus, article by article."""
    found: list[Warning] = []
    for article in articles:
        found += review_warnings(article, today)
        found += heading_warnings(article, analyzer)
    return found
