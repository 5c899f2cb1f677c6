"""From the caller's text to a Whoosh query: words, corrections, phrases and expansions.

Plain text is the default: the query is analyzed word by word and the Whoosh query is built
directly, so quotes, colons, AND, * and brackets are only text and can never be a syntax
error. `syntax="advanced"` opts into Whoosh's query language for people who want it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh.qparser import MultifieldParser
from whoosh.query import NullQuery, Or, Phrase, Term

from kb.analysis import WORD_RE, contains_sequence, phrase_variants
from kb.errors import InvalidQuery
from kb.lexicon import ENGLISH_ZIPF, zipf
from kb.models import Correction, Expansion, Interpretation
from kb.search import cache
from kb.search.memo import MemoAnalyzer
from kb.search.settings import PHRASE_FIELDS, TEXT_FIELDS, RankingSettings
from kb.search.spelling import SpellingCorrector
from kb.taxonomy import Taxonomy

# Per group of interchangeable expressions, each expression as (its text, its term-sequence
# variants).
ExpansionGroups = list[list[tuple[str, tuple[tuple[str, ...], ...]]]]
FieldWeights = tuple[tuple[str, float], ...]


@dataclass
class ParsedQuery:
    """What kb made of the caller's text: the Whoosh query and the terms to highlight.

    `interpretation` says, as data, what was done to the text (kb.models.Interpretation):
    corrections, expansions, words ignored and words dropped from a long query.
    """

    query: object
    highlight_terms: frozenset[str]
    corrected_text: str | None = None  # set when a word was replaced by a correction
    suggestion_text: str | None = None  # set when a correction would probably do better
    interpretation: Interpretation = field(default_factory=Interpretation)
    # Multi-word synonyms, marked only where all their words occur together.
    highlight_phrases: frozenset[tuple[str, ...]] = frozenset()


@dataclass
class Word:
    """One query word: its lower-cased surface form and its analyzed terms (usually one)."""

    text: str
    terms: list[str]


# A real English word the articles do not contain is left alone unless the correction is
# this much more common (Zipf units: 2.5 is about 300 times): "whale" never becomes
# "while", "reduction" never becomes "rejection".
FAR_RARER = 2.5


def split_words(
    text: str, analyzer, ignored: list[str] | None = None, remember: bool = True
) -> list[Word]:
    """Query words; a hyphenated word counts as its parts, so "self-harm" = "self harm".

    Words the analyzer drops (stop words such as "how", "my", "the") are appended to
    `ignored` when it is given. A MemoAnalyzer analyzes each distinct word once (unless
    remember=False: words made up for one query).
    """
    analyze = (
        (lambda piece: analyzer.terms(piece, remember))
        if isinstance(analyzer, MemoAnalyzer)
        else lambda piece: [t.text for t in analyzer(piece)]
    )
    words = []
    for match in WORD_RE.finditer(text):
        for piece in match.group().lower().split("-"):
            terms = analyze(piece) if piece else []
            if terms:
                words.append(Word(piece, terms))
            elif piece and ignored is not None and piece not in ignored:
                ignored.append(piece)
    return words


def analyze_expansion_groups(taxonomy: Taxonomy, analyzer) -> ExpansionGroups:
    """Per expansion group of the taxonomy, each expression as its term-sequence variants
    (see kb.analysis.phrase_variants); groups left with one expression are dropped."""
    groups = []
    for group in taxonomy.expansion_groups():
        analyzed: list[tuple[str, tuple]] = []
        for expression in group:
            variants = phrase_variants(expression, analyzer)
            if variants and all(variants != v for _, v in analyzed):
                analyzed.append((expression, variants))
        if len(analyzed) > 1:
            groups.append(analyzed)
    return groups


def term_query(term: str, field_weights: FieldWeights, boost: float = 1.0):
    """One analyzed term in every weighted text field, OR-ed, with an overall boost."""
    return Or([Term(f, term, boost=w) for f, w in field_weights], boost=boost)


class QueryParser:
    """Builds the Whoosh query of a text for one opened build.

    `analyzer` is the build's own (the one its schema stores; a MemoAnalyzer of it is
    fastest), `reader` returns a Whoosh reader of the build (one per thread) for document
    frequencies.
    """

    def __init__(
        self,
        schema,
        analyzer,
        expansions: ExpansionGroups,
        corrector: SpellingCorrector,
        reader: Callable[[], object],
    ):
        self.schema = schema
        self.analyzer = analyzer
        self.expansions = expansions
        # The groups (by index) having a variant that starts with a term: a group can only
        # occur in a query holding one of its variants' first terms, so a query looks at
        # the groups of its own terms only (most have none).
        self._groups_of_first: dict[str, list[int]] = {}
        for i, group in enumerate(expansions):
            for first in dict.fromkeys(v[0] for _, variants in group for v in variants if v):
                self._groups_of_first.setdefault(first, []).append(i)
        self._one_word_variants = frozenset(
            v[0] for group in expansions for _, variants in group for v in variants if len(v) == 1
        )
        self.corrector = corrector
        self._reader = reader
        self._frequencies: cache.Memo[int] = cache.Memo(cache.FREQUENCIES)
        self._present: cache.Memo[bool] = cache.Memo(cache.FREQUENCIES)
        self._expansion_clauses: cache.Memo = cache.Memo(cache.FREQUENCIES)
        self._group_additions: cache.Memo = cache.Memo(cache.FREQUENCIES)
        # Joined pairs recur ("self harm", "eating disorder") but most are one query's own:
        # a least-recently-used cache, so they never crowd out real words.
        self._joined = functools.lru_cache(maxsize=cache.JOINED)(self._joined_clauses)

    def words(self, text: str) -> list[Word]:
        """The query words of `text`, analyzed with the build's analyzer."""
        return split_words(text, self.analyzer)

    def doc_frequency(self, term: str, remember: bool = True) -> int:
        """Sections whose title or body holds the term (one count per field), cached: a
        query asks for its words, their expansions and joined forms, over and over.
        remember=False counts a term made up for one query without keeping it."""
        if remember:
            return self._frequencies.get_or_compute(term, lambda: self._count(term))
        known = self._frequencies.get(term)
        return self._count(term) if known is None else known

    def _count(self, term: str) -> int:
        reader = self._reader()
        return sum(reader.doc_frequency(f, term) for f in PHRASE_FIELDS)

    def _in_index(self, terms: tuple[str, ...]) -> bool:
        """Whether every term of an expression occurs somewhere (a cheap stand-in for a
        match); remembered per expression (the taxonomy's, a fixed set)."""
        return self._present.get_or_compute(
            terms, lambda: all(self.doc_frequency(t) for t in terms)
        )

    def _is_expansion_term(self, word: Word) -> bool:
        return any(t in self._one_word_variants for t in word.terms)

    def cap(self, words: list[Word], limit: int) -> tuple[list[Word], list[str]]:
        """At most `limit` words: the most informative ones, in the order typed.

        A pasted letter can hold hundreds of words; ranking all of them costs time and adds
        little. Words are kept by rarity in the articles (fewest sections first). A word in
        no section counts as rarest when it is an English word or names a taxonomy
        expression ("zoom" expands to telehealth), and as least informative otherwise
        (names, codes, garbage). The others are dropped and reported.
        """
        if len(words) <= limit:
            return words, []

        def rarity(item: tuple[int, Word]) -> tuple[float, int]:
            i, word = item
            frequency = sum(self.doc_frequency(t) for t in word.terms)
            if frequency:
                return frequency, i
            if zipf(word.text) >= ENGLISH_ZIPF or self._is_expansion_term(word):
                return 0.5, i
            return float("inf"), i

        ranked = sorted(enumerate(words), key=rarity)
        keep = {i for i, _ in ranked[:limit]}
        dropped = [w.text for i, w in enumerate(words) if i not in keep]
        return [w for i, w in enumerate(words) if i in keep], dropped

    def correct(
        self, words: list[Word], settings: RankingSettings
    ) -> tuple[list[Word], bool, bool, list[Correction]]:
        """Replace unknown words by their closest known word; flag rare words worth suggesting.

        A word that is a real English word (kb.lexicon) is never replaced: at most, when the
        correction is far more common in English, it is offered as a did-you-mean.
        Returns (words, replaced_any, suggestion_better, corrections).
        """
        replaced = better = False
        corrected: list[Word] = []
        corrections: list[Correction] = []
        for word in words:
            if (
                len(word.text) < settings.correction_min_length
                or not word.text.isalpha()
                or self._is_expansion_term(word)
            ):
                corrected.append(word)
                continue
            terms = word.terms
            frequency = sum(self.doc_frequency(t) for t in terms) if terms else 0
            if frequency == 0 and terms:
                long_word = len(word.text) >= settings.correction_distance_two_length
                closest = self.corrector.closest_word(word.text, max_distance=2 if long_word else 1)
                if closest:
                    english = zipf(word.text)
                    if english < ENGLISH_ZIPF:
                        corrected.extend(self.words(closest[0]))
                        corrections.append(Correction(word.text, closest[0], applied=True))
                        replaced = True
                        continue
                    if zipf(closest[0]) - english >= FAR_RARER:
                        corrected.extend(self.words(closest[0]))
                        corrections.append(Correction(word.text, closest[0], applied=False))
                        better = True
                        continue
            elif 0 < frequency <= 1 and len(word.text) >= 5:
                closest = self.corrector.closest_word(word.text, max_distance=1)
                if (
                    closest
                    and closest[1] >= 10 * frequency
                    and zipf(closest[0]) - zipf(word.text) >= FAR_RARER
                ):
                    better = True
                    corrected.extend(self.words(closest[0]))
                    corrections.append(Correction(word.text, closest[0], applied=False))
                    continue
            corrected.append(word)
        return corrected, replaced, better, corrections

    def parse(self, text: str, settings: RankingSettings, syntax: str = "plain") -> ParsedQuery:
        """The query for `text` under `settings`: each word (corrected if unknown), the
        words as a phrase, joined pairs ("self harm" -> "selfharm") and taxonomy expansions.

        `syntax="advanced"` parses Whoosh's query language instead (InvalidQuery if it
        cannot be parsed).
        """
        if syntax == "advanced":
            return self.parse_advanced(text)
        ignored: list[str] = []
        words, dropped = self.cap(split_words(text, self.analyzer, ignored), settings.max_words)
        corrected, replaced, better, corrections = self.correct(words, settings)
        correction_text = " ".join(w.text for w in corrected) if (replaced or better) else None
        if replaced:
            # Only applied corrections change the query; a suggestion leaves the word as typed.
            applied = {c.word: c.replacement for c in corrections if c.applied}
            words = [w2 for w in words for w2 in self._applied(w, applied)]
        if not words:
            return ParsedQuery(
                NullQuery,
                frozenset(),
                interpretation=Interpretation(ignored=tuple(ignored), dropped=tuple(dropped)),
            )

        weights = settings.field_weights()
        clauses = [self._word_query(w, weights) for w in words]
        flat = [t for w in words for t in w.terms]
        if 1 < len(flat) <= settings.phrase_max_terms and settings.phrase_boost > 0:
            clauses.append(
                Or(
                    [Phrase(f, flat, slop=settings.phrase_slop) for f in PHRASE_FIELDS],
                    boost=settings.phrase_boost,
                )
            )
        joined_terms = set()
        pairs = zip(words, words[1:], strict=False) if settings.joined_boost > 0 else ()
        for first, second in pairs:
            # "self harm" also finds "selfharm" (and "self-harm", indexed joined too).
            for terms, clause in self._joined(
                first.text + second.text, weights, settings.joined_boost
            ):
                joined_terms.update(terms)
                clauses.append(clause)
        highlight_terms = set(flat) | joined_terms
        query_terms = set(flat) | joined_terms

        def in_query(variants) -> bool:
            """Whether the query holds a variant: a one-term variant as a word or a joined
            pair, a longer one as a run of the words."""
            for variant in variants:
                if len(variant) == 1:
                    if variant[0] in query_terms:
                        return True
                elif variant and variant[0] in query_terms and contains_sequence(flat, variant):
                    return True
            return False

        expansions: list[Expansion] = []
        highlight_phrases: set[tuple[str, ...]] = set()
        groups_of = self._groups_of_first
        candidates = sorted({i for t in query_terms if t in groups_of for i in groups_of[t]})
        for i in candidates if settings.expansion_weight > 0 else ():
            group = self.expansions[i]
            typed = tuple(j for j, (_e, variants) in enumerate(group) if in_query(variants))
            if not typed:
                continue
            key = (
                i,
                typed,
                weights,
                settings.expansion_weight,
                settings.absent_word_expansion_weight,
            )
            added = self._group_additions.get_or_compute(
                key, lambda key=key: self._group_expansion(*key)
            )
            clauses.extend(added[0])
            highlight_terms.update(added[1])
            highlight_phrases.update(added[2])
            expansions.extend(added[3])
        return ParsedQuery(
            Or(clauses),
            frozenset(highlight_terms),
            highlight_phrases=frozenset(highlight_phrases),
            corrected_text=correction_text if replaced else None,
            suggestion_text=correction_text if better and not replaced else None,
            interpretation=Interpretation(
                corrections=tuple(corrections),
                expansions=tuple(expansions),
                ignored=tuple(ignored),
                dropped=tuple(dropped),
            ),
        )

    def _group_expansion(
        self,
        i: int,
        typed: tuple[int, ...],
        weights: FieldWeights,
        expansion_weight: float,
        absent_weight: float,
    ) -> tuple[tuple, frozenset[str], frozenset[tuple[str, ...]], tuple[Expansion, ...]]:
        """What expansion group `i` adds to a query that holds its expressions `typed` (by
        index): (clauses, terms to mark, phrases to mark, Expansions), one clause per other
        expression. It depends on nothing else, so parse() keeps it per group and `typed`."""
        group = self.expansions[i]
        typed_variants = [group[j][1] for j in typed]
        weight = expansion_weight
        if not any(self._in_index(variants[0]) for variants in typed_variants):
            weight = max(weight, absent_weight)
        clauses = []
        terms: set[str] = set()
        phrases: set[tuple[str, ...]] = set()
        expansions = []
        for expression, variants in group:
            if all(variants != v for v in typed_variants):
                clauses.append(self._expansion_query(variants[0], weights, weight))
                for variant in variants:
                    # A synonym is what the person meant, so it is marked; the words of a
                    # longer one ("loved one") only together, never "one" alone.
                    if len(variant) == 1:
                        terms.update(variant)
                    else:
                        phrases.add(variant)
                if self._in_index(variants[0]):
                    expansions.append(Expansion(group[typed[0]][0], expression))
        return tuple(clauses), frozenset(terms), frozenset(phrases), tuple(expansions)

    def _joined_clauses(
        self, joined_text: str, weights: FieldWeights, boost: float
    ) -> tuple[tuple[list[str], object], ...]:
        """(terms, clause) of each word of two query words joined that some section holds
        (usually one word, or none), analysed and counted without remembering them in the
        memos kept for real words; cached by `_joined`."""
        return tuple(
            (joined.terms, term_query(joined.terms[0], weights, boost))
            for joined in split_words(joined_text, self.analyzer, remember=False)
            if self.doc_frequency(joined.terms[0], remember=False)
        )

    def _applied(self, word: Word, applied: dict[str, str]) -> list[Word]:
        """The word, or the words of its applied correction."""
        return self.words(applied[word.text]) if word.text in applied else [word]

    def parse_advanced(self, text: str) -> ParsedQuery:
        """Whoosh's query language over the text fields; InvalidQuery on bad syntax."""
        parser = MultifieldParser(list(TEXT_FIELDS), self.schema)
        try:
            query = parser.parse(text)
        except Exception as exc:  # Whoosh raises assorted errors on odd syntax
            raise InvalidQuery(f"could not parse the advanced query: {exc}") from None
        terms = frozenset(
            t for f, t in query.iter_all_terms() if f in TEXT_FIELDS and isinstance(t, str)
        )
        return ParsedQuery(query, terms)

    def _expansion_query(self, terms: tuple[str, ...], weights: FieldWeights, boost: float):
        """The clause of a taxonomy expression, made once per expression and weights
        (Whoosh's query objects are never changed once made; the ranker only reads them)."""
        return self._expansion_clauses.get_or_compute(
            (terms, weights, boost), lambda: _sequence_query(terms, weights, boost)
        )

    @staticmethod
    def _word_query(word: Word, weights: FieldWeights):
        if len(word.terms) == 1:
            return term_query(word.terms[0], weights)
        return Or([term_query(t, weights) for t in word.terms])


def _sequence_query(terms: tuple[str, ...] | list[str], weights: FieldWeights, boost: float):
    if len(terms) == 1:
        return term_query(terms[0], weights, boost)
    return Or([Phrase(f, list(terms), slop=1) for f in PHRASE_FIELDS], boost=boost)
