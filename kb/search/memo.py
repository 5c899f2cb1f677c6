"""The build's analyzer, memoized word by word (queries, snippets and section analysis)."""

from __future__ import annotations

from whoosh.analysis import Token

from kb.analysis import WORD_RE
from kb.search import cache


class MemoAnalyzer:
    """The analyzer's tokens for highlighting, analyzing each distinct word only once.

    The tokenizer and every filter work word by word, so a text's tokens are its words'
    tokens shifted to the word's offset; remembering them per word makes snippets cheap.
    The memo is a plain dict (reads take no lock; CPython's dict operations are atomic)
    that stops growing at cache.WORDS words: a section's words are looked up about a
    thousand times per search no cache has seen, and a locked least-recently-used cache
    cost more than the analysis it saved.
    """

    def __init__(self, analyzer):
        self.analyzer = analyzer
        self._words: dict[tuple[str, bool, str], list[tuple]] = {}
        self._terms: dict[str, tuple[str, ...]] = {}

    def _tokens(self, word: str, removestops: bool, mode: str) -> list[tuple]:
        """(text, start, end, stopped) of each token of one word."""
        key = (word, removestops, mode)
        tokens = self._words.get(key)
        if tokens is None:
            tokens = [
                (t.text, t.startchar, t.endchar, t.stopped)
                for t in self.analyzer(word, chars=True, removestops=removestops, mode=mode)
            ]
            if len(self._words) < cache.WORDS:
                self._words[key] = tokens
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

    def spans(self, value: str, removestops: bool = True, mode: str = "") -> list[tuple]:
        """(text, start, end) of every token of `value`, offsets into `value`."""
        out: list[tuple] = []
        for match in WORD_RE.finditer(value):
            offset = match.start()
            for text, start, end, _stopped in self._tokens(match.group(), removestops, mode):
                out.append((text, offset + start, offset + end))
        return out

    def __call__(self, value, removestops=True, mode="", **_kwargs):
        """Tokens of `value` (with character offsets), as the analyzer would give them."""
        for match in WORD_RE.finditer(value):
            offset = match.start()
            for text, start, end, stopped in self._tokens(match.group(), removestops, mode):
                token = Token(chars=True, removestops=removestops, mode=mode)
                token.text, token.stopped, token.boost = text, stopped, 1.0
                token.startchar, token.endchar = offset + start, offset + end
                yield token
