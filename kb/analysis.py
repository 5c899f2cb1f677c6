"""Text analysis shared by indexing, querying and topic assignment, so all three agree.

Why one module: if topic matching, the index and the query used different tokenizers,
"self-harm" could be a topic match but not a search match. Everything here is built from
Whoosh's analysis pipeline, so the same `Analyzer` object is what the index stores.

- Hyphenated words are indexed as their parts *and* joined ("self-harm" -> self, harm,
  selfharm), so "self-harm", "self harm" and "selfharm" all meet.
- Possessives are dropped ("client's" -> client).
- British spellings are mapped to US ones before stemming ("behaviour" -> "behavior",
  "mentalisation" -> "mentalization"); the map is data in kb/data/taxonomy.yaml, handed to
  `make_analyzer` (this module never reads it behind the caller's back).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

from whoosh.analysis import STOP_WORDS as WHOOSH_STOP_WORDS
from whoosh.analysis import (
    Filter,
    LowercaseFilter,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.lang import stemmer_for_language

from kb.taxonomy import Taxonomy, load_taxonomy

WORD_RE = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
POSSESSIVE_RE = re.compile(r"['’]s$")
# Sentence ends (". ", "? ", "! ") and line breaks: a heading, a list item and a paragraph's
# sentences are each a sentence (kb.forward, and sentence matching in kb.search.ranking).
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")
WORD_OR_BREAK_RE = re.compile(rf"({WORD_RE.pattern})|{SENTENCE_BREAK.pattern}", re.UNICODE)


def is_simple_word(word: str) -> bool:
    """A word the tokenizer gives as one token, itself: no hyphen, no apostrophe."""
    return "-" not in word and "'" not in word and "’" not in word


class HyphenAwareTokenizer(Tokenizer):
    """Words, with hyphenated compounds emitted as parts plus the joined form.

    `joiner` glues the parts of the joined form: "" for searching ("selfharm" and
    "self-harm" meet), "-" for the vocabulary that completions and corrections are drawn
    from, so people are offered "self-harm", the word as written, never "selfharm".
    """

    def __init__(self, joiner: str = ""):
        self.joiner = joiner

    def __eq__(self, other):
        return other.__class__ is self.__class__ and other.joiner == self.joiner

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kw,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kw)
        pos = start_pos

        def emit(text, startchar, endchar):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = pos
            if chars:
                token.startchar = start_char + startchar
                token.endchar = start_char + endchar
            return token

        for match in WORD_RE.finditer(value):
            word = match.group()
            if is_simple_word(word):
                # Most words: no hyphen or apostrophe, one token (the fast path of a build).
                yield emit(word, match.start(), match.end())
                pos += 1
                continue
            word = POSSESSIVE_RE.sub("", word)
            parts = [
                (re.sub(r"['’]", "", m.group()), match.start() + m.start(), match.start() + m.end())
                for m in re.finditer(r"[^-]+", word)
            ]
            for i, (part, startchar, endchar) in enumerate(parts):
                yield emit(part, startchar, endchar)
                if i == 0 and len(parts) > 1:
                    # The joined form shares the first part's position so phrases still work.
                    yield emit(self.joiner.join(p for p, _, _ in parts), startchar, parts[-1][2])
                pos += 1


class SpellingFilter(Filter):
    """Maps spelling variants to one preferred form (British -> US), before stemming."""

    def __init__(self, variants: dict[str, str]):
        self.variants = dict(variants)

    def __eq__(self, other):
        return other.__class__ is self.__class__ and other.variants == self.variants

    def __call__(self, tokens):
        variants = self.variants
        for token in tokens:
            token.text = variants.get(token.text, token.text)
            yield token


class StopFilterKeepingPositions(StopFilter):
    """Whoosh's StopFilter, but renumbering keeps tokens that share a position together.

    The plain filter renumbers every kept token to the next position, which moved a
    hyphenated word's joined form ("transferencefocused") into a position of its own and
    pushed the following parts one word further: "Transference-Focused Psychotherapy"
    then never matched the phrase "transference focused psychotherapy" (nor "TFP", which
    expands to it). Here positions still close up over removed stop words, as before.
    """

    def __init__(self, minsize=1, **kwargs):
        super().__init__(minsize=minsize, renumber=False, **kwargs)

    def __eq__(self, other):
        return other.__class__ is self.__class__ and self.__dict__ == other.__dict__

    def __call__(self, tokens):
        original = new = None
        for token in super().__call__(tokens):
            if token.positions and not token.stopped:
                if original is None:
                    original = new = token.pos
                elif token.pos != original:
                    original, new = token.pos, new + 1
                token.pos = new
            yield token


# Whoosh's stop list plus the pronouns, auxiliaries and question words that people put in
# questions about themselves ("what can I do about my ..."). In a clinic's first-person
# articles "I" and "my" are in nearly every section, so they neither rank nor deserve a
# highlight. Words that carry meaning in health questions (no, down, off, more, again,
# who/WHO) are deliberately not added; Whoosh's own list already drops "not".
STOP_WORDS = frozenset(WHOOSH_STOP_WORDS) | frozenset(
    """
    i me my myself mine our ours ourselves he him his himself she her hers herself they
    them their theirs themselves its itself what which whom whose how why where there
    these those am was were been being has had having do does did doing would should
    could shall might must about into than then so just also im ive
    get gets getting got actually really anyone someone somebody something anything
    thing things lot lots kind sort ok okay please thanks dont cant isnt doesnt wont
    didnt youre theyre shes hes whats thats
""".split()
)


def make_analyzer(
    spellings: Mapping[str, str] | None = None,
    stems: Mapping[str, str] | None = None,
    *,
    stem: bool = True,
    stopwords: bool = True,
):
    """The analyzer for body, title and breadcrumb fields (and for queries against them).

    `spellings` maps variants to one preferred spelling (British -> US) and `stems` fixes
    words Porter would stem badly; both come from the taxonomy (see `analyzer_for`).
    """
    analyzer = HyphenAwareTokenizer() | LowercaseFilter() | SpellingFilter(spellings or {})
    if stopwords:
        analyzer = analyzer | StopFilterKeepingPositions(minsize=1, stoplist=STOP_WORDS)
    if stem:
        # Porter would stem "mentalization" to "mental"; the taxonomy's stem overrides fix such
        # words to a stem of their own, and the stemmer leaves those stems alone.
        overrides = dict(stems or {})
        analyzer = (
            analyzer
            | SpellingFilter(overrides)
            | StemFilter(lang="en", ignore=set(overrides.values()), cachesize=50000)
        )
    return analyzer


def vocabulary_analyzer(spellings: Mapping[str, str] | None = None):
    """Unstemmed words with hyphens kept, for spelling correction and completions."""
    return HyphenAwareTokenizer(joiner="-") | LowercaseFilter() | SpellingFilter(spellings or {})


def vocabulary_words(text: str, spellings: Mapping[str, str] | None = None) -> set[str]:
    """The set of words `vocabulary_analyzer(spellings)` gives for `text`, computed per
    distinct word (a build counts each section's words once, for spelling and completions)."""
    return VocabularyWords(spellings)(WORD_RE.findall(text))


class VocabularyWords:
    """vocabulary_words() of a text given as its words (WORD_RE's matches, in any order,
    repeats allowed), each distinct word worked out once per instance: a build collects a
    section's words while it analyses the section (PositionedTerms), instead of scanning
    its text a second time."""

    def __init__(self, spellings: Mapping[str, str] | None = None):
        self.spellings = spellings or {}
        self.tokenizer = HyphenAwareTokenizer(joiner="-")
        self._parts: dict[str, tuple[str, ...]] = {}

    def __call__(self, words: Iterable[str]) -> set[str]:
        out: set[str] = set()
        known = self._parts
        for word in set(words):
            parts = known.get(word)
            if parts is None:
                parts = known[word] = self._word(word)
            out.update(parts)
        return out

    def _word(self, word: str) -> tuple[str, ...]:
        if is_simple_word(word):
            parts = [word.lower()]
        else:
            parts = [t.text.lower() for t in self.tokenizer(word)]
        return tuple(self.spellings.get(part, part) for part in parts)


@lru_cache(maxsize=16)
def analyzer_for(taxonomy: Taxonomy, *, stem: bool = True, stopwords: bool = True):
    """The analyzer made from a taxonomy's spelling and stem tables (cached per taxonomy)."""
    return make_analyzer(taxonomy.spellings, taxonomy.stems, stem=stem, stopwords=stopwords)


def default_analyzer():
    """The analyzer of the packaged taxonomy: for tools and tests, never for a build.

    A build's own analyzer is pickled in its Whoosh schema and read from there.
    """
    return analyzer_for(load_taxonomy())


def analyze(text: str, analyzer=None) -> list[str]:
    """The index terms of a text, in order (default: the packaged taxonomy's analyzer)."""
    analyzer = analyzer or default_analyzer()
    return [t.text for t in analyzer(text)]


def analyze_words(text: str, analyzer=None) -> list[list[str]]:
    """Terms per original word (a hyphenated word gives several), for query building."""
    analyzer = analyzer or default_analyzer()
    groups: list[list[str]] = []
    for match in WORD_RE.finditer(text):
        terms = [t.text for t in analyzer(match.group())]
        if terms:
            groups.append(terms)
    return groups


def phrase_variants(expression: str, analyzer=None) -> tuple[tuple[str, ...], ...]:
    """Term sequences that count as an occurrence of `expression` in analyzed text.

    A hyphenated expression is looked for both as separate words and joined, which finds
    "self-harm", "self harm" and "selfharm" alike (analyzed text holds parts and joined form).
    """
    analyzer = analyzer or default_analyzer()
    variants = []
    for form in (expression.replace("-", " "), expression.replace("-", "")):
        terms = tuple(t.text for t in analyzer(form))
        if terms and terms not in variants:
            variants.append(terms)
    return tuple(variants)


def contains_sequence(haystack: list[str] | tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    first = needle[0] if needle else None
    return any(
        haystack[i] == first and tuple(haystack[i : i + n]) == needle
        for i in range(len(haystack) - n + 1)
    )


def simple_word_analysis(
    analyzer, stems: dict[str, str] | None = None, limit: int | None = None
) -> Callable[[str, bool], tuple[tuple[str, bool], ...]] | None:
    """For an analyzer made by make_analyzer (tokenizer, lower case, spellings, stop words,
    stem overrides, stemmer): a function giving what it gives for one simple word
    (is_simple_word), as ((term, stopped),) or () for a removed stop word, without the
    chain of generators. None for an analyzer of any other make-up.

    The filters' own tables, stop rules and stemmer are used, so the function cannot drift
    from the analyzer; tests compare the two on every word of the corpora.

    The stemmer's results are memoized in a plain dict, `stems` (text -> stem; a new one
    if None), which the function keeps as its `stems` attribute: a build stores its
    words' stems (kb.index, stems.json) and a server seeds its memo with them, so a
    section's words are never stemmed again at search time (Whoosh's snowball stemmer
    is pure Python, about 20 microseconds a word). New stems are added while the memo
    has fewer than `limit` entries (None: no limit), and unless the call says
    remember=False (a word made up for one query, such as two query words joined).
    """
    items = getattr(analyzer, "items", None)
    kinds = (
        HyphenAwareTokenizer,
        LowercaseFilter,
        SpellingFilter,
        StopFilterKeepingPositions,
        SpellingFilter,
        StemFilter,
    )
    if items is None or len(items) != len(kinds):
        return None
    if not all(type(item) is kind for item, kind in zip(items, kinds, strict=True)):
        return None
    _, _, spellings, stop, overrides, stemmer = items
    variants, fixes = spellings.variants, overrides.variants
    stops, minsize, maxsize = stop.stops, stop.min, stop.max
    ignore = stemmer.ignore
    # The function StemFilter wraps in its cache (StemFilter.clear chooses it the same way).
    stem = stemmer_for_language(stemmer.lang) if stemmer.lang else stemmer.stemfn
    memo: dict[str, str] = {} if stems is None else stems
    known = memo.get

    def analyze(
        word: str, removestops: bool = True, remember: bool = True
    ) -> tuple[tuple[str, bool], ...]:
        text = word.lower()
        text = variants.get(text, text)
        stopped = (
            len(text) < minsize or (maxsize is not None and len(text) > maxsize) or text in stops
        )
        if stopped and removestops:
            return ()
        text = fixes.get(text, text)
        if not stopped and text not in ignore:
            stemmed = known(text)
            if stemmed is None:
                stemmed = stem(text)
                if remember and (limit is None or len(memo) < limit):
                    memo[text] = stemmed
            text = stemmed
        return ((text, stopped),)

    analyze.stems = memo
    return analyze


class PositionedTerms:
    """(term, position) of texts exactly as `analyzer(text, positions=True)` gives them,
    each distinct word analysed once: what a build hands to topic assignment and Whoosh.

    Every filter of the analyzer works token by token, and a word's tokens are the
    tokenizer's parts of it (a hyphenated word: its parts, the joined form at the first
    part's position), so a word's terms and their positions relative to the word are
    remembered. Only the renumbering over removed stop words (StopFilterKeepingPositions:
    the first kept token keeps its position, each later new position is one more) depends
    on the words around, and is done here. A build's words recur thousands of times; the
    analyzer's chain of generators costs more than a lookup.
    """

    def __init__(self, analyzer, stems: dict[str, str] | None = None):
        self.analyzer = analyzer
        self.tokenizer = analyzer.items[0]
        self._simple = simple_word_analysis(analyzer, stems)
        self._words: dict[str, tuple[tuple[tuple[str, int], ...], int]] = {}

    @property
    def stems(self) -> dict[str, str]:
        """The stems of the simple words analysed so far (text -> stem; with the `stems`
        it was given): what a build stores for the servers' memo."""
        return self._simple.stems if self._simple is not None else {}

    def _word(self, word: str) -> tuple[tuple[tuple[str, int], ...], int]:
        """The kept (term, position in the word) of one word, and how many positions it
        takes (its parts, stop words included)."""
        if is_simple_word(word):  # one token: most words
            if self._simple is not None:
                return tuple((term, 0) for term, _stopped in self._simple(word)), 1
            return tuple((term.text, 0) for term in self.analyzer(word)), 1
        kept = []
        width = 0
        for token in self.tokenizer(word, positions=True):
            width = max(width, token.pos + 1)
            # Each part (and the joined form) is a simple word: one token of its own.
            if self._simple is not None:
                kept.extend((term, token.pos) for term, _stopped in self._simple(token.text))
            else:
                kept.extend((term.text, token.pos) for term in self.analyzer(token.text))
        return tuple(kept), width

    def __call__(
        self, text: str, sentences: list[int] | None = None, seen: set[str] | None = None
    ) -> list[tuple[str, int]]:
        """(term, position) of every term of `text`. With `sentences`, the number of terms
        of each of its sentences that holds one (pieces between SENTENCE_BREAKs) is
        appended to that list, in order: what kb.forward stores. With `seen`, the text's
        words (WORD_RE's matches) are added to that set (see VocabularyWords)."""
        words = self._words
        out: list[tuple[str, int]] = []
        base = 0  # the tokenizer's position at the start of the word
        last = new = -1  # the last kept token's position before and after renumbering
        if sentences is None:
            items = WORD_RE.findall(text)
        else:
            # Words and breaks in one scan (a break gives ""; a last one ends the text).
            # Breaks are white space and words hold none, so both are what they are apart.
            items = WORD_OR_BREAK_RE.findall(text)
            items.append("")
        if seen is not None:
            seen.update(items)
            seen.discard("")
        before = 0
        for word in items:
            if not word:
                if len(out) > before:
                    sentences.append(len(out) - before)
                    before = len(out)
                continue
            entry = words.get(word)
            if entry is None:
                entry = words[word] = self._word(word)
            kept, width = entry
            for term, offset in kept:
                position = base + offset
                if new < 0:
                    last = new = position
                elif position != last:
                    last, new = position, new + 1
                out.append((term, new))
            base += width
        return out


class AnalyzedText(str):
    """A field value whose analysis a build has done already: the text, with its
    (term, position) list in `terms`, which `ReplayAnalyzer` hands to Whoosh as tokens."""

    terms: list[tuple[str, int]]

    def __new__(cls, text: str, terms: list[tuple[str, int]]):
        value = super().__new__(cls, text)
        value.terms = terms
        return value


class ReplayAnalyzer:
    """Wraps a field's analyzer while a build writes: an `AnalyzedText` value is replayed
    from its terms instead of being analysed a second time; any other value is analysed.

    Only for the writer's copy of the schema during a build (see kb.index): the schema
    stored in the index keeps the real analyzer, which queries use.
    """

    def __init__(self, analyzer):
        self.analyzer = analyzer

    def __call__(self, value, positions=False, boosts=False, **kwargs):
        if not isinstance(value, AnalyzedText):
            yield from self.analyzer(value, positions=positions, boosts=boosts, **kwargs)
            return
        token = Token(positions, removestops=True)
        token.boost = 1.0
        token.stopped = False
        for text, pos in value.terms:
            token.text = text
            token.pos = pos
            yield token
