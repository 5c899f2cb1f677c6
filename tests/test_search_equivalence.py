"""kb.search's fast paths give exactly what Whoosh itself gives.

- The term-at-a-time Ranker scores every matching document as Whoosh's own search does
  (searcher.search(query, limit=None) with the same BM25F weighting object).
- best_fragment is whoosh.highlight.highlight(text, terms, analyzer,
  ContextFragmenter(maxchars, surround), MarkFormatter(), top=1), character for character.

Both are checked on the shipped corpus and on a sample of a public collection (NFCorpus,
tests/data/nfcorpus/, see its README).
"""

from __future__ import annotations

import heapq
import json
import random
from pathlib import Path

import numpy as np
import pytest
from whoosh import highlight, scoring
from whoosh.query import Or, Phrase, Term
from whoosh.searching import Searcher

from kb.corpus import load_corpus
from kb.importer import import_jsonl
from kb.index import build_index, current_build
from kb.search import KnowledgeBase
from kb.search.memo import MemoAnalyzer
from kb.search.ranking import (
    SMALL,
    LuceneIdfBM25F,
    Ranker,
    _sum_by_term,
    body_term_weights,
    sentence_probe,
    top_of,
)
from kb.search.reader import StoredReader
from kb.search.snippets import (
    SNIPPET_MAXCHARS,
    SNIPPET_SURROUND,
    MarkFormatter,
    Snippets,
    best_fragment,
    highlight_tokens,
    markdown_to_plain,
    token_positions,
)
from tests.helpers import whoosh_reference

NFCORPUS = Path(__file__).parent / "data" / "nfcorpus"

SHIPPED_QUERIES = [
    "can I see my therapist over zoom instead of going in",
    "happy pills for bpd, do they actually work",
    "therapy",
    "mentalization",
    "skills",
    "BPD",
    "meds",
    "online",
    "self harm",
    "self-harm",
    "phone coaching",
    "phone coaching policy",
    "what is mentalisation based therapy",
    "my daughter has BPD what can parents do",
    "family crisis plan",
    "teletherapy",
    "medicaton",
    "dialectical behavior therapy skills groups",
]

ADVANCED_QUERIES = [
    "ther*",
    "sk?ll*",
    "title:skill* AND body:phone",
    '"phone coaching"~3 OR medic*',
    "therapy NOT dialectical",
    "(famili* OR parent*) AND (crisis OR risk)",
    "title:[a TO d]",
    "body:diet AND vitamin*",
    '"heart disease"~2',
]


@pytest.fixture(scope="module")
def nfcorpus_kb(tmp_path_factory):
    """The NFCorpus sample imported with kb's JSON Lines importer and built into an index."""
    root = tmp_path_factory.mktemp("nfcorpus")
    import_jsonl(NFCORPUS / "corpus.jsonl", root / "corpus")
    build_index(load_corpus(root / "corpus"), root / "index")
    kb = KnowledgeBase(current_build(root / "index"))
    yield kb
    kb.close()


@pytest.fixture(scope="module")
def nfcorpus_queries() -> list[str]:
    with (NFCORPUS / "queries.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line in lines if line.strip()]


# -- ranking ---------------------------------------------------------------------------------


def _weightings(kb: KnowledgeBase):
    settings = kb.ranking
    return [
        LuceneIdfBM25F(B=settings.b, K1=settings.k1),
        scoring.BM25F(B=settings.b, K1=settings.k1),  # RankingSettings(idf="whoosh")
    ]


def _queries(kb: KnowledgeBase, texts: list[str]) -> list:
    """Whoosh queries of every kind kb builds, plus hand-made ones with boosts and phrases."""
    queries = []
    for text in texts:
        parsed = kb.parse(text)
        if parsed.query is None or not hasattr(parsed.query, "subqueries"):
            continue
        queries.append(parsed.query)  # words, joined pairs, phrase, expansions
        queries.extend(parsed.query.subqueries)  # each clause alone
        for term in sorted(parsed.highlight_terms):
            queries.append(Term("body", term))  # single terms
            queries.append(Term("title", term, boost=0.4))
        terms = sorted(parsed.highlight_terms)
        if len(terms) > 1:
            queries.append(
                Or(
                    [Term(f, t, boost=w) for t in terms for f, w in (("title", 0.4), ("body", 1))],
                    boost=0.7,
                )
            )
            queries.append(Phrase("body", terms[:2], slop=3))
    # Whoosh's query language (syntax="advanced"): prefixes, wildcards, ranges of terms,
    # fields, AND/NOT and phrases with slop, all matched by Whoosh's own matchers.
    for text in ADVANCED_QUERIES:
        queries.append(kb.parse(text, syntax="advanced").query)
    # Feedback queries: OR-ed weighted terms of the top sections.
    for text in texts[:4]:
        parsed = kb.parse(text)
        scores = kb._ranker().scores(parsed.query)
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:10]
        feedback = kb.feedback.query(best, parsed.query, kb.ranking)
        if feedback is not None:
            queries.append(feedback)
    return queries


def _assert_ranker_matches_whoosh(kb: KnowledgeBase, texts: list[str], reference) -> int:
    """Every query's scores: the Ranker's (on kb's postings) == Whoosh's own search on
    `reference` (whoosh_reference: Whoosh indexed every field) == Whoosh's own search
    reading kb's postings through kb.search.reader."""
    queries = _queries(kb, texts)
    compared = 0
    for weighting in _weightings(kb):
        with (
            reference.searcher(weighting=weighting) as theirs,
            Searcher(StoredReader(kb.ix.reader(), kb._stored), weighting=weighting) as ours,
        ):
            ranker = Ranker(ours, kb.ranking.k1, kb.ranking.b, kb._stored)
            for query in queries:
                got = ranker.scores(query)
                expected = {hit.docnum: hit.score for hit in theirs.search(query, limit=None)}
                assert set(got) == set(expected), query
                assert got == {d: pytest.approx(s, rel=1e-9) for d, s in expected.items()}, query
                via_reader = {hit.docnum: hit.score for hit in ours.search(query, limit=None)}
                assert via_reader == expected, query
                compared += len(expected)
    return compared


def test_ranker_scores_equal_whoosh_search_on_the_shipped_corpus(kb, tmp_path):
    reference = whoosh_reference(kb, tmp_path / "reference")
    assert _assert_ranker_matches_whoosh(kb, SHIPPED_QUERIES, reference) > 1000


def test_ranker_scores_equal_whoosh_search_on_nfcorpus(nfcorpus_kb, nfcorpus_queries, tmp_path):
    texts = nfcorpus_queries + ["vitamin", "breast cancer", "heart disease risk", "diet"]
    reference = whoosh_reference(nfcorpus_kb, tmp_path / "reference")
    assert _assert_ranker_matches_whoosh(nfcorpus_kb, texts, reference) > 1000


def _reference_feedback_terms(kb: KnowledgeBase, best, query) -> list[tuple[str, float]]:
    """Feedback terms computed the plain way: a dict summed document by document, then
    heapq.nlargest (which keeps the first seen of equal weights first)."""
    settings = kb.ranking
    total = sum(score for _, score in best)
    in_query = {text for _field, text in query.iter_all_terms()}
    weights: dict[str, float] = {}
    for docnum, score in best:
        section = kb.documents.section(docnum)
        counts: dict[str, int] = {}
        for term in kb.feedback.analysis.analyzer.terms(f"{section.title}\n{section.text}"):
            counts[term] = counts.get(term, 0) + 1
        length = sum(counts.values())
        for term, count in counts.items():
            if term not in in_query:
                weights[term] = weights.get(term, 0.0) + count / length * (score / total)
    chosen = heapq.nlargest(settings.feedback_terms, weights.items(), key=lambda i: i[1])
    return [(t, settings.feedback_weight * w / chosen[0][1]) for t, w in chosen]


@pytest.mark.parametrize("which", ["shipped", "nfcorpus"])
def test_feedback_terms_and_scores_equal_the_plain_computation(
    which, kb, nfcorpus_kb, nfcorpus_queries
):
    """Feedback's array sums pick the same terms with the same weights, ties in the same
    order, as a dict and heapq do; and its scores are those of the feedback query."""
    kb, texts = (kb, SHIPPED_QUERIES) if which == "shipped" else (nfcorpus_kb, nfcorpus_queries)
    ranker = kb._ranker()
    checked = 0
    for text in texts:
        parsed = kb.parse(text)
        scores = ranker.scores(parsed.query)
        if not scores:
            continue
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        best = best[: kb.ranking.feedback_docs]
        chosen = kb.feedback.terms(best, parsed.query, kb.ranking)
        assert chosen == _reference_feedback_terms(kb, best, parsed.query), text
        fields = kb.ranking.field_weights()
        direct = ranker.term_scores(chosen, fields)
        through_query = ranker.accumulate(kb.feedback.query(best, parsed.query, kb.ranking))[0]
        assert direct.tolist() == through_query.tolist(), text
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("span", [50, 5_000, 500_000])  # dense and sparse term numbers
def test_sums_by_term_equal_numpys_unique_and_bincount(span):
    rng = np.random.default_rng(span)
    for size in (1, 2, 10, 700, 7_000):
        ids = rng.integers(0, span, size).astype(np.intp)
        values = rng.random(size)
        unique, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        got = _sum_by_term(ids, values)
        assert got[0].tolist() == unique.tolist()
        assert got[1].tolist() == first.tolist()
        assert got[2].tolist() == np.bincount(inverse, weights=values).tolist()


@pytest.mark.parametrize("size", [1, 5, SMALL, SMALL + 1, 300])  # Python's sort, then numpy's
def test_top_scores_equal_a_full_sort(size):
    """top_of gives the n best (docnum, score) as sorting every pair by score, then docnum,
    would: through Python's sort for a few scores and numpy's partition for more, ties
    (many here: scores drawn from a few values) in docnum order either way."""
    rng = np.random.default_rng(size)
    for _ in range(20):
        ids = np.sort(rng.choice(10 * size, size, replace=False)).astype(np.intp)
        values = rng.integers(0, 4, size) * 0.25 + rng.choice([0.0, 1e-9], size)
        expected = sorted(
            zip(ids.tolist(), values.tolist(), strict=True), key=lambda p: (-p[1], p[0])
        )
        for n in (1, 3, 10, size - 1, size, size + 5):
            assert top_of(ids, values, n) == expected[: max(n, 0)], (size, n)


@pytest.mark.parametrize("which", ["shipped", "nfcorpus"])
def test_best_sentence_equals_the_plain_computation(which, kb, nfcorpus_kb, nfcorpus_queries):
    """Sentence matching's slices of sorted (term, sentence) pairs give each section's best
    sentence sum as a loop over its tokens does, added in the query terms' order."""
    kb, texts = (kb, SHIPPED_QUERIES) if which == "shipped" else (nfcorpus_kb, nfcorpus_queries)
    ranker = kb._ranker()
    analysis = kb.sentence_match.analysis
    checked = 0
    for text in texts:
        parsed = kb.parse(text)
        values = {
            t: w * ranker.searcher.idf("body", t)
            for t, w in body_term_weights(parsed.query).items()
        }
        scores = ranker.scores(parsed.query)
        best = sorted(scores, key=lambda d: (-scores[d], d))[: kb.ranking.sentence_candidates]
        for docnum in best:
            terms = analysis(docnum)
            term_ids = [analysis.table.number(t) for t in values]
            sums: dict[int, float] = {}
            pairs = list(zip(terms.tokens.tolist(), terms.sentences.tolist(), strict=True))
            for term, value in zip(term_ids, values.values(), strict=True):
                for sentence in sorted({s for t, s in pairs if t == term}):
                    sums[sentence] = sums.get(sentence, 0) + value
            expected = max(sums.values(), default=0.0)
            probe = sentence_probe(term_ids)
            assert terms.best_sentence(probe, list(values.values())) == expected, text
            checked += expected > 0
    assert checked >= 10


# -- snippets --------------------------------------------------------------------------------

SIZES = [(SNIPPET_MAXCHARS, SNIPPET_SURROUND), (100, 20), (60, 10), (400, 150), (30, 70)]


def _term_sets(kb: KnowledgeBase, texts: list[str], plain: str, rng: random.Random):
    """Query highlight terms, and the section's own terms (one, a few, many, all)."""
    sets = [kb.parse(text).highlight_terms for text in texts]
    own = sorted({t.text for t in kb.analyzer(plain, removestops=False, mode="query")})
    if own:
        sets.append(frozenset(own))
        for size in (1, 2, 3, 8):
            sets.append(frozenset(rng.sample(own, min(size, len(own)))))
    return [s for s in sets if s]


def _assert_fragments_match_whoosh(kb: KnowledgeBase, texts: list[str]) -> int:
    rng = random.Random(20240611)
    memo = MemoAnalyzer(kb.analyzer)
    compared = 0
    for section in kb.sections.values():
        plain = markdown_to_plain(section.text)
        tokens = highlight_tokens(plain, memo)
        where = token_positions(tokens[0])
        for terms in _term_sets(kb, texts, plain, rng):
            for maxchars, surround in SIZES:
                expected = highlight.highlight(
                    plain,
                    terms,
                    kb.analyzer,
                    highlight.ContextFragmenter(maxchars=maxchars, surround=surround),
                    MarkFormatter(),
                    top=1,
                )
                got = best_fragment(plain, tokens, terms, maxchars, surround)
                assert got == expected, (section.id, sorted(terms), maxchars, surround)
                indexed = best_fragment(plain, tokens, terms, maxchars, surround, positions=where)
                assert indexed == expected, (section.id, sorted(terms), maxchars, surround)
                compared += 1
    return compared


def test_best_fragment_equals_whoosh_highlight_on_the_shipped_corpus(kb):
    assert _assert_fragments_match_whoosh(kb, SHIPPED_QUERIES) > 500


def test_best_fragment_equals_whoosh_highlight_on_nfcorpus(nfcorpus_kb, nfcorpus_queries):
    assert _assert_fragments_match_whoosh(nfcorpus_kb, nfcorpus_queries[:8]) > 5000


def test_best_fragment_past_whoosh_character_limit(kb):
    """Text longer than Whoosh's character limit: tokens past it are never highlighted."""
    section = next(iter(kb.sections.values()))
    plain = " ".join([markdown_to_plain(section.text)] * 4)
    plain = (plain + " ") * (highlight.DEFAULT_CHARLIMIT // max(len(plain), 1) + 2)
    tail_word = "zzyzx"
    plain = plain + tail_word + " therapy " + tail_word
    tokens = highlight_tokens(plain, kb.analyzer)
    for terms in (frozenset({tail_word}), frozenset({"therapi", tail_word})):
        expected = highlight.highlight(
            plain,
            terms,
            kb.analyzer,
            highlight.ContextFragmenter(maxchars=SNIPPET_MAXCHARS, surround=SNIPPET_SURROUND),
            MarkFormatter(),
            top=1,
        )
        assert best_fragment(plain, tokens, terms, SNIPPET_MAXCHARS, SNIPPET_SURROUND) == expected


@pytest.mark.parametrize("build", ["shipped", "nfcorpus"])
def test_related_sections_read_alike_from_kbs_postings(build, kb, nfcorpus_kb, tmp_path):
    """Whoosh's more_like (related sections: key terms by frequency, then a top-5 search)
    gives the same documents and scores reading kb's postings as on Whoosh's own index."""
    kb = kb if build == "shipped" else nfcorpus_kb
    reference = whoosh_reference(kb, tmp_path / "reference")
    ours = kb.searcher()
    compared = 0
    with reference.searcher(weighting=ours.weighting) as theirs:
        for section in list(kb.sections.values())[:300]:
            hits = []
            for searcher in (ours, theirs):
                docnum = searcher.document_number(id=section.id)
                found = searcher.more_like(
                    docnum, "body", text=section.text or section.title, top=5, numterms=12
                )
                hits.append([(hit.docnum, hit.score) for hit in found])
            assert hits[0] == hits[1], section.id
            compared += len(hits[1])
    assert compared > 40


def test_cached_snippets_equal_snippets_computed_afresh(kb):
    """From a section's second snippet on, the snippet is cached under the terms and whole
    phrases the section holds: whatever else a query holds (words the section lacks,
    phrases it does not complete), the cached snippet is the one computed afresh."""
    rng = random.Random(11)
    analyzer = kb.snippets.analyzer
    absent = ["zebra", "quantum", "xylophon"]
    compared = 0
    for section in kb.sections.values():
        own = analyzer.terms(section.text)
        if len(own) < 4:
            continue
        for _ in range(25):
            terms = frozenset(rng.sample(own, 2) + rng.sample(absent, 1))
            at = rng.randrange(len(own) - 1)
            phrases = frozenset(
                [tuple(own[at : at + 2]), (own[at], "zebra"), tuple(rng.sample(own, 2))]
            )
            for maxchars in (SNIPPET_MAXCHARS, 80):
                expected = Snippets(analyzer).snippet(section, terms, maxchars, phrases)
                assert kb.snippets.snippet(section, terms, maxchars, phrases) == expected
                assert kb.snippets.snippet(section, terms | {"quantum"}, maxchars, phrases) == (
                    expected
                )
                compared += 1
    assert compared > 200
