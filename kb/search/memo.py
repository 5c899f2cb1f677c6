"""The build's analyzer, memoized word by word (queries, snippets and section analysis)."""

from __future__ import annotations

import re
from itertools import accumulate

from whoosh.analysis import Token

from kb.analysis import WORD_RE, is_simple_word, simple_word_analysis
from kb.search import cache

# WORD_RE as one group: re.split gives the gaps and the words, alternately.
WORD_SPLIT_RE = re.compile(f"({WORD_RE.pattern})", WORD_RE.flags)


class MemoAnalyzer:
    """The analyzer's tokens for highlighting, analyzing each distinct word only once.

    The tokenizer and every filter work word by word, so a text's tokens are its words'
    tokens shifted to the word's offset; remembering them per word makes snippets cheap.
    The memo is a plain dict (reads take no lock; CPython's dict operations are atomic)
    that stops growing at cache.WORDS words: a section's words are looked up about a
    thousand times per search no cache has seen, and a locked least-recently-used cache
    cost more than the analysis it saved. A word new to the memo is analysed with the
    build's stems (`stems`), so it is not stemmed again either.
    """

    def __init__(self, analyzer, stems: dict[str, str] | None = None):
        self.analyzer = analyzer
        # A simple word (most words) is analysed without the analyzer's generator chain,
        # its stem looked up in the build's stems (kb.index.read_stems) when they are given;
        # the memo keeps that dict and adds new stems to it.
        stems = {} if stems is None else stems
        self._simple = simple_word_analysis(analyzer, stems, len(stems) + cache.WORDS)
        self.tokenizer = analyzer.items[0] if self._simple is not None else None
        self._words: dict[tuple[bool, str], dict[str, list[tuple]]] = {}
        self._whole: dict[tuple[bool, str], dict[str, str]] = {}
        self._terms: dict[str, tuple[str, ...]] = {}

    def _table(self, removestops: bool, mode: str) -> dict[str, list[tuple]]:
        """The memo of one way of analysing: word -> its tokens."""
        table = self._words.get((removestops, mode))
        if table is None:
            table = self._words.setdefault((removestops, mode), {})
        return table

    def _tokens(self, word: str, removestops: bool, mode: str, remember: bool = True) -> list:
        """(text, start, end, stopped) of each token of one word."""
        table = self._table(removestops, mode)
        tokens = table.get(word)
        if tokens is None:
            tokens = self._analyze(word, removestops, mode, table, remember)
        return tokens

    def _analyze(
        self, word: str, removestops: bool, mode: str, table: dict, remember: bool = True
    ) -> list[tuple]:
        simple = self._simple
        if simple is not None and is_simple_word(word):
            end = len(word)
            tokens = [
                (text, 0, end, stopped) for text, stopped in simple(word, removestops, remember)
            ]
        elif simple is not None:
            # A hyphenated word or one with an apostrophe: the tokenizer's parts (and joined
            # form) are simple words, each analysed as one (every filter works token by token).
            tokens = [
                (text, t.startchar, t.endchar, stopped)
                for t in self.tokenizer(word, chars=True, removestops=removestops, mode=mode)
                for text, stopped in simple(t.text, removestops, remember)
            ]
        else:
            tokens = [
                (t.text, t.startchar, t.endchar, t.stopped)
                for t in self.analyzer(word, chars=True, removestops=removestops, mode=mode)
            ]
        if remember and len(table) < cache.WORDS:
            table[word] = tokens
        return tokens

    def terms(self, value: str, remember: bool = True) -> list[str]:
        """The indexed terms of `value` (stop words removed), as the analyzer gives them.

        remember=False analyses words new to the memo without adding them (or their
        stems): two query words joined ("dbt" + "relapse") make a word no other search
        will ask for, and a server's long tail of them would fill the memo's room."""
        memo = self._terms
        out: list[str] = []
        for word in WORD_RE.findall(value):
            terms = memo.get(word)
            if terms is None:
                tokens = self._tokens(word, True, "", remember)
                terms = tuple(text for text, _s, _e, _stop in tokens)
                if remember and len(memo) < cache.WORDS:
                    memo[word] = terms
            out.extend(terms)
        return out

    def columns(
        self, value: str, removestops: bool, mode: str, charlimit: int
    ) -> tuple[list[str], list[int], list[int]]:
        """(texts, starts, ends) of the tokens of `value` (offsets into it), stopping at the
        first token that ends past `charlimit` (its end is still listed, as Whoosh's
        highlight counts it): what snippets read.

        A section's first snippet reads all its words, so this avoids a Python step per
        word where it can: one regex split gives the words, the running sum of the pieces'
        lengths their offsets, and a word that is one token from its first to its last
        character (most words) maps to its text in one dict lookup; words new to the memo
        and words of several tokens (hyphens, apostrophes) are filled in afterwards.
        """
        if len(value) > charlimit:  # a token may end past the limit: word by word
            return self._columns_by_word(value, removestops, mode, charlimit)
        parts = WORD_SPLIT_RE.split(value)  # [gap, word, gap, word, ..., gap]
        words = parts[1::2]
        bounds = list(accumulate(map(len, parts)))  # bounds[k]: where parts[k] ends
        starts = bounds[0:-1:2]
        ends = bounds[1::2]
        whole = self._whole_words(removestops, mode)
        texts = list(map(whole.get, words))
        if None in texts:
            self._fill(texts, starts, ends, words, whole, removestops, mode)
        return texts, starts, ends

    def _whole_words(self, removestops: bool, mode: str) -> dict[str, str]:
        """The memo of words that are one token spanning the whole word: word -> text."""
        table = self._whole.get((removestops, mode))
        if table is None:
            table = self._whole.setdefault((removestops, mode), {})
        return table

    def _fill(
        self,
        texts: list,
        starts: list[int],
        ends: list[int],
        words: list[str],
        whole: dict[str, str],
        removestops: bool,
        mode: str,
    ) -> None:
        """Complete columns() where `whole` had no text: analyse the word; a word of
        several tokens (or of a part) replaces its entry with its tokens (in place)."""
        table = self._table(removestops, mode)
        simple = self._simple
        several: list[tuple[int, list[tuple]]] = []
        for i in [i for i, text in enumerate(texts) if text is None]:
            word = words[i]
            if simple is not None and is_simple_word(word):
                # One token spanning the word, or none: a stop word being removed.
                analysed = simple(word, removestops)
                tokens: list[tuple] = []
                text = analysed[0][0] if analysed else None
            else:
                tokens = table.get(word)
                if tokens is None:
                    tokens = self._analyze(word, removestops, mode, table)
                spans = len(tokens) == 1 and tokens[0][1] == 0 and tokens[0][2] == len(word)
                text = tokens[0][0] if spans else None
            if text is None:
                several.append((i, tokens))
            else:
                texts[i] = text
                if len(whole) < cache.WORDS:
                    whole[word] = text
        for i, tokens in reversed(several):  # from the end, so earlier indexes hold
            offset = starts[i]
            texts[i : i + 1] = [text for text, _s, _e, _stop in tokens]
            starts[i : i + 1] = [offset + start for _t, start, _e, _stop in tokens]
            ends[i : i + 1] = [offset + end for _t, _s, end, _stop in tokens]

    def _columns_by_word(
        self, value: str, removestops: bool, mode: str, charlimit: int
    ) -> tuple[list[str], list[int], list[int]]:
        """columns() one word at a time, checking each token's end against `charlimit`."""
        table = self._table(removestops, mode)
        texts: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        for match in WORD_RE.finditer(value):
            word = match.group()
            tokens = table.get(word)
            if tokens is None:
                tokens = self._analyze(word, removestops, mode, table)
            offset = match.start()
            for text, start, end, _stopped in tokens:
                end += offset
                if end > charlimit:
                    ends.append(end)
                    return texts, starts, ends
                texts.append(text)
                starts.append(offset + start)
                ends.append(end)
        return texts, starts, ends

    def __call__(self, value, removestops=True, mode="", **_kwargs):
        """Tokens of `value` (with character offsets), as the analyzer would give them."""
        for match in WORD_RE.finditer(value):
            offset = match.start()
            for text, start, end, stopped in self._tokens(match.group(), removestops, mode):
                token = Token(chars=True, removestops=removestops, mode=mode)
                token.text, token.stopped, token.boost = text, stopped, 1.0
                token.startchar, token.endchar = offset + start, offset + end
                yield token
