"""kb.safety: crisis queries get a notice, ordinary ones do not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kb.safety import (
    CrisisDataError,
    CrisisSettings,
    crisis_notices,
    is_crisis_query,
    load_crisis_data,
    parse_crisis_data,
)


@pytest.mark.parametrize(
    "query",
    [
        "suicide",
        "Suicidal thoughts",
        "I want to kill myself",
        "self-harm",
        "self harm",
        "selfharm",
        "self-harming teenager",
        "cutting myself",
        "overdose",
        "crisis plan",
        "my son is in crisis",
        "I want to die",
        "thinking about ending my life",
        "KILLING MYSELF",
    ],
)
def test_crisis_phrasings_are_detected(query):
    assert is_crisis_query(query)


@pytest.mark.parametrize(
    "query",
    [
        "mentalization",
        "medication side effects",
        "family therapy",
        "safe place",
        "DBT skills",
        "harmony at home",
        "cutting down on coffee",
    ],
)
def test_ordinary_queries_are_not_crisis(query):
    assert not is_crisis_query(query)


def test_default_notice_is_neutral():
    (notice,) = crisis_notices("suicide")
    assert notice.kind == "crisis"
    assert "local emergency number" in notice.message
    assert notice.resources == ()


def test_clinic_configures_its_own_resources():
    settings = CrisisSettings(
        title="Help now",
        message="Call us.",
        resources=({"name": "Clinic line", "phone": "555-0100"},),
    )
    (notice,) = crisis_notices("self harm", settings)
    assert (notice.title, notice.message) == ("Help now", "Call us.")
    assert notice.resources[0]["phone"] == "555-0100"


# -- the reviewed phrase data, measured on a table written independently of it --------------

TABLE = Path(__file__).parent / "data" / "crisis_phrasings.yaml"


def _table() -> list[dict]:
    return yaml.safe_load(TABLE.read_text(encoding="utf-8"))


def test_crisis_table_recall_and_false_positives():
    """Recall on the table's crisis phrasings and the false-positive rate on its others.

    Run with -s to see the figures. Targets: recall >= 0.95 (every kind >= 0.8) and no
    false positive: a notice that never shows is the failure that matters most, and one
    that shows for "killer whale" teaches people to ignore it.
    """
    rows = _table()
    positives = [r for r in rows if r["crisis"]]
    negatives = [r for r in rows if not r["crisis"]]
    assert len(positives) >= 60 and len(negatives) >= 30
    missed = [r for r in positives if not is_crisis_query(r["text"])]
    raised = [r for r in negatives if is_crisis_query(r["text"])]
    recall = 1 - len(missed) / len(positives)
    fp_rate = len(raised) / len(negatives)
    print(f"\ncrisis table: recall {recall:.3f} ({len(positives)} positives), ")
    print(f"false-positive rate {fp_rate:.3f} ({len(negatives)} negatives)")
    for kind in sorted({r["kind"] for r in positives}):
        of_kind = [r for r in positives if r["kind"] == kind]
        kind_recall = 1 - sum(r in missed for r in of_kind) / len(of_kind)
        print(f"  {kind:14s} recall {kind_recall:.2f} ({len(of_kind)})")
        assert kind_recall >= 0.8, kind
    assert recall >= 0.95, [r["text"] for r in missed]
    assert not raised, [r["text"] for r in raised]


@pytest.mark.parametrize(
    "query",
    ["sucide", "suicde", "kms", "unalive", "wanna die", "hang myself", "kil myself", "su1c1de"],
)
def test_typos_and_slang_named_in_the_issue_are_detected(query):
    assert is_crisis_query(query)


@pytest.mark.parametrize(
    "query",
    ["emergency room wait times", "crisis survival skills", "killer whale", "die casting"],
)
def test_logistics_and_skill_names_are_not_crisis(query):
    assert not is_crisis_query(query)


def test_an_english_word_is_never_read_as_a_typo():
    # "overdone" is one letter from "overdose", but it is a word of its own.
    assert not is_crisis_query("overdone steak")
    assert is_crisis_query("overdoes")  # not a word: a typo of overdose


def test_an_exception_cancels_only_the_occurrence_it_covers():
    assert not is_crisis_query("midlife crisis meaning")
    assert is_crisis_query("midlife crisis and I want to die")


def test_the_packaged_data_is_reviewed_and_valid():
    data = load_crisis_data()
    assert data.reviewed_by
    assert {"suicide", "self-harm", "overdose", "danger"} <= {c for c, _ in data.phrases}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"phrases": {"x": ["suicide"]}}, "reviewed_by"),
        ({"reviewed_by": "me", "phrases": []}, "phrases must map"),
        ({"reviewed_by": "me", "phrases": {"x": "suicide"}}, "phrases.x"),
        ({"reviewed_by": "me", "phrases": {"x": ["a"]}, "extra": 1}, "unknown keys"),
        ({"reviewed_by": "me", "phrases": {"x": ["..."]}}, "is not a word"),
    ],
)
def test_bad_crisis_data_is_refused(data, message):
    with pytest.raises(CrisisDataError, match=message):
        parse_crisis_data(data)
