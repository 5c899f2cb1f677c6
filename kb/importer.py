"""Turn raw article pages (text, HTML, Markdown, BEIR JSONL) into kb corpus Markdown files.

Plain-text pages copied off the web carry site chrome around the article. They are cleaned
by the ordered rules in ``RULES`` (one place, run in this order; each rule's docstring says
what it drops or recovers and why):

- ``whitespace``: strip each line, drop blank and whitespace-only lines.
- ``scroll-to-top``: drop "Scroll to Top" / "Back to top", also when glued onto a line's end.
- ``related-articles``: drop a "Related Articles" line and everything after it.
- ``advertisement``: drop "ADVERTISEMENT" / "Sponsored" placeholder lines.
- ``share-buttons``: drop lines made only of social network names ("Facebook X Reddit Email").
- ``dateline``: recover "Published August 08, 2025" above the article as ``published``.
- ``title``: recover the title (the line just above the dateline, standfirst or first long
  paragraph) and the standfirst (the sentence(s) between title and dateline) as ``summary``.
- ``site-banner``: drop the lines above the title (a marketing banner or site name).
- ``headings``: recover short lines standing alone between paragraphs as ``##`` headings.
- ``empty-headings``: turn a heading with no text under it back into a paragraph.

HTML pages get their structure from their tags (nav, header, footer, aside, form, script and
style are dropped) and then go through the rules that drop junk lines, which look the same
in either format. Markdown files are written by people: only ``whitespace`` and
``empty-headings`` run on them. Unknown junk is left in: losing a sentence of the article is
worse than keeping a stray line.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import secrets
import statistics
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import yaml

from kb.corpus import SLUG_RE  # the importer writes what the corpus loader accepts

SLUG_MAX_LENGTH = 80
SUMMARY_MAX_CHARS = 200
TITLE_WORDS_FROM_TEXT = 8

# A line this long (in words) is article text, never a title or a heading. The real bar is
# relative to the page (half its median line), this is the floor for short pages.
LONG_LINE_MIN_WORDS = 20
TITLE_MAX_WORDS = 30
HEADING_MIN_WORDS, HEADING_MAX_WORDS = 6, 16  # bounds for the relative heading limit

_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’)]))\s+(?=[\"“‘(\[]?[A-Z0-9])")
_INTERNAL_STOP = re.compile(r"[.!?][\"”’)]?\s+\S")
_WORD = re.compile(r"\S+")


class ImporterError(Exception):
    """Input the importer cannot turn into a corpus article; str() is one line for the user."""


class ArticleExists(ImporterError):
    """The corpus already has a file for this slug and replacing it was not asked for."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"{path} already exists")


class DuplicateSlug(ImporterError):
    """Two records of one import map to the same slug, so one would overwrite the other."""


@dataclass(frozen=True)
class ImportedArticle:
    """One article ready for the corpus; ``to_markdown()`` is the file's text."""

    title: str
    slug: str
    source: str
    summary: str
    published: date | None
    body_markdown: str
    url: str | None = None

    def __post_init__(self) -> None:
        for name, label in (("body_markdown", "text"), ("title", "title"), ("source", "source")):
            if not getattr(self, name).strip():
                raise ImporterError(f"{self.source or '<input>'}: article has no {label}")
        if not self.summary.strip():
            raise ImporterError(f"{self.source}: article has no summary")
        if not SLUG_RE.match(self.slug):
            raise ImporterError(
                f"invalid slug {self.slug!r}: use lower-case letters, digits and single hyphens"
            )

    def to_markdown(self) -> str:
        meta = {
            "title": self.title,
            "slug": self.slug,
            "source": self.source,
            "summary": self.summary,
        }
        if self.published:
            meta["published"] = self.published
        if self.url:
            meta["url"] = self.url
        # safe_dump quotes whatever YAML would misread (colons, dates, leading symbols).
        front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1_000_000)
        return f"---\n{front}---\n\n{self.body_markdown.strip()}\n"


# --- blocks and rules ------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A line of the page and what the rules decided it is.

    kind: ``line`` (undecided), ``title``, ``standfirst``, ``published``, ``heading``,
    ``paragraph`` (plain text) or ``markdown`` (already Markdown, written as is).
    """

    kind: str
    text: str
    level: int = 0


Blocks = list[Block]


ALL_FORMATS = frozenset({"text", "html", "markdown"})
WEB_FORMATS = frozenset({"text", "html"})  # pages, as opposed to authored Markdown


@dataclass(frozen=True)
class Rule:
    name: str
    apply: Callable[[Blocks], Blocks]
    formats: frozenset[str] = ALL_FORMATS  # the readers that run it

    @property
    def description(self) -> str:
        return inspect.getdoc(self.apply) or ""


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _drop_whitespace(blocks: Blocks) -> Blocks:
    """Strip each line and drop the empty ones, non-breaking spaces included.

    Pages copied from a browser keep blank lines and lines holding only a non-breaking
    space; they carry no text and would otherwise become empty paragraphs.
    """
    stripped = (b if b.kind == "markdown" else replace(b, text=b.text.strip()) for b in blocks)
    return [b for b in stripped if b.text.strip()]


_SCROLL_LINE = re.compile(r"^[\W_]*(?:scroll|back) to top[\W_]*$", re.IGNORECASE)
_SCROLL_GLUED = re.compile(r"(?<=[.!?\"”’)])\s*(?:scroll|back) to top\W*$", re.IGNORECASE)


def _drop_scroll_to_top(blocks: Blocks) -> Blocks:
    """Drop the "Scroll to Top" / "Back to top" button text.

    Copying a page often glues the button onto the last paragraph ("...decision.Scroll to
    Top"), so the words are also cut from a line's end when they follow a sentence's end.
    """
    kept = [b for b in blocks if not _SCROLL_LINE.match(b.text)]
    return [replace(b, text=_SCROLL_GLUED.sub("", b.text)) for b in kept]


_RELATED = re.compile(
    r"^(?:related|recommended|more|popular|trending)\s+"
    r"(?:articles?|posts?|stories|reading|content)\W*$"
    r"|^you (?:may|might) also (?:like|enjoy)\W*$",
    re.IGNORECASE,
)


def _drop_related_articles(blocks: Blocks) -> Blocks:
    """Drop a "Related Articles" line and everything after it.

    Below it come other articles' teasers, category labels, dashes and dates: text of
    other pages that would make this article match searches it does not answer.
    """
    for i, block in enumerate(blocks):
        if _RELATED.match(block.text):
            return blocks[:i]
    return blocks


_ADVERT = re.compile(
    r"^(?:advertisement|advertisements|sponsored|sponsored content|"
    r"story continues below(?: advertisement)?)$",
    re.IGNORECASE,
)


def _drop_advertisements(blocks: Blocks) -> Blocks:
    """Drop "ADVERTISEMENT" and "Sponsored" lines, the labels left where ads were."""
    return [b for b in blocks if not _ADVERT.match(b.text)]


_SHARE_WORDS = frozenset("share print copy link email e-mail mail sms".split())
_NETWORKS = frozenset(
    "facebook x twitter reddit pinterest linkedin whatsapp telegram tumblr threads bluesky"
    " mastodon messenger flipboard pocket instagram youtube tiktok".split()
)


def _is_share_row(text: str) -> bool:
    tokens = [t.lower() for t in re.split(r"[\s|,·•/:]+", text) if t]
    return (
        len(tokens) >= 2
        and all(t in _NETWORKS or t in _SHARE_WORDS for t in tokens)
        and any(t in _NETWORKS for t in tokens)
    )


def _drop_share_buttons(blocks: Blocks) -> Blocks:
    """Drop rows of share buttons: lines made only of social network names.

    At least two names and one real network are required, so a line that merely says
    "Email" or "Print" stays.
    """
    return [b for b in blocks if not _is_share_row(b.text)]


_DATELINE = re.compile(
    r"^(?:published|posted|updated|last updated|first published)(?:\s+on)?\s*:?\s+(.+)$",
    re.IGNORECASE,
)
_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d")


def parse_date(text: str) -> date | None:
    """Read a date written the usual web ways ("August 08, 2025", "8 Aug 2025", ISO)."""
    text = re.split(r"\s+(?:at|\||·|-|–)\s+|(?<=\d)T", text.strip(), maxsplit=1)[0].strip(" .")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _dateline_date(text: str) -> date | None:
    match = _DATELINE.match(text)
    return parse_date(match.group(1)) if match else None


def _long_line_words(blocks: Blocks) -> float:
    counts = [_words(b.text) for b in blocks if b.kind == "line"]
    return max(LONG_LINE_MIN_WORDS, statistics.median(counts) / 2) if counts else 0


def _long_lines(blocks: Blocks) -> list[int]:
    bar = _long_line_words(blocks)
    return [i for i, b in enumerate(blocks) if b.kind == "line" and _words(b.text) >= bar]


def _first_long_line(blocks: Blocks) -> int | None:
    return next(iter(_long_lines(blocks)), None)


def _recover_dateline(blocks: Blocks) -> Blocks:
    """Recover "Published August 08, 2025" (or Posted/Updated) above the article.

    Only a dateline in the page's header counts, before the second long line (the first
    may be a long standfirst): that one dates the article, while a date further down
    belongs to the text and is left there.
    """
    long_lines = _long_lines(blocks)
    end = long_lines[1] if len(long_lines) > 1 else len(blocks)
    for i, block in enumerate(blocks[:end]):
        if block.kind == "line" and _dateline_date(block.text):
            return [*blocks[:i], replace(block, kind="published"), *blocks[i + 1 :]]
    return blocks


_BYLINE = re.compile(r"^(?:by|written by|author:)\s+\S", re.IGNORECASE)


def _ends_sentence(text: str) -> bool:
    return bool(re.search(r"[.!?][\"”’)]?$", text))


def _title_candidates(blocks: Blocks, end: int) -> list[int]:
    return [i for i in range(end) if blocks[i].kind == "line" and not _BYLINE.match(blocks[i].text)]


def _title_index(blocks: Blocks) -> tuple[int | None, int | None]:
    """(title, standfirst) indices; the title sits just above the article's first text."""
    dateline = next((i for i, b in enumerate(blocks) if b.kind == "published"), None)
    above = _title_candidates(blocks, dateline or 0)
    if not above:
        dateline = None
        above = _title_candidates(blocks, _first_long_line(blocks) or 0)
    if not above:
        return None, None
    last, before = above[-1], (above[-2] if len(above) > 1 else None)
    longer = before is not None and _words(blocks[last].text) > _words(blocks[before].text)
    if longer and (
        dateline is not None
        or (_ends_sentence(blocks[last].text) and not _ends_sentence(blocks[before].text))
    ):
        title, standfirst = before, last
    else:
        title, standfirst = last, None
    if _words(blocks[title].text) > TITLE_MAX_WORDS:
        return None, None
    return title, standfirst


def _recover_title(blocks: Blocks) -> Blocks:
    """Recover the title and the standfirst.

    The title is the line just above the dateline, or above the first long paragraph when
    the page has no dateline; when a longer line sits between the title and the dateline
    (or a sentence under a title-like line), it is the standfirst, which becomes the
    summary. Without a short line there, nothing is taken and the title comes from the
    first words of the text.
    """
    title, standfirst = _title_index(blocks)
    if title is None:
        return blocks
    out = list(blocks)
    out[title] = replace(out[title], kind="title")
    if standfirst is not None:
        out[standfirst] = replace(out[standfirst], kind="standfirst")
    return out


def _drop_site_banner(blocks: Blocks) -> Blocks:
    """Drop the lines above the title: the site's name, tagline or marketing blurb.

    Nothing of the article comes before its title, and a banner left in would become the
    article's opening paragraph.
    """
    title = next((i for i, b in enumerate(blocks) if b.kind == "title"), None)
    if title is None:
        return blocks
    return [b for i, b in enumerate(blocks) if i >= title or b.kind != "line"]


def _is_title_case(text: str) -> bool:
    significant = [w for w in re.findall(r"[A-Za-z][\w’'-]*", text) if len(w) > 3]
    capitals = sum(w[0].isupper() for w in significant)
    return text[:1].isupper() and capitals >= 0.6 * len(significant)


def _heading_text(text: str, max_words: int) -> str | None:
    """The heading a short line stands for, or None when it reads like text."""
    words = _words(text)
    if not (text[:1].isupper() or text[:1].isdigit()) or words > max_words:
        return None
    if parse_date(text) or _dateline_date(text) or _BYLINE.match(text):
        return None  # a date stamp or byline, not a title for the text below
    if _INTERNAL_STOP.search(text):
        return None  # more than one sentence: a short paragraph
    if re.search(r"[,;:]$", text):
        return None
    if text.endswith(".") and not text.endswith("..") and words >= 3:
        return text[:-1]
    if not _ends_sentence(text) and _is_title_case(text):
        return text
    return None


def _recover_headings(blocks: Blocks) -> Blocks:
    """Recover headings: short lines standing alone between paragraphs become ``##``.

    Web pages lose their heading tags when copied as text. A line is a heading when it is
    short next to the page's paragraphs (a quarter of their median length) and single:
    either Title Case without a closing period ("Why the Relationship Matters"), with text
    or the article's header above it, or one sentence ending in a period ("Skills yield
    synergy."), which must stand between two long paragraphs since a short sentence
    could also be a one-line paragraph. A heading's closing period is dropped.
    """
    max_words = _heading_max_words(blocks)
    long_bar = _long_line_words(blocks)
    out = list(blocks)
    for i, block in enumerate(blocks[:-1]):
        heading = _heading_text(block.text, max_words) if block.kind == "line" else None
        if heading is None:
            continue
        prev, nxt = blocks[i - 1] if i else None, blocks[i + 1]
        titled = heading == block.text  # Title Case without a period
        after_header = prev is None or prev.kind != "line"
        # A sentence with a period could be a one-line paragraph: it needs long text around it.
        bar = max_words + 1 if titled else long_bar
        if _is_paragraph(nxt, bar) and (_is_paragraph(prev, bar) or (titled and after_header)):
            out[i] = Block("heading", heading, 2)
    return out


def _heading_max_words(blocks: Blocks) -> int:
    """A quarter of the median paragraph, within bounds; measured on paragraphs alone so a
    page with many headings does not lower the bar."""
    counts = [_words(b.text) for b in blocks if b.kind == "line"]
    paragraphs = [n for n in counts if n >= LONG_LINE_MIN_WORDS] or counts or [0]
    return int(min(HEADING_MAX_WORDS, max(HEADING_MIN_WORDS, statistics.median(paragraphs) / 4)))


def _is_paragraph(block: Block | None, min_words: float) -> bool:
    return block is not None and block.kind == "line" and _words(block.text) >= min_words


def _demote_empty_headings(blocks: Blocks) -> Blocks:
    """Turn a heading with no text under it back into a paragraph.

    The corpus refuses empty sections; a heading directly followed by a deeper heading is
    fine (the section has children), anything else keeps its words as a paragraph.
    """
    out = list(blocks)
    for i, block in enumerate(blocks):
        if block.kind != "heading":
            continue
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if nxt is None or (nxt.kind == "heading" and nxt.level <= block.level):
            out[i] = Block("paragraph", block.text)
    return out


RULES: tuple[Rule, ...] = (
    Rule("whitespace", _drop_whitespace),
    Rule("scroll-to-top", _drop_scroll_to_top, WEB_FORMATS),
    Rule("related-articles", _drop_related_articles, WEB_FORMATS),
    Rule("advertisement", _drop_advertisements, WEB_FORMATS),
    Rule("share-buttons", _drop_share_buttons, WEB_FORMATS),
    Rule("dateline", _recover_dateline, frozenset({"text"})),
    Rule("title", _recover_title, frozenset({"text"})),
    Rule("site-banner", _drop_site_banner, frozenset({"text"})),
    Rule("headings", _recover_headings, frozenset({"text"})),
    Rule("empty-headings", _demote_empty_headings),
)


def clean(blocks: Blocks, fmt: str = "text") -> Blocks:
    """Run the RULES meant for this input format, in order."""
    for rule in RULES:
        if fmt in rule.formats:
            blocks = rule.apply(blocks)
    return blocks


# --- assembling an article ---------------------------------------------------------------------


def split_sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def truncate(text: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut, so a summary never ends mid-word."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


def summarize(text: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    """The first sentences of ``text`` that fit in ``limit`` characters (at least one, cut)."""
    summary = ""
    for sentence in split_sentences(" ".join(text.split())):
        longer = f"{summary} {sentence}".strip()
        if len(longer) > limit:
            break
        summary = longer
    return summary or truncate(" ".join(text.split()), limit)


def title_from_text(text: str, words: int = TITLE_WORDS_FROM_TEXT) -> str:
    """A stand-in title from the first words, for records and pages that have none."""
    first = split_sentences(" ".join(text.split()))[0] if text.strip() else ""
    parts = first.split()
    if len(parts) <= words:
        return first.rstrip(".")
    return " ".join(parts[:words]).rstrip(",;:.") + "…"


def clean_title(title: str) -> str:
    """One line, without the closing period some sites put after a headline."""
    title = " ".join(title.split())
    return title[:-1] if title.endswith(".") and not title.endswith("..") else title


_STOP_WORDS = frozenset("a an and or the of for to in on with at by".split())


def make_slug(text: str, max_length: int = SLUG_MAX_LENGTH) -> str:
    """URL-safe lower-case slug, cut at a word boundary (and not on "and"/"of"...)."""
    folded = unicodedata.normalize("NFKD", re.sub(r"['’]", "", text))
    words = re.findall(r"[a-z0-9]+", folded.encode("ascii", "ignore").decode().lower())
    kept: list[str] = []
    for word in words:
        if len("-".join([*kept, word])) > max_length:
            break
        kept.append(word)
    if not kept:
        return words[0][:max_length] if words else ""
    while len(kept) < len(words) and len(kept) > 1 and kept[-1] in _STOP_WORDS:
        kept.pop()
    return "-".join(kept)


_HEADING_LIKE = re.compile(r"^(?:#+(?:[ \t]|$)|(?:```|~~~)|[-=*_ ]+$)")


def escape_paragraph(text: str) -> str:
    """Keep plain text from reading as Markdown structure (a heading, fence or rule)."""
    return "\\" + text if _HEADING_LIKE.match(text) else text


def render_body(blocks: Blocks) -> str:
    parts = []
    for block in blocks:
        if block.kind == "heading":
            parts.append(f"{'#' * block.level} {' '.join(block.text.split())}")
        elif block.kind == "markdown":
            parts.append(block.text.strip("\n"))
        elif block.kind in ("line", "paragraph"):
            parts.append(escape_paragraph(block.text))
    return "\n\n".join(parts)


def _first_text(blocks: Blocks) -> str:
    return next((b.text for b in blocks if b.kind in ("line", "paragraph")), "")


def build_article(
    blocks: Blocks,
    source: str,
    *,
    title: str | None = None,
    summary: str | None = None,
    published: date | None = None,
    slug: str | None = None,
    url: str | None = None,
) -> ImportedArticle:
    """Assemble cleaned blocks; anything not given is taken from the blocks themselves."""
    by_kind = {b.kind: b for b in reversed(blocks)}
    first_text = _first_text(blocks)
    title = clean_title(title or (by_kind["title"].text if "title" in by_kind else "")) or (
        title_from_text(first_text)
    )
    if summary is None:
        summary = by_kind["standfirst"].text if "standfirst" in by_kind else summarize(first_text)
    if published is None and "published" in by_kind:
        published = _dateline_date(by_kind["published"].text)
    return ImportedArticle(
        title=title,
        slug=slug or make_slug(title) or make_slug(Path(source).stem),
        source=source,
        summary=" ".join(summary.split()),
        published=published,
        body_markdown=render_body(blocks),
        url=url,
    )


# --- readers ------------------------------------------------------------------------------------


def import_text(raw: str, source: str, slug: str | None = None) -> ImportedArticle:
    """Import a page copied as plain text: one line is one paragraph, cleaned by RULES."""
    lines = raw.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return build_article(clean([Block("line", line) for line in lines]), source, slug=slug)


_DROP_TAGS = frozenset(
    "nav header footer aside form script style noscript template svg button iframe select".split()
)
_DROP_ROLES = frozenset("navigation search banner contentinfo complementary".split())
_VOID_TAGS = frozenset("area base br col embed hr img input link meta source track wbr".split())
_BLOCK_TAGS = frozenset(
    "p li div section article main blockquote ul ol dl dt dd table tr td th pre figure"
    " figcaption body h1 h2 h3 h4 h5 h6 hr".split()
)
_HEADING_TAGS = {f"h{n}": n for n in range(1, 7)}


class _Node:
    """An element of a parsed page; children are nodes or text strings."""

    def __init__(self, tag: str, attrs: dict[str, str], parent: _Node | None = None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[_Node | str] = []

    def iter(self) -> Iterator[_Node]:
        yield self
        for child in self.children:
            if isinstance(child, _Node):
                yield from child.iter()

    def find(self, test: Callable[[_Node], bool]) -> _Node | None:
        return next((n for n in self.iter() if test(n)), None)

    def text(self) -> str:
        parts = (c if isinstance(c, str) else c.text() for c in self.children)
        return " ".join(" ".join(parts).split())


class _TreeBuilder(HTMLParser):
    """A forgiving DOM: unclosed <p> and <li> close themselves, stray end tags are ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS and self._open("p", stop={"div", "section", "article", "td"}):
            self._close("p")
        if tag == "li" and self._open("li", stop={"ul", "ol"}):
            self._close("li")
        node = _Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in _VOID_TAGS:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)

    def handle_endtag(self, tag: str) -> None:
        if self._open(tag):
            self._close(tag)

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)

    def _open(self, tag: str, stop: set[str] = frozenset()) -> bool:
        node = self.current
        while node is not None and node.tag not in stop:
            if node.tag == tag:
                return True
            node = node.parent
        return False

    def _close(self, tag: str) -> None:
        while self.current.tag != tag and self.current.parent is not None:
            self.current = self.current.parent
        self.current = self.current.parent or self.root


def _main_node(root: _Node) -> _Node:
    """Where the article is: role=main, <main>, <article>, then <body> (as RTD's parser)."""
    for test in (
        lambda n: n.attrs.get("role") == "main",
        lambda n: n.tag == "main",
        lambda n: n.tag == "article",
        lambda n: n.tag == "body",
    ):
        node = root.find(test)
        if node is not None:
            return node
    return root


def _is_chrome(node: _Node, keep: _Node | None) -> bool:
    if node.tag not in _DROP_TAGS and node.attrs.get("role") not in _DROP_ROLES:
        return False
    # An article's own <header> holds its <h1>; dropping it would lose the title.
    return not (node.tag == "header" and keep is not None and keep in node.iter())


def _html_blocks(node: _Node, title_node: _Node | None) -> Blocks:
    blocks: Blocks = []
    buffer: list[str] = []

    def flush() -> None:
        text = " ".join(" ".join(buffer).split())
        buffer.clear()
        if text:
            blocks.append(Block("paragraph", text))

    def walk(current: _Node) -> None:
        for child in current.children:
            if isinstance(child, str):
                buffer.append(child)
            elif child is title_node or _is_chrome(child, title_node):
                continue
            elif child.tag in _HEADING_TAGS:
                flush()
                blocks.append(Block("heading", child.text(), max(2, _HEADING_TAGS[child.tag])))
            elif child.tag in _BLOCK_TAGS:
                flush()
                walk(child)
                flush()
            else:
                walk(child)

    walk(node)
    flush()
    return [b for b in blocks if b.text]


def _meta(root: _Node, *names: str) -> str:
    for node in root.iter():
        if node.tag == "meta" and (node.attrs.get("name") or node.attrs.get("property")) in names:
            return node.attrs.get("content", "").strip()
    return ""


def _html_published(root: _Node, main: _Node) -> date | None:
    stamp = _meta(root, "article:published_time", "date")
    if not stamp:
        time = main.find(lambda n: n.tag == "time" and "datetime" in n.attrs)
        stamp = time.attrs["datetime"] if time else ""
    return parse_date(stamp[:10]) if stamp else None


def import_html(html: str, source: str, slug: str | None = None) -> ImportedArticle:
    """Import an HTML page: the main content without chrome, h1 as title, h2-h6 as headings."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    root = builder.root
    main = _main_node(root)
    h1 = main.find(lambda n: n.tag == "h1") or root.find(lambda n: n.tag == "h1")
    title = h1.text() if h1 else ""
    if not title:
        head_title = root.find(lambda n: n.tag == "title")
        title = head_title.text() if head_title else ""
    blocks = clean(_html_blocks(main, h1), "html")
    description = _meta(root, "description", "og:description")
    return build_article(
        blocks,
        source,
        title=title or None,
        summary=description or None,
        published=_html_published(root, main),
        slug=slug,
        url=_meta(root, "og:url") or None,
    )


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S | re.M)
_ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _split_front_matter(text: str, source: str) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ImporterError(f"{source}: invalid front matter: {exc}") from None
    if not isinstance(meta, dict):
        raise ImporterError(f"{source}: front matter must be a mapping of keys to values")
    return meta, text[match.end() :]


def _markdown_blocks(body: str) -> Blocks:
    """Headings and blank-line separated chunks; code fences stay whole."""
    blocks: Blocks = []
    chunk: list[str] = []
    in_fence = False

    def flush() -> None:
        if "".join(chunk).strip():
            blocks.append(Block("markdown", "\n".join(chunk).strip("\n")))
        chunk.clear()

    for line in body.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _ATX.match(line)
        if heading:
            flush()
            blocks.append(Block("heading", heading.group(2).strip(), len(heading.group(1))))
        elif not line.strip() and not in_fence:
            flush()
        else:
            chunk.append(line)
    flush()
    return blocks


def _plain(markdown: str) -> str:
    """Markdown inline syntax removed, for a summary: links keep their text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return " ".join(re.sub(r"[*_`]+", "", text).split())


def _markdown_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_date(str(value)) if value else None


def import_markdown(text: str, source: str, slug: str | None = None) -> ImportedArticle:
    """Import a Markdown file, with or without front matter; its headings are kept.

    The title comes from front matter or the first ``# `` heading, which is then removed
    since the corpus body never repeats the title; other level-1 headings become ``##``.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    meta, body = _split_front_matter(text, source)
    blocks = _markdown_blocks(body)
    title = str(meta.get("title") or "").strip()
    first_h1 = next((i for i, b in enumerate(blocks) if b.kind == "heading" and b.level == 1), None)
    if first_h1 is not None and (not title or clean_title(blocks[first_h1].text) == title):
        title = title or blocks[first_h1].text
        del blocks[first_h1]
    blocks = [replace(b, level=max(2, b.level)) if b.kind == "heading" else b for b in blocks]
    blocks = clean(blocks, "markdown")
    first = next((b.text for b in blocks if b.kind == "markdown" and b.text[:1].isalnum()), "")
    summary = str(meta.get("summary") or "").strip() or summarize(_plain(first))
    return build_article(
        blocks,
        source,
        title=title or title_from_text(_plain(first)),
        summary=summary,
        published=_markdown_date(meta.get("published") or meta.get("date")),
        slug=slug or (str(meta["slug"]) if meta.get("slug") else None),
        url=str(meta["url"]) if meta.get("url") else None,
    )


def _jsonl_article(record: object, name: str, line: int) -> ImportedArticle:
    if not isinstance(record, dict) or not str(record.get("_id", "")).strip():
        raise ImporterError(f'{name}:{line}: expected an object with an "_id"')
    doc_id = str(record["_id"]).strip()
    text = " ".join(str(record.get("text") or "").split())
    if not text:
        raise ImporterError(f"{name}:{line}: record {doc_id!r} has no text")
    slug = make_slug(doc_id)
    if not slug:
        raise ImporterError(f"{name}:{line}: _id {doc_id!r} gives no usable slug")
    title = clean_title(str(record.get("title") or "")) or title_from_text(text)
    return ImportedArticle(
        title=title,
        slug=slug,
        source=f"{name}:{doc_id}",
        summary=truncate(split_sentences(text)[0], SUMMARY_MAX_CHARS),
        published=None,
        body_markdown=escape_paragraph(text),
    )


def iter_jsonl(path: str | Path) -> Iterator[ImportedArticle]:
    """Yield one article per line of a BEIR ``corpus.jsonl``, reading one line at a time."""
    path = Path(path)
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImporterError(f"{path.name}:{number}: invalid JSON ({exc.msg})") from None
            yield _jsonl_article(record, path.name, number)


# --- writing ------------------------------------------------------------------------------------


def article_path(corpus_dir: str | Path, slug: str) -> Path:
    return Path(corpus_dir) / f"{slug}.md"


def write_article(article: ImportedArticle, corpus_dir: str | Path, replace: bool = False) -> Path:
    """Write ``<corpus_dir>/<slug>.md`` atomically; refuse to overwrite unless ``replace``.

    The text goes to a temporary file in the same directory first and is then renamed, so
    a reader (or an index build) never sees half a file.
    """
    path = article_path(corpus_dir, article.slug)
    if not replace and path.exists():
        raise ArticleExists(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{article.slug}.{secrets.token_hex(6)}.tmp")
    # os.open rather than mkstemp: the file gets the usual permissions (0666 minus umask).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(article.to_markdown())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _check_jsonl(path: Path, corpus_dir: str | Path, replace: bool) -> int:
    """First pass: every slug unique in the file and (unless replace) new to the corpus.

    Checking before writing means a bad file leaves the corpus untouched, and it streams
    like the write pass, holding only the slugs.
    """
    seen: dict[str, str] = {}
    for article in iter_jsonl(path):
        if article.slug in seen:
            raise DuplicateSlug(
                f"{article.source} and {seen[article.slug]} both give slug {article.slug!r}"
            )
        seen[article.slug] = article.source
        if not replace and article_path(corpus_dir, article.slug).exists():
            raise ArticleExists(article_path(corpus_dir, article.slug))
    return len(seen)


def import_jsonl(
    path: str | Path,
    corpus_dir: str | Path,
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Import every record of a BEIR JSONL file; return how many articles were written.

    The file is streamed twice (check, then write), never held in memory. ``progress`` is
    called with 1 after each article, the signature of click's ``ProgressBar.update``.
    """
    path = Path(path)
    _check_jsonl(path, corpus_dir, replace)
    count = 0
    for article in iter_jsonl(path):
        write_article(article, corpus_dir, replace=True)
        count += 1
        if progress:
            progress(1)
    return count


def import_file(kind: str, path: str | Path, slug: str | None = None) -> ImportedArticle:
    """Read one text, HTML or Markdown file; the source is recorded as its file name."""
    readers: dict[str, Callable[..., ImportedArticle]] = {
        "text": import_text,
        "html": import_html,
        "markdown": import_markdown,
    }
    path = Path(path)
    return readers[kind](path.read_text(encoding="utf-8"), path.name, slug=slug)
