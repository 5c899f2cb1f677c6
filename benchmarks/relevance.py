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

The shipped corpus is scored on the judged queries in benchmarks/seed_queries.yaml
(clinicians' and patients' wording) and benchmarks/lay_queries.yaml (patients', partners',
parents' and friends' wording) with search() itself (limit 10, the API's path): nDCG@10,
success@1 and success@3 (share of queries with a grade-2 section in the top 1 / top 3),
for the `tune` and `test` halves of the one random split and for each file. Topic
assignment is scored against tests/data/judged_topics.yaml (precision, recall).

Writes benchmarks/results/relevance.json and prints one table and the elapsed time.
"""

from __future__ import annotations

import argparse
import json
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
from kb.evaluation import ndcg_at  # noqa: E402  (the same nDCG@10 as `kb eval`)

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


JUDGED_FILES = ("seed_queries.yaml", "lay_queries.yaml")
SPLITS = ("tune", "test")


def load_seed_queries(paths: list[Path] | None = None) -> list[dict]:
    """Every judged query of the shipped corpus (both files), each with its `split`."""
    import yaml

    queries = []
    for path in paths or [BENCH / name for name in JUDGED_FILES]:
        for item in yaml.safe_load(path.read_text(encoding="utf-8")):
            queries.append({**item, "file": path.name})
    return queries


def score_ranking(queries: list[dict], ranked_of) -> dict:
    """nDCG@10, success@1 and success@3 (a grade-2 section in the top 1/3) of a ranking."""
    ndcgs, win1, win3, misses = [], 0, 0, []
    for item in queries:
        ranked = ranked_of(str(item["query"]))
        grades = item["relevant"]
        ndcgs.append(ndcg_at(ranked, grades))
        best = {s for s, g in grades.items() if g >= 2}
        win1 += bool(best & set(ranked[:1]))
        if best & set(ranked[:3]):
            win3 += 1
        else:
            misses.append(str(item["query"]))
    n = len(queries) or 1
    return {
        "queries": len(queries),
        "nDCG@10": sum(ndcgs) / n,
        "success@1": win1 / n,
        "success@3": win3 / n,
        "misses": misses,
    }


def run_seed(settings_by_system: dict, log) -> dict:
    """Score kb's search() (the API's path, limit 10) on the judged shipped-corpus queries,
    per split (tune, test) and per file (clinicians' and lay wording)."""
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
    groups = {split: [q for q in queries if q["split"] == split] for split in SPLITS}
    groups.update({name: [q for q in queries if q["file"] == name] for name in JUDGED_FILES})
    out: dict = {"queries": len(queries)}
    build = current_build(index)
    for system, settings in settings_by_system.items():
        kb = KnowledgeBase(build, ranking=settings)

        def ranked_of(text, kb=kb):
            return [h.section.id for h in kb.search(text, limit=10).hits]

        out[system] = {name: score_ranking(items, ranked_of) for name, items in groups.items()}
        kb.close()
    # FTS5 over the same sections (title + text), for reference.
    sections = {s.id: (s.title, s.text) for a in load_corpus(ROOT / "corpus") for s in a.sections}
    fts = Fts5(sections)

    def fts_ranked(text):
        return [d for d, _ in fts.search(text, limit=10)]

    out["fts5"] = {name: score_ranking(items, fts_ranked) for name, items in groups.items()}
    out["topics"] = topic_agreement()
    return out


def topic_agreement() -> dict:
    """Precision and recall of the topics a build assigns, against tests/data/judged_topics.yaml.

    Recall counts the judged `about` topics a section got; precision counts assigned
    topics that the judge listed as `about` or `mentions` (a topic named in passing is a
    fair tag, one the section never touches is not).
    """
    import yaml

    from kb.corpus import load_corpus
    from kb.taxonomy import load_taxonomy
    from kb.topics import tag_articles

    judged = yaml.safe_load((ROOT / "tests" / "data" / "judged_topics.yaml").read_text())
    articles = tag_articles(load_corpus(ROOT / "corpus"), load_taxonomy())
    assigned = {s.id: set(s.topics) for a in articles for s in a.sections}
    about_hits = about_total = fair = given = 0
    wrong: list[str] = []
    missed: list[str] = []
    for section_id, judgment in judged["sections"].items():
        about = {t["topic"] for t in judgment.get("about") or []}
        fine = about | set(judgment.get("mentions") or [])
        got = assigned.get(section_id, set())
        about_hits += len(about & got)
        about_total += len(about)
        fair += len(got & fine)
        given += len(got)
        wrong += [f"{section_id}: {t}" for t in sorted(got - fine)]
        missed += [f"{section_id}: {t}" for t in sorted(about - got)]
    return {
        "recall_about": about_hits / (about_total or 1),
        "precision": fair / (given or 1),
        "assigned": given,
        "wrong": wrong,
        "missed": missed,
    }


# -- report ----------------------------------------------------------------------------------


def print_table(results: dict, systems: list[str]) -> None:
    published = published_figures()
    pub_cols = [p for p in published if re.search(r"bm25", p, re.I)]
    head = f"{'collection':10s} {'system':12s} {'nDCG@10':>8s} {'R@100':>7s} {'MRR@10':>7s}"
    print(head + "   published nDCG@10 (datasets/README.md)")
    print("-" * (len(head) + 40))
    for name in results["collections"]:
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
        f"shipped corpus, {seed['queries']} judged queries "
        f"(benchmarks/{' + '.join(JUDGED_FILES)}), search() limit 10:"
    )
    groups = [*SPLITS, *JUDGED_FILES]
    print(
        f"  {'system':12s} {'queries':22s} {'n':>4s} {'nDCG@10':>8s} {'succ@1':>7s} {'succ@3':>7s}"
    )
    for system in [*systems, "fts5"]:
        for name in groups:
            m = seed[system][name]
            print(
                f"  {system:12s} {name:22s} {m['queries']:4d} {m['nDCG@10']:8.4f} "
                f"{m['success@1']:7.1%} {m['success@3']:7.1%}"
            )
    for system in systems:
        # Only the tune half's misses are printed: the test half is not inspected.
        misses = seed[system]["tune"]["misses"]
        if misses:
            print(f"  {system}: tune queries without a grade-2 answer in the top 3: {misses}")
    topics = seed["topics"]
    print(
        f"\ntopics (tests/data/judged_topics.yaml): recall of 'about' topics "
        f"{topics['recall_about']:.3f}, precision {topics['precision']:.3f} "
        f"({topics['assigned']} assigned)"
    )
    for label in ("missed", "wrong"):
        if topics[label]:
            print(f"  {label}: {topics[label]}")


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
    print_table(results, list(settings))
    if set(args.collections) != set(COLLECTIONS):
        print(f"\npartial run: results not written; elapsed {results['elapsed_s']:.1f} s")
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "relevance.json"
    out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(f"\nwrote {out.relative_to(ROOT)}; elapsed {results['elapsed_s']:.1f} s")


if __name__ == "__main__":
    main()
