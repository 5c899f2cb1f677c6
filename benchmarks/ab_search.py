#!/usr/bin/env python
"""A new search's CPU under two git revisions, both loaded in one process.

    python benchmarks/ab_search.py REV_A [REV_B]                 # REV_B: the work tree
    python benchmarks/ab_search.py REV_A --index <a build>       # e.g. of 10,214 sections
    python benchmarks/ab_search.py REV_A --app                   # whole requests (Flask)

Each revision's `kb` package is exported (`git archive`) and imported in turn into this
process, under its own name for the time it takes to open a KnowledgeBase (or, with
--app, to create the Flask app); the two then search alternate batches of load.py's
long-tail queries (the first 1,000 as warm-up, then 2,000 timed per round, the results
cache emptied each round, which revision goes first swapping every batch). Both see the
same machine at the same moments, which separate runs on a shared machine never do: the
same code against itself comes out within about 2%. Reports process CPU per search (per
request with --app, for the typical and the long-tail workload) and the ratio B/A.

Both revisions read the one build given (--index) or built here from the shipped corpus
with the work tree's code, so they must share a build format. A revision's modules are
importable only while its side is opened: code that imports a kb module later, inside a
function, would get the work tree's (kb's search path imports at module level).
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load import SHIPPED_CORPUS, kb_build, long_tail_queries, workload_paths  # noqa: E402

BATCH = 100


def export(rev: str | None, into: Path) -> Path:
    """The kb package of `rev` (None: the work tree) in a directory of its own."""
    if rev is None:
        return ROOT
    data = subprocess.run(
        ["git", "archive", rev, "kb"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    target = into / rev.replace("/", "_")
    with tarfile.open(fileobj=BytesIO(data)) as archive:
        # (extraction filters exist from Python 3.11.4 on)
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(target, **safe)
    return target


def load(code: Path, make):
    """make() with `code`'s kb package imported (and forgotten again afterwards: objects
    made keep their modules alive)."""
    for name in [m for m in sys.modules if m == "kb" or m.startswith("kb.")]:
        del sys.modules[name]
    sys.path.insert(0, str(code))
    try:
        return make()
    finally:
        sys.path.remove(str(code))
        for name in [m for m in sys.modules if m == "kb" or m.startswith("kb.")]:
            del sys.modules[name]


def open_search(index: Path):
    def make():
        from kb.index import current_build
        from kb.search import KnowledgeBase

        kb = KnowledgeBase(current_build(index))
        return kb.search, kb._results._cache.clear

    return make


def open_app(index: Path):
    def make():
        os.environ.update(KB_INDEX_DIR=str(index), KB_RATE_LIMIT="", KB_ACCESS_LOG="")
        from kb.api import create_app

        client = create_app().test_client()
        client.get("/api/v1/search?q=therapy")  # opens the build while its code is importable
        return client.get

    return make


def run_search(sides: dict, rounds: int) -> dict[str, float]:
    queries = long_tail_queries()
    for search, _clear in sides.values():
        for q in queries[:1000]:
            search(q)
    gc.collect()
    gc.freeze()
    spent = dict.fromkeys(sides, 0.0)
    count = dict.fromkeys(sides, 0)
    names = list(sides)
    for r in range(rounds):
        for _search, clear in sides.values():
            clear()
        for b, start in enumerate(range(1000, 3000, BATCH)):
            for name in names if (r + b) % 2 == 0 else names[::-1]:
                search = sides[name][0]
                began = time.process_time()
                for q in queries[start : start + BATCH]:
                    search(q)
                spent[name] += time.process_time() - began
                count[name] += BATCH
    return {name: spent[name] / count[name] * 1000 for name in sides}


def run_app(sides: dict, rounds: int) -> dict[str, dict[str, float]]:
    typical, long_tail = workload_paths("typical"), workload_paths("long-tail")
    for get in sides.values():
        for path in long_tail[:1000] + typical:
            get(path)
    gc.collect()
    gc.freeze()
    spent = {(name, w): 0.0 for name in sides for w in ("typical", "long-tail")}
    count = dict.fromkeys(spent, 0)
    names = list(sides)
    repeated = (typical * (BATCH // len(typical) + 1))[:BATCH]
    for r in range(rounds):
        for b, start in enumerate(range(1000, 3000, BATCH)):
            for name in names if (r + b) % 2 == 0 else names[::-1]:
                get = sides[name]
                for workload, paths in (
                    ("typical", repeated),
                    ("long-tail", long_tail[start : start + BATCH]),
                ):
                    began = time.process_time()
                    for path in paths:
                        get(path)
                    spent[name, workload] += time.process_time() - began
                    count[name, workload] += len(paths)
    return {
        name: {w: spent[name, w] / count[name, w] * 1000 for w in ("typical", "long-tail")}
        for name in sides
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rev_a", help="a git revision (the baseline)")
    parser.add_argument("rev_b", nargs="?", help="a git revision (default: the work tree)")
    parser.add_argument("--index", type=Path, help="an index directory (default: build one)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of 2,000 queries")
    parser.add_argument("--app", action="store_true", help="whole requests through Flask")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-ab-") as tmp:
        work = Path(tmp)
        index = args.index
        if index is None:
            index = work / "index"
            kb_build(SHIPPED_CORPUS, index)
        labels = {"A": args.rev_a, "B": args.rev_b or "work tree"}
        opener = open_app if args.app else open_search
        sides = {
            side: load(export(rev, work), opener(index))
            for side, rev in (("A", args.rev_a), ("B", args.rev_b))
        }
        if args.app:
            result = run_app(sides, args.rounds)
            for side in sides:
                typical, long_tail = result[side]["typical"], result[side]["long-tail"]
                print(
                    f"{side} ({labels[side]}): typical {typical:.3f} ms, long-tail "
                    f"{long_tail:.3f} ms per request, long-tail/typical req/s "
                    f"{typical / long_tail:.2f}x"
                )
            ratio = result["B"]["long-tail"] / result["A"]["long-tail"]
            print(f"long-tail B/A: {ratio:.3f}")
        else:
            result = run_search(sides, args.rounds)
            for side in sides:
                print(f"{side} ({labels[side]}): {result[side]:.3f} ms per search")
            print(f"B/A: {result['B'] / result['A']:.3f}")


if __name__ == "__main__":
    main()
