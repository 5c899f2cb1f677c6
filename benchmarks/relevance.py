"""Relevance harness: kb against SQLite FTS5 BM25 on SciFact, NFCorpus and Cranfield.

    python benchmarks/relevance.py [--fresh] [--ranking default|original]

Each collection is imported with kb's own JSON Lines importer (`kb import jsonl`) and
indexed with `kb build` (cached under benchmarks/work/, rebuilt by --fresh or when the
indexing code changes). Every test query goes through KnowledgeBase.rank(), which shares
search()'s ranking exactly (same parse, same scores, pseudo-relevance feedback included)
without building snippets and facets for 100 hits. In the same run SQLite FTS5
(`porter unicode61`, bm25(), title + " " + text, query words quoted and OR-ed) ranks the
same documents for the same queries. Metrics by ir-measures: nDCG@10 (graded), Recall@100,
MRR@10 over the test queries with at least one relevant document.

The shipped corpus is scored on the judged queries in benchmarks/seed_queries.yaml with
search() itself (limit 10, the API's path): nDCG@10 and success@3 (share of queries with a
grade-2 section in the top 3).

Writes benchmarks/results/relevance.json and prints one table and the elapsed time.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    BENCH,
    COLLECTIONS,
    RESULTS,
    ROOT,
    Fts5,
    datasets_dir,
    doc_slug_map,
    evaluate,
    kb_command,
    load_collection,
    prepare_kb,
    slug_to_doc,
    whoosh_distribution,
)

MEASURES = ("nDCG@10", "R@100", "RR@10")
FTS5_REFERENCE = {"scifact": 0.682, "nfcorpus": 0.322, "cranfield": 0.362}  # docs/baselines.md


def ranking_settings(name: str):
    from kb.search import RankingSettings

    if name == "original":
        from benchmarks.tune import ORIGINAL

        return ORIGINAL
    return RankingSettings()


def published_figures() -> dict[str, dict[str, str]]:
    """The 'Published reference figures' table of datasets/README.md: system -> {coll: value}."""
    try:
        text = (datasets_dir() / "README.md").read_text(encoding="utf-8")
    except OSError:
        return {}
    section = text.split("Published reference figures", 1)[-1]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    if len(rows) < 3:
        return {}
    header = [c.strip().lower() for c in rows[0].strip("|").split("|")]
    figures = {}
    for row in rows[2:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        figures[cells[0]] = {header[i]: cells[i] for i in range(1, len(cells))}
    return figures


# -- collections -----------------------------------------------------------------------------


def run_collection(name: str, settings_by_system: dict, fresh: bool, log) -> dict:
    from kb.index import current_build
    from kb.search import KnowledgeBase

    coll = load_collection(name)
    started = time.perf_counter()
    index = prepare_kb(name, [(coll.folder / "corpus.jsonl", "")], fresh=fresh, log=log)
    prepared = time.perf_counter() - started
    qrels = coll.qrels("test")
    back = doc_slug_map(coll)
    out = {"queries": len(qrels), "documents": len(coll.docs), "prepare_s": round(prepared, 1)}
    build = current_build(index)
    for system, settings in settings_by_system.items():
        kb = KnowledgeBase(build, ranking=settings)
        t0 = time.perf_counter()
        run = {
            q: [(back[slug_to_doc(sid)], s) for sid, s in kb.rank(coll.queries[q], limit=100)]
            for q in qrels
        }
        seconds = time.perf_counter() - t0
        out[system] = {**evaluate(run, qrels), "seconds": round(seconds, 2)}
        kb.close()
    t0 = time.perf_counter()
    fts = Fts5(coll.docs)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = {q: fts.search(coll.queries[q], limit=100) for q in qrels}
    out["fts5"] = {
        **evaluate(run, qrels),
        "seconds": round(time.perf_counter() - t0, 2),
        "build_s": round(built, 2),
    }
    return out


# -- the shipped corpus ----------------------------------------------------------------------


def load_seed_queries(path: Path | None = None) -> list[dict]:
    import yaml

    path = path or BENCH / "seed_queries.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def ndcg_at(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    """nDCG@k with graded gains and log2 discount (as trec_eval: gain = grade)."""
    dcg = sum(grades.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def run_seed(settings_by_system: dict, log) -> dict:
    """Score kb's search() (the API's path, limit 10) on the judged shipped-corpus queries."""
    from kb.corpus import load_corpus
    from kb.index import current_build
    from kb.search import KnowledgeBase

    index = BENCH / "work" / "shipped" / "index"
    # Always rebuilt: 11 sections take a second, and the corpus may have changed.
    log(
        "  [shipped] "
        + kb_command("build", "--corpus", str(ROOT / "corpus"), "--index", str(index))
    )
    queries = load_seed_queries()
    out: dict = {"queries": len(queries)}
    build = current_build(index)
    for system, settings in settings_by_system.items():
        kb = KnowledgeBase(build, ranking=settings)
        ndcgs, wins, misses = [], 0, []
        for item in queries:
            ranked = [h.section.id for h in kb.search(str(item["query"]), limit=10).hits]
            grades = item["relevant"]
            ndcgs.append(ndcg_at(ranked, grades))
            best = {s for s, g in grades.items() if g >= 2}
            if best & set(ranked[:3]):
                wins += 1
            else:
                misses.append(str(item["query"]))
        out[system] = {
            "nDCG@10": sum(ndcgs) / len(ndcgs),
            "success@3": wins / len(queries),
            "misses": misses,
        }
        kb.close()
    # FTS5 over the same sections (title + text), for reference.
    sections = {s.id: (s.title, s.text) for a in load_corpus(ROOT / "corpus") for s in a.sections}
    fts = Fts5(sections)
    ndcgs, wins = [], 0
    for item in queries:
        ranked = [d for d, _ in fts.search(str(item["query"]), limit=10)]
        ndcgs.append(ndcg_at(ranked, item["relevant"]))
        wins += bool({s for s, g in item["relevant"].items() if g >= 2} & set(ranked[:3]))
    out["fts5"] = {"nDCG@10": sum(ndcgs) / len(ndcgs), "success@3": wins / len(queries)}
    return out


# -- report ----------------------------------------------------------------------------------


def print_table(results: dict, systems: list[str]) -> None:
    published = published_figures()
    pub_cols = [p for p in published if re.search(r"bm25", p, re.I)]
    head = f"{'collection':10s} {'system':12s} {'nDCG@10':>8s} {'R@100':>7s} {'MRR@10':>7s}"
    print(head + "   published nDCG@10 (datasets/README.md)")
    print("-" * (len(head) + 40))
    for name in COLLECTIONS:
        res = results["collections"][name]
        for i, system in enumerate([*systems, "fts5"]):
            m = res[system]
            note = ""
            if i == 0:
                refs = [
                    f"{p.split(',')[0].replace('BM25 ', 'BM25-')}: {published[p].get(name, '–')}"
                    for p in pub_cols
                ]
                note = (
                    "; ".join(refs)
                    if refs and any(published[p].get(name) for p in pub_cols)
                    else "–"
                )
            elif system == "fts5":
                note = f"(docs/baselines.md FTS5: {FTS5_REFERENCE[name]:.3f})"
            print(
                f"{name:10s} {system:12s} {m['nDCG@10']:8.4f} {m['R@100']:7.4f} "
                f"{m['RR@10']:7.4f}   {note}"
            )
    seed = results["shipped"]
    print()
    print(
        f"shipped corpus, {seed['queries']} judged queries (benchmarks/seed_queries.yaml), "
        "search() limit 10:"
    )
    for system in [*systems, "fts5"]:
        m = seed[system]
        print(f"  {system:12s} nDCG@10 {m['nDCG@10']:.4f}   success@3 {m['success@3']:.1%}")
        if m.get("misses"):
            print(f"  {'':12s} grade-2 answer not in top 3: {m['misses']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--fresh", action="store_true", help="re-import and rebuild the cached collections"
    )
    parser.add_argument(
        "--ranking",
        choices=("default", "original", "both"),
        default="both",
        help="kb settings to score: tuned defaults, the pre-tuning original "
        "ones, or both (default)",
    )
    parser.add_argument("--collections", nargs="*", default=list(COLLECTIONS), choices=COLLECTIONS)
    args = parser.parse_args()
    started = time.perf_counter()
    names = ["default", "original"] if args.ranking == "both" else [args.ranking]
    settings = {("kb" if n == "default" else "kb-original"): ranking_settings(n) for n in names}
    results: dict = {
        "whoosh": whoosh_distribution(),
        "python": sys.version.split()[0],
        "settings": {k: asdict(v) for k, v in settings.items()},
        "collections": {},
    }
    for name in args.collections:
        print(f"{name}: importing/building (cached) and ranking...", flush=True)
        results["collections"][name] = run_collection(name, settings, args.fresh, print)
    results["shipped"] = run_seed(settings, print)
    results["published"] = published_figures()
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    print()
    if set(args.collections) == set(COLLECTIONS):
        print_table(results, list(settings))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "relevance.json"
    out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(f"\nwrote {out.relative_to(ROOT)}; elapsed {results['elapsed_s']:.1f} s")


if __name__ == "__main__":
    main()
