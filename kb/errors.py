"""The errors kb's library raises when a lookup or a query cannot be answered.

They name what was asked for and never how to ask again: hints for people (which API path
or `kb` command lists valid ids) belong to the layer that talks to them (kb.api, kb.cli).
"""

from __future__ import annotations


class NotFound(LookupError):
    """Something asked for by id or slug does not exist; `key` is what was asked for.

    `purpose` says what it was wanted for when that is not to read it, e.g. "to filter by".
    """

    kind = "item"

    def __init__(self, key: str, purpose: str = ""):
        super().__init__(key)
        self.key = key
        self.purpose = purpose

    def __str__(self) -> str:
        message = f"no {self.kind} {self.key!r}"
        return f"{message} {self.purpose}" if self.purpose else message


class SectionNotFound(NotFound):
    """No section has this id."""

    kind = "section"


class ArticleNotFound(NotFound):
    """No article has this slug."""

    kind = "article"


class TopicNotFound(NotFound):
    """No topic of the taxonomy has this id."""

    kind = "topic"


class InvalidQuery(ValueError):
    """The caller's query or filters cannot be searched; the message says why.

    `field` names the parameter at fault (e.g. ``"q"`` or ``"topic"``) when there is one.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
