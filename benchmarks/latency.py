"""In-process search latency: kb's KnowledgeBase.search (the API's path) against SQLite FTS5.

    python benchmarks/latency.py [--fresh] [--queries 200] [--ranking both] [--against REV]

Two corpora, each measured in the same run for every system:
  shipped  the shipped corpus (corpus/, 11 sections), the judged queries of
           benchmarks/seed_queries.yaml;
  10k      SciFact + NFCorpus + Cranfield imported together with `kb import jsonl` (ids
           prefixed per collection) and indexed with `kb build` (about 10.2k sections);
           a sample of --queries test queries from each collection.

kb: KnowledgeBase.search(query, limit=10), exactly as the API calls it (facets over the
whole result set, snippets for the page). The result cache is bypassed for the timed runs
(each query would otherwise be answered from it after the first pass); a separate line
shows the cached repeat. FTS5: stdlib sqlite3, tokenize='porter unicode61', bm25(), the
query words quoted and OR-ed, top 10, over title + " " + text of the same documents.

--ranking: `default` (tuned settings), `original` (the settings before tuning), or both,
so a ranking change's latency cost is measured in the same run. --against REV also times
kb/search.py as it was at git revision REV (e.g. the commit before the speed work) on the
same index. Every system gets one warm-up pass, then --passes timed passes; the order of
systems is rotated between passes so machine noise is shared. Ratios to FTS5 are what to
compare: absolute times on a shared 2-core machine are noisy.

Writes benchmarks/results/latency.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    BENCH,
    COLLECTIONS,
    RESULTS,
    ROOT,
    WORK,
    Fts5,
    kb_command,
    load_collection,
    percentile,
    prepare_kb,
    whoosh_distribution,
)

TARGET_P95_MS = {"shipped": 5.0, "10k": 15.0}


def old_search_module(rev: str):
    """kb/search.py as of git revision `rev`, importable beside the current kb package."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:kb/search.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = WORK / f"search_at_{rev.replace('/', '_')}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"kb_search_at_{abs(hash(rev))}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def shipped_setup(log) -> tuple[Path, dict, list[str]]:
    import yaml

    from kb.corpus import load_corpus
    from kb.index import current_build

    dist = whoosh_distribution()
    name = "shipped" if dist.startswith("whoosh-reloaded") else f"shipped@{dist}"
    index = WORK / name / "index"
    log(
        "  [shipped] "
        + kb_command("build", "--corpus", str(ROOT / "corpus"), "--index", str(index))
    )
    queries = [
        str(q["query"])
        for q in yaml.safe_load((BENCH / "seed_queries.yaml").read_text(encoding="utf-8"))
    ]
    docs = {s.id: (s.title, s.text) for a in load_corpus(ROOT / "corpus") for s in a.sections}
    return current_build(index), docs, queries


def tenk_setup(per_collection: int, fresh: bool, log) -> tuple[Path, dict, list[str]]:
    from kb.index import current_build

    sources, docs, queries = [], {}, []
    rng = random.Random(20261124)
    for name in COLLECTIONS:
        coll = load_collection(name)
        sources.append((coll.folder / "corpus.jsonl", f"{name}-"))
        docs.update({f"{name}-{d}": v for d, v in coll.docs.items() if " ".join(v[1].split())})
        test = sorted(coll.qrels("test"))
        queries += [coll.queries[q] for q in rng.sample(test, min(per_collection, len(test)))]
    index = prepare_kb("all", sources, fresh=fresh, log=log)
    return current_build(index), docs, queries


def timed(fn, queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def measure(build: Path, docs: dict, queries: list[str], systems: dict, passes: int, log) -> dict:
    """systems: label -> factory(build) returning a search function of one argument."""
    searchers = {}
    for label, factory in systems.items():
        t0 = time.perf_counter()
        searchers[label] = factory(build)
        log(f"    opened {label} in {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    fts = Fts5(docs)
    log(f"    built FTS5 ({len(docs)} docs) in {time.perf_counter() - t0:.2f} s")
    searchers["fts5"] = lambda q: fts.search(q, limit=10)
    labels = list(searchers)
    for label in labels:  # warm-up: caches of postings, lengths, analyzers, page cache
        timed(searchers[label], queries)
    times: dict[str, list[float]] = {label: [] for label in labels}
    for p in range(passes):
        order = labels[p % len(labels) :] + labels[: p % len(labels)]
        for label in order:
            times[label].extend(timed(searchers[label], queries))
    out = {}
    for label in labels:
        values = times[label]
        out[label] = {
            "p50_ms": percentile(values, 50),
            "p95_ms": percentile(values, 95),
            "mean_ms": sum(values) / len(values),
            "n": len(values),
        }
    fts_p50, fts_p95 = out["fts5"]["p50_ms"], out["fts5"]["p95_ms"]
    for label in labels:
        out[label]["p50_ratio_fts5"] = out[label]["p50_ms"] / fts_p50
        out[label]["p95_ratio_fts5"] = out[label]["p95_ms"] / fts_p95
    return out


def kb_factory(settings, cache: bool = False):
    from kb.search import KnowledgeBase

    def make(build):
        kb = KnowledgeBase(build, ranking=settings)
        if not cache:
            # Every timed call does the full work. (Setting RESULTS_CACHE_SIZE, as this
            # script did before kb.search became a package, no longer reaches the cache.)
            from kb.search.cache import SharedCache

            kb._results = SharedCache(0)
        return lambda q: kb.search(q, limit=10)

    return make


def old_factory(module):
    def make(build):
        kb = module.KnowledgeBase(build)
        return lambda q: kb.search(q, limit=10)

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fresh", action="store_true", help="re-import and rebuild the 10k corpus")
    parser.add_argument(
        "--queries",
        type=int,
        default=200,
        help="test queries sampled from each collection for the 10k corpus",
    )
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the queries")
    parser.add_argument("--ranking", choices=("default", "original", "both"), default="both")
    parser.add_argument(
        "--against", metavar="REV", help="also time kb/search.py as of this git revision"
    )
    args = parser.parse_args()
    started = time.perf_counter()

    from benchmarks.tune import ORIGINAL
    from kb.search import RankingSettings

    systems = {}
    if args.ranking in ("default", "both"):
        systems["kb"] = kb_factory(RankingSettings())
    if args.ranking in ("original", "both"):
        systems["kb-original-ranking"] = kb_factory(ORIGINAL)
    if args.against:
        systems[f"kb@{args.against}"] = old_factory(old_search_module(args.against))

    results = {
        "whoosh": whoosh_distribution(),
        "python": sys.version.split()[0],
        "passes": args.passes,
        "corpora": {},
    }
    for corpus, setup in (
        ("shipped", lambda: shipped_setup(print)),
        ("10k", lambda: tenk_setup(args.queries, args.fresh, print)),
    ):
        print(f"{corpus}: preparing...", flush=True)
        build, docs, queries = setup()
        res = measure(build, docs, queries, systems, args.passes, print)
        # The cached repeat: the same query again, answered from the results cache.
        # Each query is asked twice in a row: a pass over all of them first would evict
        # the earliest from the bounded cache (RESULTS_CACHE_SIZE) before their repeat.
        kb_cached = kb_factory(RankingSettings(), cache=True)(build)
        cached = []
        for query in queries:
            timed(kb_cached, [query])
            cached.extend(timed(kb_cached, [query]))
        res["kb (cached repeat)"] = {
            "p50_ms": percentile(cached, 50),
            "p95_ms": percentile(cached, 95),
            "n": len(cached),
        }
        results["corpora"][corpus] = {
            "documents": len(docs),
            "queries": len(queries),
            "systems": res,
        }

    print()
    print(f"{'corpus':8s} {'system':24s} {'p50 ms':>8s} {'p95 ms':>8s} {'p95/FTS5':>9s}  target")
    for corpus, data in results["corpora"].items():
        for label, m in data["systems"].items():
            ratio = f"{m['p95_ratio_fts5']:8.2f}x" if "p95_ratio_fts5" in m else " " * 9
            target = ""
            if label == "kb":
                ok = m["p95_ms"] <= TARGET_P95_MS[corpus]
                target = f"p95 <= {TARGET_P95_MS[corpus]:g} ms: {'met' if ok else 'NOT met'}"
            print(
                f"{corpus:8s} {label:24s} {m['p50_ms']:8.2f} {m['p95_ms']:8.2f} {ratio}  {target}"
            )
        print(f"{'':8s} ({data['documents']} documents, {data['queries']} queries)")
    for corpus, data in results["corpora"].items():
        s = data["systems"]
        if "kb" in s and "kb-original-ranking" in s:
            print(
                f"{corpus}: kb tuned / original ranking, p95: "
                f"{s['kb']['p95_ms'] / s['kb-original-ranking']['p95_ms']:.2f}x"
            )
        for label in s:
            if label.startswith("kb@"):
                print(
                    f"{corpus}: kb now / {label}, p95: "
                    f"{s['kb']['p95_ms'] / s[label]['p95_ms']:.2f}x"
                )
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    dist = results["whoosh"]
    out = RESULTS / (
        "latency.json"
        if dist.startswith("whoosh-reloaded")
        else f"latency-{dist.replace('==', '-')}.json"
    )
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nwrote {out.relative_to(ROOT)}; elapsed {results['elapsed_s']:.1f} s")


if __name__ == "__main__":
    main()
