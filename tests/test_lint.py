"""kb.lint and `kb check`: overdue reviews and headings that name a neighbour's text are
warnings (exit 0), errors with --strict; --table shows reading grades."""

from __future__ import annotations

from datetime import date

from kb.cli import main
from kb.corpus import load_corpus
from kb.lint import corpus_warnings, heading_warnings

MISALIGNED = """Opening words about nothing in particular here.

## Sleep and rest at night

Medication can help with mood. A prescriber explains the dose and the timeline.

## Medication and prescribers

Exercise helps. Physical activity and regular walks support mood and energy.

## Exercise and physical activity

Sleep matters: a regular bedtime and rest at night help recovery.
"""

ALIGNED = """Opening words about nothing in particular here.

## Medication and prescribers

Medication can help with mood. A prescriber explains the dose and the timeline.

## Exercise and physical activity

Exercise helps. Physical activity and regular walks support mood and energy.
"""


def test_a_heading_over_its_neighbours_text_is_reported_with_its_line(make_article):
    make_article("slipped.md", MISALIGNED)
    (article,) = load_corpus(make_article.corpus)
    warnings = heading_warnings(article)
    # The first heading's words are in no neighbour's text (the sleep text is two sections
    # away): only the two headings sitting over a neighbour's text are reported.
    assert [w.line for w in warnings] == [13, 17]
    assert str(warnings[0]).startswith(f"{article.path}:13: heading may not match its section")


def test_aligned_headings_and_the_shipped_corpus_pass(make_article, shipped_articles):
    make_article("aligned.md", ALIGNED)
    assert heading_warnings(load_corpus(make_article.corpus)[0]) == []
    assert corpus_warnings(shipped_articles, date(2026, 12, 3)) == []


def test_an_overdue_review_is_a_warning(make_article):
    make_article("old.md", ALIGNED, reviewed="2020-01-01", next_review="2023-01-01")
    (article,) = load_corpus(make_article.corpus)
    (warning,) = corpus_warnings([article], date(2026, 12, 3))
    assert "review overdue: next_review 2023-01-01 has passed" in str(warning)
    assert corpus_warnings([article], date(2022, 12, 3)) == []


def test_kb_check_warns_and_strict_fails(runner, make_article):
    make_article("slipped.md", MISALIGNED)
    corpus = str(make_article.corpus)
    result = runner.invoke(main, ["check", "--corpus", corpus])
    assert result.exit_code == 0, result.output
    assert "heading may not match its section" in result.output
    assert "ok: 1 articles, 4 sections" in result.output and "2 warning(s)" in result.output
    strict = runner.invoke(main, ["check", "--corpus", corpus, "--strict"])
    assert strict.exit_code == 1
    assert "2 warning(s) with --strict" in strict.output


def test_kb_check_table_shows_review_and_reading_grade(runner, make_article):
    make_article(
        "aligned.md", ALIGNED, reviewed="2025-09-01", next_review="2099-09-01", reviewed_by="Dr A"
    )
    result = runner.invoke(main, ["check", "--corpus", str(make_article.corpus), "--table"])
    assert result.exit_code == 0, result.output
    assert "reviewed 2025-09-01 by Dr A, next review due 2099-09-01" in result.output
    assert "GRADE" in result.output
    row = next(line for line in result.output.splitlines() if "medication-and-prescribers" in line)
    assert float(row.split()[2]) > 0
