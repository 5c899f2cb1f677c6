#!/usr/bin/env python
"""Where a new search's time goes: kb's stages, timed in-process over long-tail queries.

    python benchmarks/search_stages.py                       # the shipped corpus
    python benchmarks/search_stages.py --corpus benchmarks/work/scale/1x/corpus
    python benchmarks/search_stages.py --queries scale       # scale.py's cold test queries
    python benchmarks/search_stages.py --queries scale --slowest 0.1   # and the slowest 10%

The corpus is built with `kb build` into a temporary index (or --index names a built
one). Each query goes through KnowledgeBase.search (the API's call: parsing, ranking,
feedback, sentence matching, snippets, facets, crisis check) once; the stages are timed
by wrapping their functions, and nested stages (postings, phrases) are shown apart.

--queries long-tail: benchmarks/load.py's 3,000 distinct two- and three-word queries,
the first --warmup of them run untimed (words, postings and sections seen before, as in
a server that has been up a while); --queries scale: benchmarks/work/scale/queries.json
(written by scale.py: the collections' test queries, each new, after its 10 warm-up ones).

Timings are wall-clock means per search on a machine shared with other work: compare
stages within a run, and runs of two versions alternately, not absolute figures.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.load import SHIPPED_CORPUS, kb_build, long_tail_queries  # noqa: E402

SCALE_QUERIES = Path(__file__).resolve().parent / "work" / "scale" / "queries.json"


def stages() -> list[tuple[object, str, str]]:
    """(owner, attribute, label) of each timed stage; the last ones are nested."""
    import kb.search.build as build
    from kb.search import facets, query, ranking, snippets

    return [
        (build.KnowledgeBase, "_search", "search (all)"),
        (query.QueryParser, "parse", "parse: words, corrections, expansions"),
        (ranking.Ranker, "accumulate", "first pass: BM25F of the query"),
        (ranking.Feedback, "terms", "feedback: choosing the terms"),
        (ranking.Ranker, "term_scores", "feedback: scoring the terms"),
        (ranking.SentenceMatch, "rerank", "sentence matching"),
        (snippets.Snippets, "snippet", "snippets"),
        (facets.DocumentTable, "facets", "facets"),
        (build, "crisis_notices", "crisis check"),
        (ranking.Ranker, "posting_list", "  (within) term postings"),
        (ranking.Ranker, "phrase_list", "  (within) phrase postings"),
    ]


def timed(totals: dict[str, float], owner, name: str, label: str) -> None:
    original = getattr(owner, name, None)
    if original is None:  # an older kb without this stage (the script times old revisions)
        return

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[label] = totals.get(label, 0.0) + time.perf_counter() - started

    setattr(owner, name, wrapper)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=SHIPPED_CORPUS)
    parser.add_argument("--index", type=Path, help="an index directory built already")
    parser.add_argument("--queries", choices=("long-tail", "scale"), default="long-tail")
    parser.add_argument("--warmup", type=int, default=1000, help="long-tail queries untimed")
    parser.add_argument(
        "--slowest",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="also show the stages of the slowest searches, e.g. 0.1 for the slowest 10%%",
    )
    args = parser.parse_args(argv)

    from kb.index import current_build
    from kb.search import KnowledgeBase

    with tempfile.TemporaryDirectory(prefix="kb-stages-") as tmp:
        index = args.index
        if index is None:
            index = Path(tmp) / "index"
            kb_build(args.corpus, index)
        kb = KnowledgeBase(current_build(index))
        if args.queries == "scale":
            if not SCALE_QUERIES.is_file():
                raise SystemExit(f"{SCALE_QUERIES} is missing: run benchmarks/scale.py first")
            data = json.loads(SCALE_QUERIES.read_text(encoding="utf-8"))
            warmup, timed_queries = data["warmup"], data["timed"]
        else:
            queries = long_tail_queries()
            warmup, timed_queries = queries[: args.warmup], queries[args.warmup :]
        for text in warmup:
            kb.search(text)
        totals: dict[str, float] = {}
        for owner, name, label in stages():
            timed(totals, owner, name, label)
        per_search = []  # (ms, the stages' seconds) of each search
        for text in timed_queries:
            before = dict(totals)
            started = time.perf_counter()
            kb.search(text)
            elapsed = (time.perf_counter() - started) * 1000
            per_search.append((elapsed, {k: v - before.get(k, 0.0) for k, v in totals.items()}))
        n = len(timed_queries)
        times = sorted(ms for ms, _stages in per_search)
        p50, p95 = times[n // 2], times[min(n - 1, int(n * 0.95))]
        print(f"{kb.section_count():,} sections, {n:,} {args.queries} queries timed")
        print(f"p50 {p50:.1f} ms, p95 {p95:.1f} ms (wall clock, stages timed)")
        slowest = sorted(per_search, key=lambda item: item[0])[n - max(1, int(n * args.slowest)) :]
        heading = f"{'stage':42s} {'ms per search':>14s}"
        if args.slowest:
            heading += f" {f'slowest {len(slowest)}':>14s}"
        print(heading)
        for owner, name, label in stages():
            if hasattr(owner, name):
                line = f"{label:42s} {totals.get(label, 0.0) / n * 1000:14.3f}"
                if args.slowest:
                    mean = sum(st.get(label, 0.0) for _ms, st in slowest) / len(slowest)
                    line += f" {mean * 1000:14.3f}"
                print(line)
        kb.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
