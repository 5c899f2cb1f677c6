"""`kb export sections` (kb.export): every section out in bulk, JSONL or CSV, filtered."""

from __future__ import annotations

import csv
import io
import json

from kb.cli import main
from kb.export import FIELDS


def export(runner, *args):
    return runner.invoke(main, ["export", "sections", *args], env={"KB_PUBLIC_URL": None})


def test_jsonl_has_every_section_with_topics_and_text(runner, shipped_articles):
    result = export(runner)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [s.id for a in shipped_articles for s in a.sections]
    assert all(list(r) == list(FIELDS) for r in rows)
    mbt = next(r for r in rows if r["anchor"] == "other-therapies-can-fit-different-patterns")
    assert "medication" in mbt["topics"] and "There is no pill" in mbt["text"]
    assert mbt["url"] == "/articles/bpd-treatment-in-real-sessions#" + mbt["anchor"]
    assert "exported 11 sections" in result.stderr


def test_csv_keeps_its_column_order_and_filters(runner):
    result = export(runner, "--format", "csv", "--topic", "telehealth")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == list(FIELDS)
    assert len(rows) > 1 and all("telehealth" in row[FIELDS.index("topics")] for row in rows[1:])
    one = export(runner, "--format", "csv", "--article", "psychotherapy-for-personality-disorders")
    assert {row[1] for row in list(csv.reader(io.StringIO(one.stdout)))[1:]} == {
        "psychotherapy-for-personality-disorders"
    }


def test_public_url_makes_urls_absolute(runner):
    result = runner.invoke(
        main, ["export", "sections"], env={"KB_PUBLIC_URL": "https://kb.clinic.example"}
    )
    first = json.loads(result.stdout.splitlines()[0])
    assert first["url"].startswith("https://kb.clinic.example/articles/")


def test_an_unknown_topic_is_a_usage_error(runner):
    result = export(runner, "--topic", "nope")
    assert result.exit_code == 2 and "unknown topic 'nope'" in result.output
