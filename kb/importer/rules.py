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
# A subhead without a closing period (a question, Title or sentence case) may be this long
# even on a page of short paragraphs: text lines end in a period, these do not.
SUBHEAD_WORDS = 10

_INTERNAL_STOP = re.compile(r"[.!?][\"”’)]?\s+\S")
_WORD = re.compile(r"\S+")


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _drop_whitespace(blocks: Blocks) -> Blocks:
    """Strip each line and drop the empty ones, non-breaking spaces included.

    Pages copied from a browser keep blank lines and lines holding only a non-breaking
    space; they carry no text and would otherwise become empty paragraphs. What they say
    about layout is kept on the next line: whether a blank line stood above it (browsers put
    one around paragraphs, not between a box's title and its list) and how many tabs it
    started with (a nested list item).
    """
    out: Blocks = []
    gap = False
    for block in blocks:
        if not block.text.strip():
            gap = True
            continue
        if block.kind != "markdown":
            indent = len(block.text) - len(block.text.lstrip("\t"))
            block = replace(block, text=block.text.strip(), indent=indent)
        out.append(replace(block, blank_before=gap))
        gap = False
    return out


_SCROLL_LINE = re.compile(r"^[\W_]*(?:scroll|back) to top[\W_]*$", re.IGNORECASE)
_SCROLL_GLUED = re.compile(r"(?<=[.!?\"”’)])\s*(?:scroll|back) to top\W*$", re.IGNORECASE)


def _drop_scroll_to_top(blocks: Blocks) -> Blocks:
    """Drop the "Scroll to Top" / "Back to top" button text.

    Copying a page often glues the button onto the last paragraph ("...decision.Scroll to
    Top"), so the words are also cut from a line's end when they follow a sentence's end.
    """
    kept = [b for b in blocks if not _SCROLL_LINE.match(b.text)]
    return [replace(b, text=_SCROLL_GLUED.sub("", b.text)) for b in kept]


_END_MARKER = re.compile(
    r"""^(?:
      (?:related|recommended|more|popular|trending|similar|latest|further)\s+
        (?:articles?|posts?|stories|reading|content|guides?|conditions?|topics?|pages?
           |resources|links|information)
    | you\s+(?:may|might)\s+also\s+(?:like|enjoy|be\s+interested\s+in)
    | more\s+(?:from|on)\s+(?:the|our|this)\s+\w+
    | (?:read|up)\s+next | keep\s+reading
    | \d+\s+(?:thoughts?|comments?|responses?|replies)(?:\s+(?:on|to)\b.*)?
    | leave\s+a\s+(?:reply|comment) | join\s+the\s+(?:discussion|conversation)
    | comments
    | (?:subscribe|sign\s+up)\s+(?:to|for)\s+(?:our|the)\s+(?:\w+\s+)?
        (?:newsletter|mailing\s+list|updates|e-?mails?|blog)
    | (?:get|join)\s+(?:our|the)\s+(?:\w+\s+)?(?:newsletter|mailing\s+list)
    | (?:was|is)\s+this\s+(?:\w+\s+)?(?:helpful|useful)\W*(?:yes\W+no)?
    | did\s+you\s+find\s+this\s+(?:\w+\s+)?(?:helpful|useful)\W*(?:yes\W+no)?
    | help\s+us\s+improve\b.*
    | rate\s+this\s+(?:article|page|post|guide)
    | (?:tags?|tagged|categories|category|topics|filed\s+under|posted\s+in)\s*:.*
    | (?:tagged(?:\s+(?:with|as|in))?|filed\s+under|posted\s+in)\s+[A-Z].*
    | (?:share|print)\s+this\s+(?:article|page|post|story|guide)
    | about\s+the\s+authors?
    | (?:previous|next)\s+(?:post|article|story)
    )\W*$""",
    re.IGNORECASE | re.VERBOSE,
)
END_MARKER_MAX_WORDS = 25


def _is_end_marker(block: Block) -> bool:
    if block.kind == "reviewed":  # "Page last reviewed: ...": the foot of the article
        return True
    return (
        block.kind in ("line", "paragraph", "heading")
        and _words(block.text) <= END_MARKER_MAX_WORDS
        and bool(_END_MARKER.match(block.text))
    )


def _drop_after_end_of_article(blocks: Blocks) -> Blocks:
    """Drop everything from the first end-of-article marker on.

    Below an article, sites put the same furniture: related posts ("Related posts", "You
    might also like", "More from the blog"), readers' comments ("3 thoughts on ...", "Leave
    a reply"), a newsletter box ("Subscribe to our newsletter"), a feedback box ("Was this
    article helpful?", "Help us improve our website"), taxonomy ("Tags:", "Filed under"),
    print and share links ("Print this page"), post navigation, the author's bio and the
    review dates ("Page last reviewed"), then sidebars and the footer. All of it is text
    of other pages or of the site, which would make this article match searches it does
    not answer. A marker counts only as a whole short line below the article's first
    paragraph (menus above it may say "Subscribe"); review dates below the cut are kept,
    as they date the article.
    """
    start = _first_long_line(blocks) or 0
    for i in range(start, len(blocks)):
        if _is_end_marker(blocks[i]):
            dates = [b for b in blocks[i:] if b.kind in ("reviewed", "next_review")]
            return blocks[:i] + dates
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


_COOKIE = re.compile(r"\bcookies?\b", re.IGNORECASE)
_COOKIE_CONTEXT = re.compile(
    r"\b(?:(?:web)?site|web|browser|device|analytics|consent|accept|reject|polic(?:y|ies)"
    r"|settings|preferences|tracking|third[- ]party|essential|optional|personali[sz]e"
    r"|(?:use|uses|set|sets|store|stores|place)\s+(?:\w+\s+){0,3}cookies?)\b",
    re.IGNORECASE,
)
COOKIE_HEADING_MAX_WORDS = 6


def _is_cookie_line(text: str) -> bool:
    """A line of a consent banner: cookies named with web words, or a short banner heading
    ("Cookies on our website"); "making cookies together" is not one."""
    return bool(_COOKIE.search(text)) and (
        _words(text) <= COOKIE_HEADING_MAX_WORDS or bool(_COOKIE_CONTEXT.search(text))
    )


_BUTTON_WORDS = frozenset(
    "ok okay accept accepted all reject refuse decline deny allow agree i got it understood"
    " settings preferences manage close dismiss continue only essential necessary"
    " non-essential optional and save choices my".split()
)


def _is_banner_button(text: str) -> bool:
    tokens = re.findall(r"[a-z'’-]+", text.lower())
    return 0 < len(tokens) <= 5 and all(t in _BUTTON_WORDS for t in tokens)


def _drop_cookie_banner(blocks: Blocks) -> Blocks:
    """Drop the cookie banner: lines about cookies at the top or the foot of the page.

    Copied pages carry the consent banner as a heading ("Cookies on our website"), a few
    sentences about the site's cookies and its buttons ("Accept all cookies", "OK,
    understood"). Its sentences are as long as the article's, so left in they would pass
    for its first paragraph and the banner's heading for its title. Only lines before the
    article's first long line (or after its last) go, and only lines that name cookies
    with web words (site, browser, analytics, accept, policy...) or are a short heading, the
    lines about cookies next to those, and the button lines that follow them: an article
    about baking keeps its cookies.
    """
    banner = [b.kind == "line" and _is_cookie_line(b.text) for b in blocks]
    # The banner is one block of lines: a line about cookies next to it belongs to it.
    for i in [*range(len(blocks)), *reversed(range(len(blocks)))]:
        beside = [banner[j] for j in (i - 1, i + 1) if 0 <= j < len(blocks)]
        if any(beside) and blocks[i].kind == "line" and _COOKIE.search(blocks[i].text):
            banner[i] = True
    bar = _long_line_words(blocks)
    text = [
        i
        for i, b in enumerate(blocks)
        if b.kind == "line" and _words(b.text) >= bar and not banner[i]
    ]
    if not text:
        return blocks
    first, last = text[0], text[-1]
    drop: set[int] = set()
    for i, block in enumerate(blocks):
        if first <= i <= last or block.kind != "line":
            continue
        if banner[i] or (i - 1 in drop and _is_banner_button(block.text)):
            drop.add(i)
    return [b for i, b in enumerate(blocks) if i not in drop]


_REVIEWED = re.compile(r"^(?:page\s+)?last\s+reviewed(?:\s+on)?\s*:?\s*(.+)$", re.IGNORECASE)
_NEXT_REVIEW = re.compile(r"^next\s+review\s+(?:due|date)(?:\s+on)?\s*:?\s*(.+)$", re.IGNORECASE)


def review_date(block: Block) -> date | None:
    """The date of a ``reviewed`` or ``next_review`` line."""
    pattern = _REVIEWED if block.kind == "reviewed" else _NEXT_REVIEW
    match = pattern.match(block.text)
    return parse_date(match.group(1)) if match else None


def recover_review_dates(blocks: Blocks) -> Blocks:
    """Recover "Page last reviewed: 14 March 2024" / "Next review due: 14 March 2027".

    NHS-style pages state when the page was last reviewed and when it is next due under the
    article; they become the article's ``reviewed`` and ``next_review``. The first line of
    each that holds a readable date counts; they are metadata, not article text. (HTML
    pages: the same lines, wherever the extractor left them; kb.importer.html also reads
    them from the whole page.)
    """
    out = list(blocks)
    for kind in ("reviewed", "next_review"):
        for i, block in enumerate(out):
            if block.kind in ("line", "paragraph") and review_date(replace(block, kind=kind)):
                out[i] = replace(block, kind=kind)
                break
    return out


_DATELINE = re.compile(
    r"^(?:published|posted|updated|last updated|first published)(?:\s+on)?\s*:?\s+(.+)$",
    re.IGNORECASE,
)


_PART_SEPARATOR = re.compile(r"\s+[|·•—–-]\s+|\s*\|\s*")
_READING_TIME = re.compile(
    r"^(?:reading time:?\s*)?\d+\s*(?:-|\s)?min(?:ute)?s?(?:\s+read(?:ing)?)?(?:\s+time)?$",
    re.IGNORECASE,
)


def _parts(text: str) -> list[str]:
    return [p.strip() for p in _PART_SEPARATOR.split(text) if p.strip()]


def _one_date(text: str) -> date | None:
    match = _DATELINE.match(text)
    return parse_date(match.group(1)) if match else parse_date(text)


def _dateline_date(text: str) -> date | None:
    """The date of a dateline: "Published 3 June 2025", "February 11, 2025", or a date with
    a reading time or byline beside it ("Apr 22, 2025 — 7 min read")."""
    match = _DATELINE.match(text)
    if match and parse_date(match.group(1)):
        return parse_date(match.group(1))
    found = None
    for part in _parts(text):
        day = _one_date(part)
        if day and found is None:
            found = day
        elif not (_READING_TIME.match(part) or _BYLINE.match(part) or _BYLINE_ROLE.match(part)):
            return None
    return found


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
_BYLINE_ROLE = re.compile(
    r"^(?:(?:written|words|posted|(?:medically |clinically )?reviewed|fact[- ]checked|edited)"
    r"\s+by|authors?:|reviewers?:)\s*[A-Z]",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"^(?:[A-Z][a-z’'-]+|[A-Z]\.?|Dr\.?|Prof\.?|Mr|Mrs|Ms|Mx)$")
_NOT_NAME_WORDS = frozenset(
    "a an and or the of for to in on with at by your you our how what why when who after"
    " about from into is are can do does living coping guide".split()
)
NAME_MAX_WORDS = 3  # besides titles and initials


def _is_name(text: str) -> bool:
    """A person's name on its own ("Priya Raman", "Dr A. Khan, PhD")."""
    words = re.sub(r",\s*[A-Z][A-Za-z.]*(?:\s+[A-Z][A-Za-z.]*)*$", "", text).split()
    names = [w for w in words if not re.match(r"^(?:[A-Z]\.?|Dr\.?|Prof\.?|Mr|Mrs|Ms|Mx)$", w)]
    return (
        2 <= len(names) <= NAME_MAX_WORDS
        and all(_NAME_WORD.match(w) for w in words)
        and not any(w.lower() in _NOT_NAME_WORDS for w in words)
        and not any(w.lower().endswith(("ing", "ion", "ness", "ity", "ment")) for w in words)
    )


def _is_byline(text: str) -> bool:
    """A byline: "By Dr Helen Marsh | Medically reviewed by Dr Aaron Pike | 6 min read",
    "Written by Anna Kowalczyk", "7 min read". A bare "By Jane Doe" is not enough here."""
    parts = _parts(text)
    if _words(text) > END_MARKER_MAX_WORDS or not parts:
        return False
    kinds = []
    for part in parts:
        if _BYLINE_ROLE.match(part):
            kinds.append("role")
        elif _READING_TIME.match(part):
            kinds.append("time")
        elif _BYLINE.match(part) and part[3:4].isupper():
            kinds.append("by")
        elif _one_date(part):
            kinds.append("date")
        else:
            return False
    return len(parts) > 1 or kinds[0] in ("role", "time")


def _drop_bylines(blocks: Blocks) -> Blocks:
    """Drop the byline in the article's header, and a bare author name beside the dateline.

    Above the first paragraph, a line naming the author and reviewer with their roles
    ("Written by ...", "Medically reviewed by ...") or a reading time ("6 min read") is the
    site's credit line, not text; so is a line that is only a person's name, or "By" and a
    name, directly above or below the dateline (Ghost and Medium put it there). A bare
    "By Jane Doe" elsewhere is left in.
    """
    end = _first_long_line(blocks) or 0
    dateline = next((i for i, b in enumerate(blocks[:end]) if b.kind == "published"), None)
    drop = set()
    for i, block in enumerate(blocks[:end]):
        if block.kind != "line":
            continue
        beside = dateline is not None and abs(i - dateline) == 1
        # The headline stands above the name: a name-like line with nothing longer above
        # it may be a short headline ("Lithium Blood Tests Explained") and stays.
        headline = any(b.kind == "line" and _words(b.text) > _words(block.text) for b in blocks[:i])
        if _is_byline(block.text) or (
            beside and headline and (_is_name(block.text) or _BYLINE.match(block.text))
        ):
            drop.add(i)
    return [b for i, b in enumerate(blocks) if i not in drop]


def _ends_sentence(text: str) -> bool:
    return bool(re.search(r"[.!?][\"”’)]?$", text))


def _title_candidates(blocks: Blocks, end: int, start: int = 0) -> list[int]:
    return [
        i
        for i in range(start, end)
        if blocks[i].kind == "line" and not _BYLINE.match(blocks[i].text)
    ]


def _title_index(blocks: Blocks) -> tuple[int | None, int | None]:
    """(title, standfirst) indices; the title sits just above the article's first text."""
    dateline = next((i for i, b in enumerate(blocks) if b.kind == "published"), None)
    above = _title_candidates(blocks, dateline or 0)
    if dateline is not None:
        # A category and date above the headline (Squarespace): the headline follows the date.
        first_long = next((i for i in _long_lines(blocks) if i > dateline), len(blocks))
        below = _title_candidates(blocks, first_long, dateline + 1)
        if below and (
            not above
            or (
                _words(blocks[below[0]].text) > _words(blocks[above[-1]].text)
                and not blocks[below[0]].text.endswith(".")
            )
        ):
            title = below[0]
            return (title, None) if _words(blocks[title].text) <= TITLE_MAX_WORDS else (None, None)
    if not above:
        dateline = None
        above = _title_candidates(blocks, _first_long_line(blocks) or 0)
    if not above:
        return None, None
    last, before = above[-1], (above[-2] if len(above) > 1 else None)
    longer = before is not None and _words(blocks[last].text) > _words(blocks[before].text)
    if (
        longer
        and _ends_sentence(blocks[last].text)
        and (dateline is not None or not _ends_sentence(blocks[before].text))
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
    the page has no dateline; a longer line between the dateline and the first paragraph
    is the title instead, when a category label stands above the date. When a longer
    sentence sits between the title and the dateline (or under a title-like line), it is
    the standfirst, which becomes the summary. Without a short line there, nothing is taken
    and the title comes from the first words of the text.
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


_BULLET = re.compile(r"^[•●◦○▪▫■□‣⁃∙*–-]\s+(?=\S)")
_NUMBER = re.compile(r"^(\d{1,2})[.)]\s+(?=\S)")


def _list_item(block: Block) -> tuple[str, str] | None:
    """(marker, text) of a copied list item: "• text" -> ("-", "text"), "2. text" -> ("2.", ...)."""
    if block.kind != "line":
        return None
    if match := _BULLET.match(block.text):
        return "-", block.text[match.end() :]
    if match := _NUMBER.match(block.text):
        return f"{match.group(1)}.", block.text[match.end() :]
    return None


def _list_markdown(items: list[tuple[int, str, str]]) -> str:
    """Markdown for (depth, marker, text) items, each nested under the item above it."""
    lines: list[str] = []
    indents = [0]  # where the content of the item at each depth starts
    for depth, marker, text in items:
        depth = min(depth, len(indents) - 1)
        del indents[depth + 1 :]
        lines.append(f"{' ' * indents[depth]}{marker} {text}")
        indents.append(indents[depth] + len(marker) + 1)
    return "\n".join(lines)


def _cells(text: str) -> list[str]:
    return [c.strip().replace("|", "\\|") for c in text.split("\t")]


def _table_markdown(rows: list[list[str]]) -> str:
    """A GFM table; the first row is the header."""
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def _recover_lists_and_tables(blocks: Blocks) -> Blocks:
    """Recover lists and tables: "•" / "1." lines become a Markdown list, tab-separated rows
    a Markdown table.

    A browser copies a list item as its marker and text on a line of its own (a nested item
    one tab further in) and a table row as its cells joined by tabs. Left as lines, each
    item would be a paragraph and each row a run of words. A run of bullet lines is a list
    (numbers need two items in a run: a lone "1. Something" may be a numbered heading);
    two or more lines with tabs between words are a table, its first row the header.
    """
    out: Blocks = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        j = i
        items = []
        while j < len(blocks) and (item := _list_item(blocks[j])):
            top = blocks[j].indent == 0
            if items and top and (item[0] == "-") != (items[0][1] == "-"):
                break  # bullets then numbers at the top level: two lists
            items.append((blocks[j].indent, *item))
            j += 1
        numbered = sum(marker != "-" for _, marker, _ in items)
        if items and (numbered == 0 or numbered >= 2):
            out.append(replace(block, kind="markdown", text=_list_markdown(items)))
            i = j
            continue
        j = i
        while j < len(blocks) and blocks[j].kind == "line" and "\t" in blocks[j].text:
            j += 1
        if j - i >= 2:
            rows = [_cells(b.text) for b in blocks[i:j]]
            out.append(replace(block, kind="markdown", text=_table_markdown(rows)))
            i = j
            continue
        out.append(block)
        i += 1
    return out


def _is_list(block: Block | None) -> bool:
    return (
        block is not None
        and block.kind == "markdown"
        and bool(re.match(r"^(?:[-*+]|\d{1,2}[.)])\s", block.text))
    )


def _is_title_case(text: str) -> bool:
    significant = [w for w in re.findall(r"[A-Za-z][\w’'-]*", text) if len(w) > 3]
    capitals = sum(w[0].isupper() for w in significant)
    return text[:1].isupper() and capitals >= 0.6 * len(significant)


def _heading_text(text: str, max_words: int) -> tuple[str, str] | None:
    """(heading, form) for a short line that reads like a subhead, or None for text.

    form: ``titled`` (Title Case, no closing punctuation), ``sentence`` (sentence case, no
    closing punctuation), ``question``, ``colon`` (a box's title: "See a GP if:") or
    ``period`` (one sentence ending in a period, dropped from the heading).
    """
    words = _words(text)
    if not (text[:1].isupper() or text[:1].isdigit()) or words > max(max_words, SUBHEAD_WORDS):
        return None
    if parse_date(text) or _dateline_date(text) or _BYLINE.match(text):
        return None  # a date stamp or byline, not a title for the text below
    if _INTERNAL_STOP.search(text):
        return None  # more than one sentence: a short paragraph
    if text.endswith(":") and words >= 2:
        return text, "colon"
    if re.search(r"[,;:]$", text):
        return None
    if text.endswith(".") and not text.endswith("..") and 3 <= words <= max_words:
        return text[:-1], "period"
    if text.endswith("."):
        return None
    if text.endswith("?") and words >= 2:
        return text, "question"
    if not _ends_sentence(text) and not re.search(r"[\W]$", text.rstrip('"”’)')):
        return text, "titled" if _is_title_case(text) else "sentence"
    return None


def _recover_headings(blocks: Blocks) -> Blocks:
    """Recover headings: short lines standing alone between paragraphs become ``##``.

    Web pages lose their heading tags when copied as text. A line is a heading when it is
    short next to the page's paragraphs (a quarter of their median length), single, and
    followed by a paragraph, with text, a list or the article's header above it: a line
    without closing punctuation, in Title Case ("Why the Relationship Matters") or sentence
    case ("Keep the bed for sleep"), or a question ("Why does anxiety keep you awake?").
    One sentence ending in a period ("Skills yield synergy.") must stand between two long
    paragraphs, since a short sentence could also be a one-line paragraph; its period is
    dropped. A line ending in a colon is a heading only when a list follows it with no
    blank line between ("See a GP if:", a box's title); with a blank line it introduces
    the list as text ("During an attack you may:"). A line followed by a table or list,
    such as a table's caption, stays text.
    """
    max_words = _heading_max_words(blocks)
    long_bar = _long_line_words(blocks)
    out = list(blocks)
    for i, block in enumerate(blocks[:-1]):
        found = _heading_text(block.text, max_words) if block.kind == "line" else None
        if found is None:
            continue
        heading, form = found
        prev, nxt = blocks[i - 1] if i else None, blocks[i + 1]
        after_header = prev is None or prev.kind not in ("line", "markdown")
        if form == "colon":
            if (
                _is_list(nxt)
                and not nxt.blank_before
                and (after_header or _is_list(prev) or _is_paragraph(prev, max_words + 1))
            ):
                out[i] = Block("heading", heading, 2)
            continue
        # A sentence with a period could be a one-line paragraph: it needs long text around it.
        bar = long_bar if form == "period" else max_words + 1
        above = _is_paragraph(prev, bar) or (
            form != "period" and (after_header or (prev is not None and prev.kind == "markdown"))
        )
        # Text under a subhead may open with a lead-in to a list ("It can help to:").
        lead_in = (
            form != "period"
            and nxt.kind == "line"
            and nxt.text.endswith(":")
            and _is_list(blocks[i + 2] if i + 2 < len(blocks) else None)
        )
        if (_is_paragraph(nxt, bar) or lead_in) and above:
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


TEXT = frozenset({"text"})

RULES: tuple[Rule, ...] = (
    Rule("whitespace", _drop_whitespace),
    Rule("scroll-to-top", _drop_scroll_to_top, WEB_FORMATS),
    Rule("cookie-banner", _drop_cookie_banner, TEXT),
    Rule("review-dates", recover_review_dates, WEB_FORMATS),
    Rule("end-of-article", _drop_after_end_of_article, WEB_FORMATS),
    Rule("advertisement", _drop_advertisements, WEB_FORMATS),
    Rule("share-buttons", _drop_share_buttons, WEB_FORMATS),
    Rule("dateline", _recover_dateline, TEXT),
    Rule("bylines", _drop_bylines, TEXT),
    Rule("title", _recover_title, TEXT),
    Rule("site-banner", _drop_site_banner, TEXT),
    Rule("lists-and-tables", _recover_lists_and_tables, TEXT),
    Rule("headings", _recover_headings, TEXT),
    Rule("empty-headings", _demote_empty_headings),
)


def clean(blocks: Blocks, fmt: str = "text") -> Blocks:
    """Run the RULES meant for this input format, in order."""
    for rule in RULES:
        if fmt in rule.formats:
            blocks = rule.apply(blocks)
    return blocks


# --- assembling an article ---------------------------------------------------------------------
