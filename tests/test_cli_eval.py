"""`kb eval` (kb.cli_eval, kb.evaluation): a clinic's expected answers checked against the
index, passing on the project's own judged queries and failing on a broken expectation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kb.cli import main
from kb.evaluation import Expectation, ExpectationError, judge, load_expectations, ndcg_at

ROOT = Path(__file__).resolve().parent.parent
MBT = "bpd-treatment-in-real-sessions:other-therapies-can-fit-different-patterns"


def run(runner, index_dir, *args):
    return runner.invoke(main, ["eval", *args, "--index", str(index_dir)], env={"KB_URL": None})


def test_the_projects_judged_queries_pass(runner, index_dir):
    result = run(runner, index_dir, str(ROOT / "benchmarks" / "seed_queries.yaml"))
    assert result.exit_code == 0, result.output
    assert "61 of 61 passed; nDCG@10 0." in result.output


def test_a_broken_expectation_fails_with_exit_1(runner, index_dir, tmp_path):
    path = tmp_path / "expect.yaml"
    path.write_text(
        "- query: meds\n"
        f"  expect: [{MBT}]\n"
        "  top: 1\n"
        "- query: meds\n"
        "  expect: [psychotherapy-for-personality-disorders:introduction]\n"
        "  top: 1\n",
        encoding="utf-8",
    )
    result = run(runner, index_dir, str(path))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[1].startswith("PASS      1   1  meds")
    assert lines[2].startswith("FAIL")
    assert "1 of 2 passed" in result.output


def test_phrases_and_json_for_ci(runner, index_dir, tmp_path):
    path = tmp_path / "expect.yaml"
    path.write_text(
        '- query: is there a pill for BPD\n  phrases: ["no pill that cures"]\n  top: 3\n',
        encoding="utf-8",
    )
    result = run(runner, index_dir, str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["summary"]["passed"] == 1
    (row,) = report["queries"]
    assert row["passed"] and row["rank"] <= 3 and row["line"] == 1
    assert row["ranked"][row["rank"] - 1] == MBT  # the section holding the phrase


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("query: x\n", ":1: expected a list"),
        ("- query: x\n", ":1: nothing expected"),
        ("- query: x\n  expect: [nocolon]\n", ":1: expect: 'nocolon' is not a section id"),
        ("- query: a\n  expect: [a:b]\n- query: x\n  top: 0\n  expect: [a:b]\n", ":3: top must"),
        ("- query: x\n  expected: [a:b]\n", ":1: unknown key(s) ['expected']"),
        ("- query: x\n  relevant: {a:b: 3}\n", ":1: relevant: grade of 'a:b' must be 1 or 2"),
    ],
)
def test_a_bad_file_names_its_line(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExpectationError, match=re.escape(message)):
        load_expectations(path)


def test_judging_and_ndcg():
    outcome = judge(Expectation("q", {"a:x": 2, "a:y": 1}, top=2), ["a:z", "a:x", "a:y"], str)
    assert (outcome.rank, outcome.passed) == (2, True)
    assert 0 < ndcg_at(outcome.ranked, outcome.grades) < 1
    assert ndcg_at(["a:x", "a:y"], {"a:x": 2, "a:y": 1}) == pytest.approx(1.0)
