"""One Markdown toolkit for every part of kb that reads or writes Markdown.

The corpus loader (sections), the importer (Markdown files), snippets (plain text) and the
API and article pages (HTML) all parse Markdown here, with one CommonMark parser
(markdown-it-py), so they cannot disagree about what is a heading or a code fence:

- `split_front_matter`: the `---` YAML block at the top of a file, as text and a line.
- `headings`: top-level ATX (`## Title`) and setext (`Title` over `===` or `---`)
  headings with their source lines; a `#` line inside a fence of either kind (``` or ~~~)
  is text.
- `to_plain`: the text a person reads (emphasis, links and code markup gone), for snippets
  and summaries.
- `to_html`: the HTML rendering (raw HTML in the source is shown as text; kb/api/render.py
  sanitizes the result).
- `slugify`: URL-safe anchors and slugs, the rule every section id was made with; a title
  in Greek, Cyrillic or Chinese, which that rule turns into nothing, is transliterated
  (python-slugify) instead.
- `parse_date`: a date written the usual web ways ("August 08, 2025", "8 Aug 2025", ISO).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from markdown_it import MarkdownIt

_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$")
_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d")


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    """CommonMark, raw HTML off (shown as text), with GitHub-style tables."""
    return MarkdownIt("commonmark", {"html": False}).enable("table")


@lru_cache(maxsize=1)
def block_parser() -> MarkdownIt:
    """`parser()` without the inline pass: the same blocks (headings, fences, lists), each
    inline token's raw text in `content` but no children. Headings need no more, and the
    inline pass is most of parsing a long article."""
    return MarkdownIt("commonmark", {"html": False}).enable("table").disable("inline")


# -- front matter ------------------------------------------------------------------------


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """(YAML text, body, 1-based line where the body starts), or None without front matter.

    Front matter is a first line `---` and a closing `---` (or `...`) line.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None
    for end in range(1, len(lines)):
        if _FRONT_MATTER_END.match(lines[end].strip()):
            return "\n".join(lines[1:end]), "\n".join(lines[end + 1 :]), end + 2
    raise ValueError("front matter is not closed by a '---' line")


# -- headings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    """A top-level heading: its level, its text, and its source lines [start, end) (0-based)."""

    level: int
    title: str
    start: int
    end: int


def headings(body: str) -> list[Heading]:
    """The top-level ATX and setext headings of a Markdown text, in order.

    Headings inside block quotes or list items are part of those blocks, not sections.
    """
    tokens = block_parser().parse(body)
    found = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.level == 0 and token.map:
            title = tokens[i + 1].content.strip() if i + 1 < len(tokens) else ""
            found.append(Heading(int(token.tag[1]), title, token.map[0], token.map[1]))
    return found


# -- plain text and HTML -----------------------------------------------------------------


def _inline_plain(token) -> str:
    parts = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(_inline_plain(child))
    return "".join(parts)


def to_plain(markdown: str) -> str:
    """The text of a Markdown fragment as a person reads it: one line, markup removed."""
    blocks = []
    for token in parser().parse(markdown):
        if token.type == "inline":
            blocks.append(_inline_plain(token))
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content)
    return " ".join(" ".join(blocks).split())


def to_html(markdown: str) -> str:
    """The HTML rendering of a Markdown fragment (raw HTML in it is escaped, not kept)."""
    return parser().render(markdown)


# -- slugs and dates ---------------------------------------------------------------------


def slugify(text: str, max_length: int = 80) -> str:
    """URL-safe, lower-case anchor or slug: accents folded, runs of other characters -> '-',
    cut at a hyphen to `max_length`. Where that leaves nothing (a title in Greek, Cyrillic
    or Chinese), the title is transliterated instead ("Ψυχοθεραπεία" -> "psukhotherapeia")."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if not slug:
        from slugify import slugify as transliterate

        slug = transliterate(text)
    if len(slug) > max_length:
        cut = slug[:max_length]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut
    return slug


def parse_date(text: str) -> date | None:
    """Read a date written the usual web ways ("August 08, 2025", "8 Aug 2025", ISO)."""
    text = re.split(r"\s+(?:at|\||·|-|–)\s+|(?<=\d)T", text.strip(), maxsplit=1)[0].strip(" .")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None
