"""Crisis detection: a query about self-harm, suicide or a crisis gets a notice with resources.

People type these words when they, or someone close to them, may be in danger. The notice
is shown whatever the results are. Its text is configuration (a clinic sets its own
numbers); the default is a neutral message that is right everywhere.

What counts as a crisis query is reviewed data, kb/data/crisis.yaml (phrases, slang aliases
and exceptions), compared with the query as that file's header describes: stemmed, with
reflexive pronouns merged, a word of slack inside phrases and typo tolerance that never
mistakes an English word for a misspelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import yaml
from rapidfuzz.distance import DamerauLevenshtein
from whoosh.lang.porter import stem as porter_stem

from kb.config import DEFAULT_CRISIS_MESSAGE as DEFAULT_MESSAGE
from kb.config import DEFAULT_CRISIS_TITLE as DEFAULT_TITLE
from kb.lexicon import is_english_word
from kb.models import Notice

DEFAULT_CRISIS_DATA = Path(__file__).parent / "data" / "crisis.yaml"

_WORD = re.compile(r"[a-z0-9@$]+(?:'[a-z]+)*")
_LEET = str.maketrans({"1": "i", "3": "e", "0": "o", "4": "a", "5": "s", "@": "a", "$": "s"})
_REFLEXIVE = frozenset(
    "myself himself herself themselves themself yourself yourselves ourselves oneself".split()
)
_SELF = "<self>"
_GAP = 1  # other words allowed between two words of a phrase


class CrisisDataError(ValueError):
    """The crisis phrase data breaks its format; str() says where."""


class Word(NamedTuple):
    """One word of a query or phrase: its stem, and the surface form it came from.

    A named tuple, not a frozen dataclass: every search hashes and compares its words
    against the phrase vocabulary, and a tuple does that in C."""

    stem: str
    surface: str
    exact: bool = False  # a phrase word written "=word": surface match only

    @property
    def squeezed(self) -> str:
        """The stem with doubled letters as one ("kill" -> "kil")."""
        return _squeeze(self.stem)


@dataclass(frozen=True)
class CrisisData:
    """The reviewed phrase data: category -> phrases, aliases and exceptions, analyzed."""

    phrases: tuple[tuple[str, tuple[Word, ...]], ...]  # (category, words)
    exceptions: tuple[tuple[Word, ...], ...]
    aliases: dict[str, str]
    reviewed_by: str
    vocabulary: frozenset[Word] = frozenset()  # every distinct word of phrases and exceptions
    # First word -> the indexes of the phrases (and of the exceptions) starting with it: a
    # query is compared only with the phrases whose first word it has.
    phrase_starts: dict[Word, tuple[int, ...]] = field(default_factory=dict, compare=False)
    exception_starts: dict[Word, tuple[int, ...]] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class CrisisSettings:
    title: str = DEFAULT_TITLE
    message: str = DEFAULT_MESSAGE
    resources: tuple[dict, ...] = ()  # e.g. {"name": "Clinic crisis line", "phone": "..."}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Porter stem of a word, remembered (every search checks its words)."""
    return porter_stem(word)


@lru_cache(maxsize=65536)
def _squeeze(word: str) -> str:
    """Doubled letters as one ("kill" -> "kil"), so a dropped double letter is no typo."""
    return re.sub(r"(.)\1+", r"\1", word)


def words_of(text: str, aliases: dict[str, str] | None = None) -> list[Word]:
    """The comparable words of a text (steps 1-4 of crisis.yaml's header)."""
    aliases = aliases or {}
    raw = []
    for token in _WORD.findall(text.lower().replace("’", "'")):
        if any(c.isdigit() or c in "@$" for c in token) and any(c.isalpha() for c in token):
            token = token.translate(_LEET)
        expanded = aliases.get(token)
        raw.extend(expanded.split() if expanded else [token.replace("'", "")])
    words: list[Word] = []
    i = 0
    while i < len(raw):
        token = raw[i]
        if token in ("my", "him", "her", "them", "your", "our") and i + 1 < len(raw):
            if raw[i + 1] in ("self", "selves"):
                token, i = _SELF, i + 1
        if token in _REFLEXIVE:
            token = _SELF
        words.append(Word(stem=token if token == _SELF else stem(token), surface=token))
        i += 1
    return words


def _phrase_words(phrase: str) -> tuple[Word, ...]:
    out = []
    for token in phrase.lower().split():
        exact = token.startswith("=")
        (word,) = words_of(token.lstrip("=")) or [None]
        if word is None:
            raise CrisisDataError(f"phrase {phrase!r}: {token!r} is not a word")
        out.append(Word(word.stem, word.surface, exact))
    return tuple(out)


def parse_crisis_data(data: dict) -> CrisisData:
    """Validate crisis data (as read from YAML) and analyze its phrases."""
    if not isinstance(data, dict):
        raise CrisisDataError("the crisis data must be a mapping")
    unknown = set(data) - {"phrases", "exceptions", "aliases", "reviewed_by", "reviewed"}
    if unknown:
        raise CrisisDataError(f"unknown keys {sorted(unknown)}")
    if not data.get("reviewed_by"):
        raise CrisisDataError("reviewed_by is required: who reviewed these phrases")
    categories = data.get("phrases")
    if not isinstance(categories, dict) or not categories:
        raise CrisisDataError("phrases must map categories to lists of phrases")
    phrases = []
    for category, items in categories.items():
        if not isinstance(items, list) or not all(isinstance(p, str) for p in items):
            raise CrisisDataError(f"phrases.{category} must be a list of strings")
        phrases.extend((str(category), _phrase_words(p)) for p in items)
    exceptions = data.get("exceptions") or []
    if not isinstance(exceptions, list) or not all(isinstance(p, str) for p in exceptions):
        raise CrisisDataError("exceptions must be a list of strings")
    aliases = data.get("aliases") or {}
    if not isinstance(aliases, dict):
        raise CrisisDataError("aliases must map a word to words")
    analyzed_exceptions = tuple(_phrase_words(p) for p in exceptions)
    return CrisisData(
        phrases=tuple(phrases),
        exceptions=analyzed_exceptions,
        phrase_starts=_starts(p for _, p in phrases),
        exception_starts=_starts(analyzed_exceptions),
        vocabulary=frozenset(w for _, p in phrases for w in p)
        | frozenset(w for p in analyzed_exceptions for w in p),
        aliases={str(k).lower(): str(v).lower() for k, v in aliases.items()},
        reviewed_by=str(data["reviewed_by"]),
    )


def _starts(phrases: Iterable[tuple[Word, ...]]) -> dict[Word, tuple[int, ...]]:
    """First word -> the indexes of the phrases that start with it."""
    starts: dict[Word, list[int]] = {}
    for i, phrase in enumerate(phrases):
        if phrase:
            starts.setdefault(phrase[0], []).append(i)
    return {word: tuple(indexes) for word, indexes in starts.items()}


@lru_cache(maxsize=4)
def load_crisis_data(path: str | Path | None = None) -> CrisisData:
    """The crisis data at `path`, else the packaged kb/data/crisis.yaml (cached per path)."""
    path = Path(path or DEFAULT_CRISIS_DATA)
    with open(path, encoding="utf-8") as handle:
        return parse_crisis_data(yaml.safe_load(handle) or {})


def _misspelt(typed: str, wanted: str) -> bool:
    """Whether `typed` reads as a typo of `wanted` (one edit, two from 9 letters on)."""
    if len(wanted) < 4 or typed[:1] != wanted[:1]:
        return False
    allowed = 2 if len(wanted) >= 9 else 1
    return DamerauLevenshtein.distance(typed, wanted, score_cutoff=allowed) <= allowed


def _occurrences(matches: list[tuple[set, set]], phrase: tuple[Word, ...], typos: bool):
    """(first, last) word indexes of each occurrence of `phrase` (steps 5 and 6).

    `matches[i]` holds the phrase words that query word i equals and those it is a typo of.
    """
    n = len(matches)
    for start in range(n):
        exact, close = matches[start]
        budget = 1 if typos else 0
        if phrase[0] in exact:
            pass
        elif budget and phrase[0] in close:
            budget -= 1
        else:
            continue
        position, ok = start, True
        for wanted in phrase[1:]:
            for candidate in range(position + 1, min(n, position + 2 + _GAP)):
                exact, close = matches[candidate]
                if wanted in exact:
                    position = candidate
                    break
                if budget and wanted in close:
                    budget -= 1
                    position = candidate
                    break
            else:
                ok = False
                break
        if ok:
            yield start, position


@lru_cache(maxsize=65536)
def _word_match(word: Word, vocabulary: frozenset[Word]) -> tuple[frozenset, frozenset]:
    """The phrase words `word` equals, and those it reads as a typo of (cached per word)."""
    squeezed = word.squeezed
    exact = frozenset(
        v for v in vocabulary if (v.surface == word.surface if v.exact else v.squeezed == squeezed)
    )
    if word.surface == _SELF or is_english_word(word.surface):
        return exact, frozenset()  # an English word is never a typo of another
    close = frozenset(
        v
        for v in vocabulary
        if v not in exact
        and not v.exact
        and v.surface != _SELF
        and (_misspelt(word.surface, v.surface) or _misspelt(word.stem, v.stem))
    )
    return exact, close


def _word_matches(words: list[Word], vocabulary: frozenset[Word]) -> list[tuple]:
    """Per query word: the phrase words it equals, and those it reads as a typo of."""
    return [_word_match(word, vocabulary) for word in words]


def crisis_matches(query: str, data: CrisisData | None = None) -> list[tuple[str, str]]:
    """(category, phrase) of every phrase of the crisis data that the query matches."""
    data = data or load_crisis_data()
    words = words_of(query, data.aliases)
    if not words:
        return []
    matches = _word_matches(words, data.vocabulary)
    # Every phrase word some query word equals or reads as a typo of: a phrase (or an
    # exception) with a word outside this set cannot occur, and is not looked for.
    seen = frozenset().union(*(exact | close for exact, close in matches))
    masked: set[int] = set()
    for i in sorted(i for word in seen for i in data.exception_starts.get(word, ())):
        exception = data.exceptions[i]
        if not seen.issuperset(exception):
            continue
        for first, last in _occurrences(matches, exception, typos=False):
            masked.update(range(first, last + 1))
    found = []
    for i in sorted(i for word in seen for i in data.phrase_starts.get(word, ())):
        category, phrase = data.phrases[i]
        if not seen.issuperset(phrase):
            continue
        for first, last in _occurrences(matches, phrase, typos=True):
            if not masked.intersection(range(first, last + 1)):
                found.append((category, " ".join(w.surface for w in phrase)))
                break
    return found


def is_crisis_query(query: str, data: CrisisData | None = None) -> bool:
    """Whether the query should carry the crisis notice."""
    return bool(crisis_matches(query, data))


def crisis_notices(query: str, settings: CrisisSettings | None = None) -> tuple[Notice, ...]:
    if not is_crisis_query(query):
        return ()
    settings = settings or CrisisSettings()
    return (
        Notice(
            kind="crisis",
            title=settings.title,
            message=settings.message,
            resources=tuple(settings.resources),
        ),
    )
