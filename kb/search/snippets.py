"""Snippets: the best fragment of a section's text around the query's terms, marked up.

`best_fragment` is exactly Whoosh's highlight with a ContextFragmenter and `MarkFormatter`
(tests/test_search_equivalence.py holds it to that), computed from the tokens near the
matches only. A section's plain text and tokens are cached, so repeated snippets of the
same section cost only the fragment search.
"""

from __future__ import annotations

import bisect
import html

from whoosh import highlight
from whoosh.analysis import Token

from kb.markdown import to_plain
from kb.models import Section
from kb.search import cache
from kb.search.memo import MemoAnalyzer

SNIPPET_SURROUND = 70
SNIPPET_MAXCHARS = 220


class MarkFormatter(highlight.HtmlFormatter):
    """Wraps matches in a bare <mark>; Whoosh escapes the text around and inside it."""

    def __init__(self):
        super().__init__(tagname="mark", between=" … ")

    def format_token(self, text, token, replace=False):
        """One matched token of `text`, escaped, inside <mark>."""
        return f"<mark>{self._text(highlight.get_text(text, token, replace))}</mark>"


def markdown_to_plain(text: str) -> str:
    """The text of a section as a person reads it, for snippets (kb.markdown.to_plain)."""
    return to_plain(text)


def window_start(starts: list[int], ends: list[int], reset: int, last: int, surround: int) -> int:
    """First token of Whoosh's context window after tokens reset..last (last + 1: empty).

    Whoosh appends each token's start and pops from the left while the newest token's end
    is more than `surround` past the oldest start. Starts never decrease, but a hyphenated
    word's joined token ends past its parts, so a token k survives only if no token from k
    to last ends more than `surround` after it; only tokens starting within `surround` of
    the last end can, so the scan is short.
    """
    if last < reset:
        return last + 1
    k = bisect.bisect_left(starts, ends[last] - surround, reset, last + 1)
    kept, max_end = last + 1, 0
    for j in range(last, k - 1, -1):
        max_end = max(max_end, ends[j])
        if max_end - starts[j] > surround:
            break
        kept = j
    return kept


def token_positions(texts: list[str]) -> dict[str, list[int]]:
    """Each token text -> the indexes where it occurs, ascending."""
    positions: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        positions.setdefault(text, []).append(i)
    return positions


def phrase_positions(
    texts: list[str],
    phrases: frozenset[tuple[str, ...]],
    positions: dict[str, list[int]] | None = None,
) -> set[int]:
    """Indexes of the tokens that are part of a whole occurrence of one of `phrases`
    (`positions`: token_positions(texts), else the phrases' first words are looked for)."""
    if positions is None:
        firsts = {phrase[0] for phrase in phrases}
        positions = {}
        for i, text in enumerate(texts):
            if text in firsts:
                positions.setdefault(text, []).append(i)
    found: set[int] = set()
    for phrase in phrases:
        n = len(phrase)
        for i in positions.get(phrase[0], ()):
            if tuple(texts[i : i + n]) == phrase:
                found.update(range(i, i + n))
    return found


def best_fragment(
    text: str,
    tokens: tuple,
    terms: frozenset[str],
    maxchars: int,
    surround: int,
    phrases: frozenset[tuple[str, ...]] = frozenset(),
    positions: dict[str, list[int]] | None = None,
) -> str:
    """Exactly what whoosh.highlight.highlight(..., ContextFragmenter(maxchars, surround),
    MarkFormatter(), top=1) returns, but walking only the tokens near a match.

    With `positions` (token_positions(tokens[0])) the matches are looked up in it, else
    every token is tested (cheaper for a section snippeted once).

    Whoosh feeds every token of the text through its fragmenter; outside a fragment a
    token only moves the window of context kept before the next match, which is computed
    here directly (bisect), so a long section costs about as much as its matches. The
    loop below is Whoosh's ContextFragmenter.fragment_tokens, quirks included.
    """
    texts, starts, ends = tokens
    n = len(texts)
    last_end = ends[-1] if ends else 0  # Whoosh's endchar after its loop
    is_match = phrase_positions(texts, phrases, positions) if phrases else set()
    if positions is None:
        is_match.update(i for i, text in enumerate(texts) if text in terms)
    else:
        for term in terms:
            is_match.update(positions.get(term, ()))
    if not is_match:
        return ""
    matched = sorted(is_match)
    fragments = []  # (match indexes, startchar, endchar)
    countdown, first, tks, currentlen = -1, None, [], 0
    reset, appended = 0, -1  # tokens reset..appended are the context window's candidates
    next_match = 0
    i = 0
    while i < n:
        if countdown < 0 and i not in is_match:
            # Skip to the next match: the tokens in between only feed the context window.
            while next_match < len(matched) and matched[next_match] < i:
                next_match += 1
            j = matched[next_match] if next_match < len(matched) else n
            appended, i = j - 1, j
            continue
        start, end = starts[i], ends[i]
        length = end - start
        if currentlen + length > maxchars:
            countdown = 0
        elif i in is_match:
            countdown = surround
            if first is None:
                k = window_start(starts, ends, reset, appended, surround)
                if k <= appended:
                    first = starts[k]
                else:
                    first = start
                    countdown += surround
            tks.append(i)
        if countdown >= 0:
            currentlen += length
            countdown -= length
            if countdown <= 0:
                fragments.append((tks, first, end))
                tks, first, currentlen = [], None, 0
                reset, appended = i + 1, i
        i += 1
    if tks:
        fragments.append((tks, first, last_end))
    best = None
    for tks, first, end in fragments:
        score = len(tks) * ((len({texts[t] for t in tks}) * 100) or 1)
        key = (score, first if first is not None else 0)
        if score >= 1 and (best is None or key > best[0]):
            best = (key, tks, end)
    if best is None:
        return ""
    (_score, startchar), tks, endchar = best
    matches = []
    for t in tks:
        token = Token(chars=True)
        token.text, token.startchar, token.endchar, token.boost = texts[t], starts[t], ends[t], 1.0
        matches.append(token)
    return MarkFormatter()(text, [highlight.Fragment(text, matches, startchar, endchar)])


class Snippets:
    """Snippets of one build's sections, through the build's (memoized) analyzer."""

    def __init__(self, analyzer: MemoAnalyzer):
        self.analyzer = analyzer
        self._tokens: cache.SharedCache[_Tokens] = cache.SharedCache(cache.SNIPPETS)
        self._marked: cache.SharedCache[str] = cache.SharedCache(cache.MARKED)

    def snippet(
        self,
        section: Section,
        terms: frozenset[str],
        maxchars: int = SNIPPET_MAXCHARS,
        phrases: frozenset[tuple[str, ...]] = frozenset(),
    ) -> str:
        """HTML: the best fragment with the terms (and whole phrases) in <mark>, else the
        text's head, escaped.

        A section's snippet depends only on which of the terms occur in it (and which
        phrases have all their words there): from a section's second snippet on, the
        snippet is cached under those, so queries that differ in words the section does
        not hold share it (two- and three-word queries mostly do)."""
        entry = self._tokens.get(section.id)
        if entry is None:
            entry = self._tokens.put(section.id, self._tokenize(section))
            return self._snippet(entry, terms, maxchars, phrases)
        positions = entry.positions
        if positions is None:
            # Snippeted again: index where each term occurs (a long section is then not
            # scanned token by token for every query).
            positions = entry.positions = token_positions(entry.tokens[0])
        terms = frozenset(filter(positions.__contains__, terms))
        if phrases:
            phrases = frozenset(p for p in phrases if all(map(positions.__contains__, p)))
        key = (section.id, maxchars, terms, phrases)
        return self._marked.get_or_compute(
            key, lambda: self._snippet(entry, terms, maxchars, phrases)
        )

    def _snippet(
        self, entry: _Tokens, terms: frozenset[str], maxchars: int, phrases: frozenset
    ) -> str:
        plain = entry.plain
        marked = (
            best_fragment(
                plain, entry.tokens, terms, maxchars, SNIPPET_SURROUND, phrases, entry.positions
            )
            if terms or phrases
            else ""
        )
        if marked:
            return marked.strip()
        head = plain[:maxchars]
        if len(plain) > maxchars:
            head = head.rsplit(" ", 1)[0] + " …"
        return html.escape(head, quote=False)

    def _tokenize(self, section: Section) -> _Tokens:
        plain = markdown_to_plain(section.text)
        return _Tokens(plain, highlight_tokens(plain, self.analyzer))


class _Tokens:
    """A section's plain text, its (terms, starts, ends), and once it is snippeted a second
    time where each term occurs (token_positions)."""

    __slots__ = ("plain", "tokens", "positions")

    def __init__(self, plain: str, tokens: tuple):
        self.plain = plain
        self.tokens = tokens
        self.positions: dict[str, list[int]] | None = None


def highlight_tokens(plain: str, analyzer) -> tuple[list[str], list[int], list[int]]:
    """(terms, starts, ends) of the tokens Whoosh's highlight() reads from `plain`.

    Whoosh stops at highlight.DEFAULT_CHARLIMIT; the end of the token it stops at still
    counts as the last end (a fragment still open then ends there).
    """
    if isinstance(analyzer, MemoAnalyzer):
        return analyzer.columns(plain, False, "query", highlight.DEFAULT_CHARLIMIT)
    texts, starts, ends = [], [], []
    for token in analyzer(plain, chars=True, removestops=False, mode="query"):
        if token.endchar > highlight.DEFAULT_CHARLIMIT:
            ends.append(token.endchar)  # Whoosh stops here; its last end counts
            break
        texts.append(token.text)
        starts.append(token.startchar)
        ends.append(token.endchar)
    return texts, starts, ends
