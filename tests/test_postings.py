"""kb.postings: the title and body postings a build stores, read instead of Whoosh's.

Every term's docnums and weights read from the stored arrays must be exactly what Whoosh's
postings give, after full, parallel and incremental builds (where deleted documents and
appended ones leave docnums out of row order), and searches must answer alike either way.
"""

from __future__ import annotations

import numpy as np
import pytest

from kb.corpus import load_corpus
from kb.forward import Forward, read_forward
from kb.index import IndexNotFound, build_index, current_build
from kb.postings import FILES, invert, read_postings_store, update
from kb.search import KnowledgeBase
from kb.search.ranking import read_postings
from tests.helpers import cli_build, whoosh_reference, write_article

QUERIES = (
    "dialectical behavior therapy",
    "feel empty and angry",
    "medication",
    '"phone coaching"',
    "self-harm skills sleep",
)


def whoosh_weights(reader, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
    """A term's (docnums, weights) as Whoosh's own postings give them."""
    ids, weights = (
        read_postings(reader.postings(field, term)) if (field, term) in reader else ([], [])
    )
    return np.array(ids, dtype=np.intp), np.array(weights, dtype=np.float64)


def assert_stored_equal_whoosh(build_dir, tmp_path) -> int:
    """Every term of the title and body fields: what kb's postings and its Whoosh reader
    (kb.search.reader) give == what Whoosh gives when it indexes the fields itself.
    Returns terms compared."""
    kb = KnowledgeBase(build_dir)
    reference = whoosh_reference(kb, tmp_path / f"reference-{build_dir.name}")
    try:
        stored, ours, theirs = kb._stored, kb._reader(), reference.reader()
        assert stored is not None
        terms = kb.feedback.analysis.forward.terms
        compared = 0
        for field in ("title", "body"):
            assert list(ours.lexicon(field)) == list(theirs.lexicon(field)), field
            assert ours.field_length(field) == theirs.field_length(field), field
            # (Whoosh gives None for a document without the field, kb's reader 0.)
            assert [ours.doc_field_length(d, field) for d in range(ours.doc_count_all())] == [
                theirs.doc_field_length(d, field) or 0 for d in range(theirs.doc_count_all())
            ], field
            for term in [*terms, "zzzz-no-such-term"]:
                docnums, weights = stored.weights(field, term)
                expected_docnums, expected_weights = whoosh_weights(theirs, field, term)
                assert np.array_equal(docnums, expected_docnums), (field, term)
                assert np.array_equal(weights, expected_weights), (field, term)
                assert ((field, term) in ours) == ((field, term) in theirs), (field, term)
                for ask in ("doc_frequency", "frequency"):
                    assert getattr(ours, ask)(field, term) == getattr(theirs, ask)(field, term)
                if (field, term) in theirs:
                    got, expected = ours.postings(field, term), theirs.postings(field, term)
                    assert list(got.items_as("positions")) == list(
                        expected.items_as("positions")
                    ), (field, term)
                compared += 1
        return compared
    finally:
        kb.close()
        reference.close()


@pytest.fixture
def corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_article(
        corpus,
        "dbt.md",
        "## Skills Skills\n\nDialectical behavior therapy teaches skills. Skills again.\n\n"
        "## Phone coaching\n\nPhone coaching between sessions; coaching by phone.\n",
    )
    write_article(corpus, "sleep.md", "## Rest\n\nSleep hygiene. Insomnia and self-help.\n")
    write_article(corpus, "harm.md", "## Self-harm\n\nSelf-harm and skills for the urge.\n")
    return corpus


def test_invert_counts_each_term_per_section_in_title_and_body():
    # Rows: "skill skill | skill therapi" (title of 2) and "therapi | skill" (title of 1).
    forward = Forward(
        ["skill", "therapi"],
        np.array([0, 0, 0, 1, 1, 0], dtype=np.int32),
        np.zeros(6, dtype=np.int32),
        np.array([0, 4, 6]),
        np.array([2, 1], dtype=np.int32),
        np.array([0, 1, 0, 1, 0, 0], dtype=np.int32),
    )
    postings = invert(forward)
    assert [a.tolist() for a in postings.get("title", 0)] == [[0], [2]]
    assert [a.tolist() for a in postings.get("title", 1)] == [[1], [1]]
    assert [a.tolist() for a in postings.get("body", 0)] == [[0, 1], [1, 1]]
    assert [a.tolist() for a in postings.get("body", 1)] == [[0], [1]]
    assert [a.tolist() for a in postings.get("body", 2)] == [[], []]  # no such term


def test_the_shipped_corpus_postings_equal_whooshs(index_dir, tmp_path):
    assert assert_stored_equal_whoosh(current_build(index_dir), tmp_path) > 1000


@pytest.mark.parametrize("workers", [1, 2])
def test_one_and_two_process_builds(corpus, tmp_path, workers):
    index = tmp_path / "index"
    build_index(load_corpus(corpus), index, workers=workers)
    assert assert_stored_equal_whoosh(current_build(index), tmp_path)


@pytest.mark.parametrize("change", ["edit", "add", "delete", "rename"])
def test_incremental_builds_store_whooshs_postings(corpus, tmp_path, change):
    """After an incremental build Whoosh has deleted and appended documents: the stored
    rows map to those docnums (out of row order) and still read exactly as Whoosh."""
    index = tmp_path / "index"
    cli_build(corpus, index)
    if change == "edit":
        write_article(corpus, "dbt.md", "## Skills\n\nDistress tolerance skills. Skills!\n")
    elif change == "add":
        write_article(corpus, "a-panic.md", "## Panic skills\n\nPanic attacks and breathing.\n")
    elif change == "delete":
        (corpus / "sleep.md").unlink()
    else:
        (corpus / "dbt.md").rename(corpus / "zz-dbt.md")
    cli_build(corpus, index)
    assert assert_stored_equal_whoosh(current_build(index), tmp_path)
    # The previous build's postings were updated, not inverted again: the same arrays.
    assert_same(
        read_postings_store(current_build(index)), invert(read_forward(current_build(index)))
    )


def assert_same(got, expected) -> None:
    for field in ("title", "body"):
        for a, b in zip(got.fields[field], expected.fields[field], strict=True):
            assert np.array_equal(a, b), field


def test_update_keeps_rows_and_inverts_only_new_ones():
    terms = ["care", "skill", "therapi"]
    old = Forward(
        terms,
        np.array(
            [1, 1, 2, 0, 2, 2], dtype=np.int32
        ),  # rows: [skill skill therapi] [care therapi therapi]
        np.zeros(6, dtype=np.int32),
        np.array([0, 3, 6]),
        np.array([1, 0], dtype=np.int32),
        np.array([0, 0, 1, 0, 1, 2], dtype=np.int32),
    )
    # New build: a new row first ("sleep skill"), then the old row 1, then old row 0 dropped.
    new = Forward(
        ["care", "skill", "sleep", "therapi"],
        np.array([2, 1, 0, 3, 3], dtype=np.int32),
        np.zeros(5, dtype=np.int32),
        np.array([0, 2, 5]),
        np.array([1, 0], dtype=np.int32),
        np.array([0, 0, 0, 1, 2], dtype=np.int32),
    )
    updated = update(invert(old), old, new, [(1, 1, 1)])
    assert updated is not None
    assert_same(updated, invert(new))
    # Kept rows out of their old order cannot be updated in order: None (invert instead).
    swapped = Forward(
        terms,
        old.tokens[[3, 4, 5, 0, 1, 2]],
        old.sentences,
        old.offsets,
        old.titles[::-1],
        old.positions[[3, 4, 5, 0, 1, 2]],
    )
    assert update(invert(old), old, swapped, [(0, 1, 1), (1, 0, 1)]) is None


def whoosh_phrase(searcher, phrase) -> tuple[list[int], list[float]]:
    """A phrase's (docnums, scores) from Whoosh's own positional matcher."""
    matcher = phrase.matcher(searcher)
    ids, scores = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        scores.append(matcher.score())
        matcher.next()
    return ids, scores


def assert_phrases_equal_whoosh(build_dir, tmp_path) -> int:
    """Phrases of words that follow one another in the sections (and of words in other
    orders and gaps), in both fields, slop 1 and 5, boost 1 and not: stored == Whoosh's
    positional matcher on Whoosh's own index == Whoosh's positional matcher reading kb's
    postings (kb.search.reader). Returns how many of them matched a document."""
    from whoosh.query import Phrase

    kb = KnowledgeBase(build_dir)
    reference = whoosh_reference(kb, tmp_path / f"reference-{build_dir.name}")
    searcher = reference.searcher(weighting=kb.searcher().weighting)
    try:
        ranker = kb._ranker()
        forward = kb.feedback.analysis.forward
        phrases = set()
        for row in range(len(forward)):
            terms = [forward.terms[t] for t in forward.row(row)[0][:60]]
            for i in range(len(terms) - 3):
                phrases.add((terms[i], terms[i + 1]))
                phrases.add((terms[i + 1], terms[i]))
                phrases.add((terms[i], terms[i + 3]))
                phrases.add((terms[i], terms[i + 1], terms[i + 2]))
                phrases.add((terms[i], terms[i + 2], terms[i + 3]))
        matched = 0
        for words in sorted(phrases):
            for field in ("title", "body"):
                for slop, boost in ((1, 1.0), (5, 2.5)):
                    phrase = Phrase(field, list(words), slop=slop, boost=boost)
                    docnums, scores = ranker._stored_phrase(phrase)
                    ids, expected = whoosh_phrase(searcher, phrase)
                    assert docnums.tolist() == ids, (field, words, slop)
                    assert scores.tolist() == expected, (field, words, slop)
                    assert whoosh_phrase(kb.searcher(), phrase) == (ids, expected)
                    matched += bool(ids)
        return matched
    finally:
        kb.close()
        searcher.close()
        reference.close()


def test_phrases_match_as_whooshs_positional_matcher(index_dir, tmp_path):
    assert assert_phrases_equal_whoosh(current_build(index_dir), tmp_path) > 1000


@pytest.mark.parametrize("incremental", [False, True])
def test_phrases_with_hyphens_and_after_an_incremental_build(corpus, tmp_path, incremental):
    index = tmp_path / "index"
    cli_build(corpus, index)
    if incremental:
        write_article(
            corpus, "dbt.md", "## Phone coaching\n\nSelf-harm urges: phone coaching, coaching.\n"
        )
        cli_build(corpus, index)
    assert assert_phrases_equal_whoosh(current_build(index), tmp_path) > 10


def test_search_answers_alike_with_kbs_postings_and_whooshs(corpus, tmp_path):
    """Searching a build (title and body from kb.postings) answers as searching a Whoosh
    index of the same sections where Whoosh indexed every field, read with Whoosh's own
    postings (a build made before kb.postings is read so)."""
    index = tmp_path / "index"
    cli_build(corpus, index)
    write_article(corpus, "dbt.md", "## Skills\n\nDialectical behavior therapy; phone coaching.\n")
    cli_build(corpus, index)  # incremental: docnums out of row order
    stored, whoosh = (KnowledgeBase(current_build(index)) for _ in range(2))
    whoosh.ix = whoosh_reference(whoosh, tmp_path / "reference")
    whoosh._stored = None  # every posting from Whoosh
    try:
        assert stored._stored is not None
        for query in QUERIES:
            got, expected = stored.search(query, limit=20), whoosh.search(query, limit=20)
            assert got.total == expected.total
            assert [(h.section.id, h.score, h.snippet) for h in got.hits] == [
                (h.section.id, h.score, h.snippet) for h in expected.hits
            ]
        for section in stored.sections.values():  # Whoosh's more_like, on either reader
            assert stored.related_sections.related(section) == whoosh.related_sections.related(
                section
            )
    finally:
        stored.close()
        whoosh.close()


def test_a_build_without_its_postings_stops_opening_with_a_clear_error(corpus, tmp_path):
    """Whoosh does not hold a build's title and body postings: without kb's files the build
    cannot be searched, and opening it says so (answered as 503)."""
    index = tmp_path / "index"
    cli_build(corpus, index)
    for name in FILES:
        (current_build(index) / name).unlink()
    with pytest.raises(IndexNotFound, match="lost its title and body postings"):
        KnowledgeBase(current_build(index))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "another length"])
def test_damaged_postings_stop_opening_with_a_clear_error(corpus, tmp_path, damage):
    index = tmp_path / "index"
    cli_build(corpus, index)
    path = current_build(index) / "postings-body-rows.npy"
    if damage == "garbage":
        path.write_bytes(b"not an array")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:-4])
    else:
        np.save(path, np.zeros(3, dtype=np.int32))
    with pytest.raises(IndexNotFound, match="unreadable postings"):
        KnowledgeBase(current_build(index))
