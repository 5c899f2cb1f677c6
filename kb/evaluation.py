"""A clinic's own expected answers: which sections a query should find, and how well it does.

An expectations file (YAML) is a list of entries, one per query::

    - query: meds
      expect: [bpd-treatment-in-real-sessions:other-therapies-can-fit-different-patterns]
      top: 3                         # pass when an expected section is in the top 3
    - query: is there a pill for BPD
      phrases: ["no pill that cures"]   # or: any section whose text contains this
    - query: phone coaching
      relevant:                       # or graded, as benchmarks/*.yaml: 2 best, 1 partial
        bpd-treatment-in-real-sessions:dbt-is-often-the-starting-point-not-the-whole-answer: 2

An entry passes when a section it expects (`expect`, a `phrases` match, or grade 2 in
`relevant`) is ranked within its `top` (default 10). The whole run reports nDCG@10 (graded:
expected sections count as grade 2) and success@1 and @3, as benchmarks/relevance.py does.
This module only reads files and scores rankings; `kb eval` (kb.cli_eval) asks the index.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_TOP = 10
KEYS = {"query", "expect", "phrases", "relevant", "top"}
EXTRA_KEYS = {"who", "kind", "note", "split"}  # the project's judged files carry these too


class ExpectationError(ValueError):
    """An expectations file breaks its format; str() is ``path:line: message``."""


@dataclass(frozen=True)
class Expectation:
    query: str
    relevant: dict[str, int] = field(default_factory=dict)  # section id -> grade
    phrases: tuple[str, ...] = ()
    top: int = DEFAULT_TOP
    line: int = 0


@dataclass(frozen=True)
class Outcome:
    """One query's result: the ranked ids, the grades they earned, where the first
    expected section came, and whether that is within `top`."""

    expectation: Expectation
    ranked: tuple[str, ...]
    grades: dict[str, int]
    rank: int | None  # 1-based rank of the first grade-2 section, None if not in the list

    @property
    def passed(self) -> bool:
        return self.rank is not None and self.rank <= self.expectation.top


def load_expectations(path: str | Path) -> list[Expectation]:
    """Read and validate an expectations file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ExpectationError(f"{path}:1: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ExpectationError(f"{path}:{mark.line + 1 if mark else 1}: invalid YAML") from None
    if not isinstance(data, list) or not data:
        raise ExpectationError(f"{path}:1: expected a list of entries (query, expect, ...)")
    lines = [node.start_mark.line + 1 for node in root.value]
    return [_expectation(item, path, line) for item, line in zip(data, lines, strict=True)]


def _expectation(item, path: Path, line: int) -> Expectation:
    def fail(message: str):
        raise ExpectationError(f"{path}:{line}: {message}")

    if not isinstance(item, dict):
        fail("each entry must be a mapping with a query")
    unknown = set(item) - KEYS - EXTRA_KEYS
    if unknown:
        fail(f"unknown key(s) {sorted(unknown)} (allowed: {', '.join(sorted(KEYS))})")
    query = item.get("query")
    if not isinstance(query, str | int) or not str(query).strip():
        fail("query must be non-empty text")
    relevant: dict[str, int] = {}
    for section_id in item.get("expect") or []:
        if not isinstance(section_id, str) or ":" not in section_id:
            fail(f"expect: {section_id!r} is not a section id (<article>:<anchor>)")
        relevant[section_id] = 2
    graded = item.get("relevant") or {}
    if not isinstance(graded, dict):
        fail("relevant must map section ids to grades")
    for section_id, grade in graded.items():
        if not isinstance(grade, int) or grade not in (1, 2):
            fail(f"relevant: grade of {section_id!r} must be 1 or 2")
        relevant[str(section_id)] = grade
    phrases = item.get("phrases") or []
    if not isinstance(phrases, list) or not all(isinstance(p, str) and p for p in phrases):
        fail("phrases must be a list of text")
    if not any(g == 2 for g in relevant.values()) and not phrases:
        fail("nothing expected: give expect, phrases or relevant with a grade 2")
    top = item.get("top", DEFAULT_TOP)
    if not isinstance(top, int) or not 1 <= top <= 50:
        fail("top must be a whole number from 1 to 50")
    return Expectation(str(query), relevant, tuple(phrases), top, line)


def judge(
    expectation: Expectation,
    ranked: list[str],
    text_of: Callable[[str], str],
) -> Outcome:
    """Score one ranking: ids as graded, plus grade 2 for a section containing a phrase."""
    grades = dict(expectation.relevant)
    if expectation.phrases:
        wanted = [p.casefold() for p in expectation.phrases]
        for section_id in ranked:
            text = text_of(section_id).casefold()
            if any(p in text for p in wanted):
                grades[section_id] = 2
    rank = next((i + 1 for i, s in enumerate(ranked) if grades.get(s) == 2), None)
    return Outcome(expectation, tuple(ranked), grades, rank)


def ndcg_at(ranked: tuple[str, ...] | list[str], grades: dict[str, int], k: int = 10) -> float:
    """nDCG@k with graded gains and log2 discount (gain = grade, as trec_eval)."""
    dcg = sum(grades.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def summary(outcomes: list[Outcome]) -> dict:
    """nDCG@10, success@1, success@3, passed and failed over a run."""
    n = len(outcomes) or 1
    return {
        "queries": len(outcomes),
        "passed": sum(o.passed for o in outcomes),
        "failed": sum(not o.passed for o in outcomes),
        "nDCG@10": sum(ndcg_at(o.ranked, o.grades) for o in outcomes) / n,
        "success@1": sum(o.rank == 1 for o in outcomes) / n,
        "success@3": sum(o.rank is not None and o.rank <= 3 for o in outcomes) / n,
    }
