"""kb.forward: the sections' terms a build stores for feedback and sentence matching, and
the stems a build stores for a server's analyzer memo.

What a server reads from a build must be exactly what analysing the section at search
time gives: the same terms in the same order with the same sentence numbers, after full,
parallel and incremental builds alike.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from kb.analysis import WORD_RE, default_analyzer
from kb.corpus import load_corpus
from kb.forward import FILES, TOKENS_FILE, read_forward, section_terms
from kb.index import STEMS_FILE, IndexNotFound, build_index, current_build, previous_build
from kb.search import KnowledgeBase
from kb.search.memo import MemoAnalyzer
from kb.taxonomy import load_taxonomy
from tests.helpers import cli_build, write_article

TRICKY = (
    "## The-End\n\nI'm self-harming. Don't stop! Patient's carers' co-occurring worries?\n\n"
    "The and of.\n\nBehaviour-Therapy behaviour therapy BEHAVIOUR\n\n"
    "- a list item\n- another: state-of-the-art care\n\n"
    "## Only stop words\n\nThe and of it.\n\n"
    "## Notes\n\nThe. The. Sleep is long... and sleep again?! Yes.\n"
    "Tabs.\tAfter a tab; e.g. this, a.b c, x?!y and end!\n\n   indented \u2014 next.\r\nLast\n"
)


def forward_by_section(build_dir) -> dict[str, tuple[list[str], list[int]]]:
    """section id -> (its terms as text, their sentence numbers), read from a build."""
    forward = read_forward(build_dir)
    data = json.loads((build_dir / "corpus.json").read_text(encoding="utf-8"))
    ids = [s["id"] for a in data for s in a["sections"]]
    assert len(forward) == len(ids)
    out = {}
    for row, section_id in enumerate(ids):
        tokens, sentences = forward.row(row)
        out[section_id] = ([forward.terms[t] for t in tokens], np.asarray(sentences).tolist())
    return out


def analysed(articles) -> dict[str, tuple[list[str], list[int]]]:
    """section id -> section_terms with the analyzer itself (the search-time computation)."""
    memo = MemoAnalyzer(default_analyzer())
    return {s.id: section_terms(s.title, s.text, memo.terms) for a in articles for s in a.sections}


@pytest.fixture
def corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_article(corpus, "tricky.md", TRICKY)
    write_article(corpus, "dbt.md", "## Skills\n\nDialectical behavior therapy teaches skills.\n")
    write_article(corpus, "sleep.md", "## Rest\n\nSleep hygiene. Insomnia and self-help.\n")
    return corpus


def test_section_terms_number_only_sentences_that_hold_a_term():
    memo = MemoAnalyzer(default_analyzer())
    terms, numbers = section_terms("Notes", "The. Sleep is long.\n\nThe and of.\nRest!", memo.terms)
    assert terms == ["note", "sleep", "long", "rest"]
    assert numbers == [0, 1, 1, 2]


def test_a_build_stores_each_sections_terms_as_analysing_them_gives(index_dir, shipped_articles):
    stored = forward_by_section(current_build(index_dir))
    assert stored == analysed(shipped_articles)
    forward = read_forward(current_build(index_dir))
    assert forward.terms == sorted(set(forward.terms))  # numbers are places in sorted terms
    assert forward.number("mentaliz") is not None and forward.number("zzzz") is None


def test_tricky_text_and_both_ways_of_indexing(corpus, tmp_path):
    articles = load_corpus(corpus)
    one = tmp_path / "one"
    two = tmp_path / "two"
    build_index(articles, one, workers=1)
    build_index(articles, two, workers=2)
    expected = analysed(articles)
    assert forward_by_section(current_build(one)) == expected
    assert forward_by_section(current_build(two)) == expected


def test_search_reads_the_stored_terms_and_answers_as_analysing(index_dir):
    """Feedback and sentence matching from the stored rows rank exactly as from analysis."""
    from kb.search.ranking import SectionAnalysis

    stored, analysing = (KnowledgeBase(current_build(index_dir)) for _ in range(2))
    try:
        assert stored.feedback.analysis.forward is not None
        analysis = SectionAnalysis(stored.feedback.analysis.analyzer, analysing.documents.section)
        analysing.feedback.analysis = analysing.sentence_match.analysis = analysis
        for query in ("dialectical behavior therapy", "feel empty and angry", "medication"):
            expected = analysing.search(query, limit=20)
            got = stored.search(query, limit=20)
            assert got.total == expected.total > 0
            assert [(h.section.id, h.score, h.snippet) for h in got.hits] == [
                (h.section.id, h.score, h.snippet) for h in expected.hits
            ]
    finally:
        stored.close()
        analysing.close()


@pytest.mark.parametrize("change", ["edit", "add", "delete", "rename"])
def test_an_incremental_build_stores_what_a_full_build_does(corpus, tmp_path, change):
    index = tmp_path / "index"
    cli_build(corpus, index)
    if change == "edit":
        write_article(corpus, "dbt.md", "## Skills\n\nDistress tolerance. Self-soothing!\n")
    elif change == "add":
        write_article(corpus, "panic.md", "## Panic\n\nPanic attacks and breathing.\n")
    elif change == "delete":
        (corpus / "sleep.md").unlink()
    else:
        (corpus / "sleep.md").rename(corpus / "rest.md")
    assert ": updated " in cli_build(corpus, index)  # incremental
    full = tmp_path / "full"
    cli_build(corpus, full, "--full")
    assert forward_by_section(current_build(index)) == forward_by_section(current_build(full))
    assert forward_by_section(current_build(index)) == analysed(load_corpus(corpus))


def test_a_build_without_stored_terms_is_rebuilt_in_full(corpus, tmp_path):
    index = tmp_path / "index"
    cli_build(corpus, index)
    assert previous_build(index, load_taxonomy()) is not None
    (current_build(index) / TOKENS_FILE).unlink()
    assert previous_build(index, load_taxonomy()) is None


def test_damaged_stored_terms_stop_opening_with_a_clear_error(corpus, tmp_path):
    index = tmp_path / "index"
    build_index(load_corpus(corpus), index, workers=1)
    (current_build(index) / TOKENS_FILE).write_bytes(b"not an array")
    with pytest.raises(IndexNotFound, match="unreadable section terms"):
        KnowledgeBase(current_build(index))
    assert set(FILES) <= {p.name for p in current_build(index).iterdir()}


def test_stored_stems_are_the_stemmers_and_seed_an_equal_analysis(index_dir, shipped_articles):
    from whoosh.lang import stemmer_for_language

    build = current_build(index_dir)
    stems = json.loads((build / STEMS_FILE).read_text(encoding="utf-8"))
    stem = stemmer_for_language("en")
    assert len(stems) > 500
    assert all(stem(text) == stemmed for text, stemmed in stems.items())
    analyzer = default_analyzer()
    seeded, plain = MemoAnalyzer(analyzer, stems), MemoAnalyzer(analyzer)
    texts = [TRICKY] + [s.text for a in shipped_articles for s in a.sections]
    for text in texts:
        assert seeded.terms(text) == plain.terms(text) == [t.text for t in analyzer(text)]
        expected = [
            (t.text, t.startchar, t.endchar)
            for t in analyzer(text, chars=True, removestops=False, mode="query")
        ]
        texts_, starts, ends = seeded.columns(text, False, "query", 10**9)
        assert list(zip(texts_, starts, ends, strict=True)) == expected
    words = {w for text in texts for w in WORD_RE.findall(text)}
    assert len(words) > 1000
