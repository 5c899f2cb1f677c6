"""The build's analyzer, memoized word by word (queries, snippets and section analysis)."""

from __future__ import annotations

from whoosh.analysis import Token

from kb.analysis import WORD_RE, is_simple_word, simple_word_analysis
from kb.search import cache


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
        self._terms: dict[str, tuple[str, ...]] = {}

    def _table(self, removestops: bool, mode: str) -> dict[str, list[tuple]]:
        """The memo of one way of analysing: word -> its tokens."""
        table = self._words.get((removestops, mode))
        if table is None:
            table = self._words.setdefault((removestops, mode), {})
        return table

    def _tokens(self, word: str, removestops: bool, mode: str) -> list[tuple]:
        """(text, start, end, stopped) of each token of one word."""
        table = self._table(removestops, mode)
        tokens = table.get(word)
        if tokens is None:
            tokens = self._analyze(word, removestops, mode, table)
        return tokens

    def _analyze(self, word: str, removestops: bool, mode: str, table: dict) -> list[tuple]:
        simple = self._simple
        if simple is not None and is_simple_word(word):
            end = len(word)
            tokens = [(text, 0, end, stopped) for text, stopped in simple(word, removestops)]
        elif simple is not None:
            # A hyphenated word or one with an apostrophe: the tokenizer's parts (and joined
            # form) are simple words, each analysed as one (every filter works token by token).
            tokens = [
                (text, t.startchar, t.endchar, stopped)
                for t in self.tokenizer(word, chars=True, removestops=removestops, mode=mode)
                for text, stopped in simple(t.text, removestops)
            ]
        else:
            tokens = [
                (t.text, t.startchar, t.endchar, t.stopped)
                for t in self.analyzer(word, chars=True, removestops=removestops, mode=mode)
            ]
        if len(table) < cache.WORDS:
            table[word] = tokens
        return tokens

    def terms(self, value: str) -> list[str]:
        """The indexed terms of `value` (stop words removed), as the analyzer gives them."""
        memo = self._terms
        out: list[str] = []
        for word in WORD_RE.findall(value):
            terms = memo.get(word)
            if terms is None:
                terms = tuple(text for text, _s, _e, _stop in self._tokens(word, True, ""))
                if len(memo) < cache.WORDS:
                    memo[word] = terms
            out.extend(terms)
        return out

    def columns(
        self, value: str, removestops: bool, mode: str, charlimit: int
    ) -> tuple[list[str], list[int], list[int]]:
        """(texts, starts, ends) of the tokens of `value` (offsets into it), stopping at the
        first token that ends past `charlimit` (its end is still listed, as Whoosh's
        highlight counts it): what snippets read."""
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
