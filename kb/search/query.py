"""From the caller's text to a Whoosh query: words, corrections, phrases and expansions.

Plain text is the default: the query is analyzed word by word and the Whoosh query is built
directly, so quotes, colons, AND, * and brackets are only text and can never be a syntax
error. `syntax="advanced"` opts into Whoosh's query language for people who want it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from whoosh.qparser import MultifieldParser
from whoosh.query import NullQuery, Or, Phrase, Term

from kb.analysis import WORD_RE, contains_sequence, phrase_variants
from kb.errors import InvalidQuery
from kb.search.settings import PHRASE_FIELDS, TEXT_FIELDS, RankingSettings
from kb.search.spelling import SpellingCorrector
from kb.taxonomy import Taxonomy

# Per group of interchangeable expressions, each expression as its term-sequence variants.
ExpansionGroups = list[list[tuple[tuple[str, ...], ...]]]
FieldWeights = tuple[tuple[str, float], ...]


@dataclass
class ParsedQuery:
    """What kb made of the caller's text: the Whoosh query and the terms to highlight."""

    query: object
    highlight_terms: frozenset[str]
    corrected_text: str | None = None  # set when a word was replaced by a correction
    suggestion_text: str | None = None  # set when a correction would probably do better


@dataclass
class Word:
    """One query word: its lower-cased surface form and its analyzed terms (usually one)."""

    text: str
    terms: list[str]


def split_words(text: str, analyzer) -> list[Word]:
    """Query words; a hyphenated word counts as its parts, so "self-harm" = "self harm"."""
    words = []
    for match in WORD_RE.finditer(text):
        for piece in match.group().lower().split("-"):
            terms = [t.text for t in analyzer(piece)] if piece else []
            if terms:
                words.append(Word(piece, terms))
    return words


def analyze_expansion_groups(taxonomy: Taxonomy, analyzer) -> ExpansionGroups:
    """Per expansion group of the taxonomy, each expression as its term-sequence variants
    (see kb.analysis.phrase_variants); groups left with one expression are dropped."""
    groups = []
    for group in taxonomy.expansion_groups():
        analyzed = []
        for expression in group:
            variants = phrase_variants(expression, analyzer)
            if variants and variants not in analyzed:
                analyzed.append(variants)
        if len(analyzed) > 1:
            groups.append(analyzed)
    return groups


def term_query(term: str, field_weights: FieldWeights, boost: float = 1.0):
    """One analyzed term in every weighted text field, OR-ed, with an overall boost."""
    return Or([Term(f, term, boost=w) for f, w in field_weights], boost=boost)


class QueryParser:
    """Builds the Whoosh query of a text for one opened build.

    `analyzer` is the build's own (the one its schema stores), `reader` returns a Whoosh
    reader of the build (one per thread) for document frequencies.
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
        self.corrector = corrector
        self._reader = reader

    def words(self, text: str) -> list[Word]:
        """The query words of `text`, analyzed with the build's analyzer."""
        return split_words(text, self.analyzer)

    def doc_frequency(self, term: str) -> int:
        """Sections whose title or body holds the term (one count per field)."""
        reader = self._reader()
        return sum(reader.doc_frequency(f, term) for f in PHRASE_FIELDS)

    def _in_index(self, terms: tuple[str, ...]) -> bool:
        """Whether every term of an expression occurs somewhere (a cheap stand-in for a match)."""
        return all(self.doc_frequency(t) for t in terms)

    def _is_expansion_term(self, word: Word) -> bool:
        return any(
            (t,) in variants for t in word.terms for group in self.expansions for variants in group
        )

    def correct(
        self, words: list[Word], settings: RankingSettings
    ) -> tuple[list[Word], bool, bool]:
        """Replace unknown words by their closest known word; flag rare words worth suggesting.

        Returns (words, replaced_any, suggestion_better).
        """
        replaced = better = False
        corrected: list[Word] = []
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
                    corrected.extend(self.words(closest[0]))
                    replaced = True
                    continue
            elif 0 < frequency <= 1 and len(word.text) >= 5:
                closest = self.corrector.closest_word(word.text, max_distance=1)
                if closest and closest[1] >= 10 * frequency:
                    better = True
                    corrected.extend(self.words(closest[0]))
                    continue
            corrected.append(word)
        return corrected, replaced, better

    def parse(self, text: str, settings: RankingSettings, syntax: str = "plain") -> ParsedQuery:
        """The query for `text` under `settings`: each word (corrected if unknown), the
        words as a phrase, joined pairs ("self harm" -> "selfharm") and taxonomy expansions.

        `syntax="advanced"` parses Whoosh's query language instead (InvalidQuery if it
        cannot be parsed).
        """
        if syntax == "advanced":
            return self.parse_advanced(text)
        words = self.words(text)
        corrected, replaced, better = self.correct(words, settings)
        correction_text = " ".join(w.text for w in corrected) if (replaced or better) else None
        if replaced:
            words = corrected
        if not words:
            return ParsedQuery(NullQuery, frozenset())

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
            for joined in self.words(first.text + second.text):
                if not self.doc_frequency(joined.terms[0]):
                    continue
                joined_terms.update(joined.terms)
                clauses.append(term_query(joined.terms[0], weights, settings.joined_boost))
        highlight_terms = set(flat) | joined_terms
        haystacks = [flat, *([term] for term in joined_terms)]

        def in_query(variants) -> bool:
            return any(contains_sequence(h, v) for h in haystacks for v in variants)

        for group in self.expansions if settings.expansion_weight > 0 else ():
            typed = [variants for variants in group if in_query(variants)]
            if not typed:
                continue
            weight = settings.expansion_weight
            if not any(self._in_index(variants[0]) for variants in typed):
                weight = max(weight, settings.absent_word_expansion_weight)
            for variants in group:
                if variants not in typed:
                    clauses.append(_sequence_query(variants[0], weights, weight))
                    highlight_terms.update(variants[0])
        return ParsedQuery(
            Or(clauses),
            frozenset(highlight_terms),
            corrected_text=correction_text if replaced else None,
            suggestion_text=correction_text if better and not replaced else None,
        )

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

    @staticmethod
    def _word_query(word: Word, weights: FieldWeights):
        if len(word.terms) == 1:
            return term_query(word.terms[0], weights)
        return Or([term_query(t, weights) for t in word.terms])


def _sequence_query(terms: tuple[str, ...] | list[str], weights: FieldWeights, boost: float):
    if len(terms) == 1:
        return term_query(terms[0], weights, boost)
    return Or([Phrase(f, list(terms), slop=1) for f in PHRASE_FIELDS], boost=boost)
