"""Search latency of two git revisions, interleaved in one run (shipped corpus).

    python benchmarks/ab_latency.py REV_A [REV_B] [--rounds 5] [--passes 5]

Each revision is checked out into a temporary worktree; a subprocess per round and
revision builds the shipped corpus's index with that revision's code (once per revision)
and times KnowledgeBase.search(q, limit=10) over the judged seed queries with the results
cache off. Rounds alternate A, B, A, B... so machine noise is shared; the report is the
median over rounds of each revision's p50 and p95, and their ratio B/A. REV_B defaults to
the work tree. Ratios are what to compare on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time, yaml
from pathlib import Path
root, index, passes = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, str(root))
from kb.search import KnowledgeBase, LiveKnowledgeBase
if not (index / "CURRENT").exists():
    from kb.corpus import load_corpus
    from kb.index import build_index
    try:
        from kb.topics import tag_articles
        from kb.taxonomy import load_taxonomy
        articles = tag_articles(load_corpus(root / "corpus"), load_taxonomy())
    except ImportError:
        articles = load_corpus(root / "corpus")
    build_index(articles, index)
kb = LiveKnowledgeBase(index).get()
if hasattr(kb, "_results"):
    from kb.search.cache import SharedCache
    kb._results = SharedCache(0)
else:
    kb.RESULTS_CACHE_SIZE = 0
data = yaml.safe_load((root / "benchmarks" / "seed_queries.yaml").read_text())
items = data["queries"] if isinstance(data, dict) else data
queries = [q["query"] for q in items]
for q in queries:
    kb.search(q, limit=10)
times = []
for _ in range(passes):
    for q in queries:
        t = time.perf_counter()
        kb.search(q, limit=10)
        times.append((time.perf_counter() - t) * 1000)
times.sort()
print(json.dumps({"p50": times[len(times) // 2], "p95": times[int(len(times) * 0.95)]}))
"""


def worktree(rev: str, base: Path) -> Path:
    path = base / rev.replace("/", "_")
    subprocess.run(
        ["git", "worktree", "add", "-q", "--detach", str(path), rev], cwd=ROOT, check=True
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rev_a")
    parser.add_argument("rev_b", nargs="?")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-ab-") as tmp:
        base = Path(tmp)
        trees = {args.rev_a: worktree(args.rev_a, base)}
        label_b = args.rev_b or "work tree"
        trees[label_b] = worktree(args.rev_b, base) if args.rev_b else ROOT
        results: dict[str, list[dict]] = {label: [] for label in trees}
        try:
            for _ in range(args.rounds):
                for label, tree in trees.items():
                    index = base / ("index-" + label.replace(" ", "_"))
                    out = subprocess.run(
                        [sys.executable, "-c", CHILD, str(tree), str(index), str(args.passes)],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                    results[label].append(json.loads(out.strip().splitlines()[-1]))
        finally:
            for tree in trees.values():
                if tree != ROOT:
                    subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)
    summary = {
        label: {k: statistics.median(r[k] for r in runs) for k in ("p50", "p95")}
        for label, runs in results.items()
    }
    print(f"{'revision':<16} {'p50 ms':>8} {'p95 ms':>8}   (median of {args.rounds} rounds)")
    for label, s in summary.items():
        print(f"{label:<16} {s['p50']:8.3f} {s['p95']:8.3f}")
    a, b = summary[args.rev_a], summary[label_b]
    print(
        f"{label_b} / {args.rev_a}: p50 {b['p50'] / a['p50']:.3f}x, p95 {b['p95'] / a['p95']:.3f}x"
    )


if __name__ == "__main__":
    main()
