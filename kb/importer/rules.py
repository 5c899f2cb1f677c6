"""The ordered cleaning RULES that turn a page's lines into an article's blocks."""

from __future__ import annotations

import re
import statistics
from dataclasses import replace
from datetime import date

from kb.importer.blocks import WEB_FORMATS, Block, Blocks, Rule
from kb.markdown import parse_date

# A line this long (in words) is article text, never a title or a heading. The real bar is
# relative to the page (half its median line), this is the floor for short pages.
LONG_LINE_MIN_WORDS = 20
TITLE_MAX_WORDS = 30
HEADING_MIN_WORDS, HEADING_MAX_WORDS = 6, 16  # bounds for the relative heading limit

_INTERNAL_STOP = re.compile(r"[.!?][\"”’)]?\s+\S")
_WORD = re.compile(r"\S+")


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
