"""Scaling: kb's import, build, index size, memory and search latency at 1x, 3x and 10x.

    python benchmarks/scale.py                            # 1x, 3x, 10x (10k, 30k, 100k sections)
    python benchmarks/scale.py --sizes 1 --fraction 0.1   # a quick check (about 1k sections)
    python benchmarks/scale.py --keep                     # reuse corpora imported by a past run

Sizes: 1x is SciFact + NFCorpus + Cranfield (ids prefixed per collection as prepare_kb does,
records with no text left out: about 10.2k sections, one article of one section per record);
Nx repeats every record N times, replica r >= 2 with its id suffixed "-r<r>", so every article
is distinct (same words, more documents: postings grow, the vocabulary does not). --fraction
takes a fixed random share of each collection first, for a quick development run.

Queries: --queries distinct test queries (default 300) sampled with a fixed seed, evenly from
the three collections (never replicated); --warmup other queries (default 10, not in the timed
set) are run first by every engine.

Per size, the same documents in four engines:
  kb       `kb import jsonl` (wall time of the installed command, a subprocess) into a fresh
           corpus, then `kb build` (wall time, a subprocess; both include process start-up,
           shown once as "kb start-up"); size = the build directory (builds/<name>: the
           Whoosh index, corpus.json, taxonomy.json, meta.json).
  fts5     SQLite FTS5 in a database file, as benchmarks/common.py's Fts5 (porter unicode61,
           bm25(), title + " " + text, the query's words quoted and OR-ed); build = CREATE +
           INSERT + COMMIT; size = the file.
  whoosh   plain Whoosh: one TEXT field (StandardAnalyzer) + a stored ID, the default writer;
           the query's analysed words OR-ed, BM25F, top 10.
  tantivy  the tantivy package (if installed), the compiled-engine reference: a raw stored id
           + one en_stem text field, a one-thread writer (kb and the others build on one
           core too), commit + merges; the same quoted OR-ed words as FTS5, top 10.
Every build but kb's runs in a fresh subprocess that reads the records first (untimed).

Search: a fresh subprocess per engine and size opens the index (RSS open = VmRSS right after
opening), runs the warm-up queries, then times each query (kb: KnowledgeBase.search(q,
limit=10), the API's path, facets and snippets included); peak RSS = VmHWM at the end.
The engines' search subprocesses run one after another, their order rotated per size.

Printed: one table (size x engine: sections, import s, build s, size MB, RSS open MB, peak
RSS MB, p50 ms, p95 ms, build and p95 as ratios to FTS5), then kb's memory growth (least-
squares slope of peak RSS over sections, MB per 1k sections, and its intercept, the fixed
base), build seconds per 1k sections at each size, and three targets marked met / missed:
kb search p95 <= 0.5x FTS5 at every size; memory slope < 10 MB per 1k sections; build
time no worse than linear (per-section build time at the largest size <= 1.15x that at the
smallest, meant as 10x vs 1x). MB = 2**20 bytes. On a shared machine absolute times are
noisy: compare the ratios to the baselines measured in the same run.

Writes benchmarks/results/scale.json (with machine info and the load average at start and
end). Work files go to --work (default benchmarks/work/scale), one folder per size.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    COLLECTIONS,
    MB,
    RESULTS,
    ROOT,
    WORK,
    Fts5,
    beir_records,
    dir_bytes,
    kb_command,
    least_squares,
    load_collection,
    machine_info,
    percentile,
    proc_status_mb,
)

SEED = 20261124
ENGINES = ("kb", "fts5", "whoosh", "tantivy")
TARGET_P95_RATIO = 0.5  # kb search p95 <= 0.5x FTS5's, at every size
TARGET_MB_PER_1K = 10.0  # kb peak RSS grows less than 10 MB per 1k sections
TARGET_LINEARITY = 1.15  # per-section build time at the largest size <= 1.15x the smallest's


# -- inputs ----------------------------------------------------------------------------------


def base_records(fraction: float, log) -> tuple[list[dict], list[str]]:
    """The 1x records (prefixed ids, no empty texts; a fixed share with --fraction)."""
    records, notes = [], []
    rng = random.Random(SEED)
    for name in COLLECTIONS:
        coll = load_collection(name)
        recs, skipped = beir_records(coll.folder / "corpus.jsonl", f"{name}-")
        if fraction < 1.0:
            keep = sorted(rng.sample(range(len(recs)), max(1, math.ceil(len(recs) * fraction))))
            recs = [recs[i] for i in keep]
        if skipped:
            notes.append(f"{name}: left out {skipped} record(s) with no text")
        records += recs
    for note in notes:
        log(f"  {note}")
    return records, notes


def sample_queries(total: int, warmup: int) -> tuple[list[str], list[str]]:
    """`total` distinct test queries, evenly from the collections; `warmup` other ones."""
    rng = random.Random(SEED)
    timed: list[str] = []
    seen: set[str] = set()
    rest: list[list[str]] = []
    for i, name in enumerate(COLLECTIONS):
        coll = load_collection(name)
        quota = total // len(COLLECTIONS) + (1 if i < total % len(COLLECTIONS) else 0)
        test = sorted(coll.qrels("test"))
        rng.shuffle(test)
        picked = set()
        for qid in test:
            if quota <= 0:
                break
            text = " ".join(coll.queries[qid].split())
            if text and text not in seen:
                seen.add(text)
                picked.add(qid)
                timed.append(text)
                quota -= 1
        others = [q for q in sorted(coll.queries) if q not in picked]
        rng.shuffle(others)
        rest.append([" ".join(coll.queries[q].split()) for q in others])
    warm: list[str] = []
    for i in range(max(len(r) for r in rest)):  # round-robin over the collections
        for r in rest:
            if len(warm) < warmup and i < len(r) and r[i] and r[i] not in seen:
                seen.add(r[i])
                warm.append(r[i])
    return timed, warm


def write_source(path: Path, records: list[dict], factor: int) -> int:
    """The records repeated `factor` times (replica r >= 2: id + "-r<r>"); returns the count."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for r in range(1, factor + 1):
            for rec in records:
                rec = dict(rec, _id=rec["_id"] if r == 1 else f"{rec['_id']}-r{r}")
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                count += 1
    return count


# -- the subprocesses ------------------------------------------------------------------------


def run_worker(job: dict) -> dict:
    """Run `job` in a fresh Python process (this script with --worker); its JSON answer."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(job)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"worker {job['job']} {job['engine']} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def read_docs(source: str) -> dict[str, tuple[str, str]]:
    docs = {}
    with open(source, encoding="utf-8") as lines:
        for line in lines:
            rec = json.loads(line)
            docs[rec["_id"]] = (rec.get("title") or "", rec.get("text") or "")
    return docs


def worker_build(engine: str, source: str, target: str) -> dict:
    """Build one baseline engine from the records (read first, untimed)."""
    docs = read_docs(source)
    if engine == "fts5":
        t0 = time.perf_counter()
        Fts5.in_file(target, docs).db.close()
        return {"build_s": time.perf_counter() - t0}
    if engine == "whoosh":
        from whoosh import index
        from whoosh.analysis import StandardAnalyzer
        from whoosh.fields import ID, TEXT, Schema

        Path(target).mkdir(parents=True)
        t0 = time.perf_counter()
        schema = Schema(id=ID(stored=True), body=TEXT(analyzer=StandardAnalyzer()))
        ix = index.create_in(target, schema)
        writer = ix.writer()
        for did, (title, text) in docs.items():
            writer.add_document(id=did, body=f"{title} {text}")
        writer.commit()
        ix.close()
        return {"build_s": time.perf_counter() - t0}
    if engine == "tantivy":
        import tantivy

        Path(target).mkdir(parents=True)
        t0 = time.perf_counter()
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("did", stored=True, tokenizer_name="raw")
        builder.add_text_field("body", stored=False, tokenizer_name="en_stem")
        ix = tantivy.Index(builder.build(), path=target)
        writer = ix.writer(num_threads=1)
        for did, (title, text) in docs.items():
            writer.add_document(tantivy.Document(did=did, body=f"{title} {text}"))
        writer.commit()
        writer.wait_merging_threads()
        return {"build_s": time.perf_counter() - t0}
    raise ValueError(engine)


def open_engine(engine: str, target: str):
    """Open `target`; a function searching it (top 10) and returning the hit count."""
    if engine == "kb":
        from kb.search.build import KnowledgeBase

        kb = KnowledgeBase(target)
        return lambda q: len(kb.search(q, limit=10).hits)
    if engine == "fts5":
        fts = Fts5.in_file(target)
        return lambda q: len(fts.search(q, limit=10))
    if engine == "whoosh":
        from whoosh import index
        from whoosh.query import Or, Term

        ix = index.open_dir(target)
        searcher = ix.searcher()
        analyzer = ix.schema["body"].analyzer

        def search_whoosh(q: str) -> int:
            words = list(dict.fromkeys(t.text for t in analyzer(q)))
            if not words:
                return 0
            hits = searcher.search(Or([Term("body", w) for w in words]), limit=10)
            return len([hit["id"] for hit in hits])

        return search_whoosh
    if engine == "tantivy":
        import tantivy

        ix = tantivy.Index.open(target)
        searcher = ix.searcher()

        def search_tantivy(q: str) -> int:
            expression = Fts5.match_expression(q)
            if expression is None:
                return 0
            found = searcher.search(ix.parse_query(expression, ["body"]), 10)
            return len([searcher.doc(address)["did"] for _score, address in found.hits])

        return search_tantivy
    raise ValueError(engine)


def worker_search(engine: str, target: str, queries_file: str) -> dict:
    """Open, warm up, time every query; RSS after opening and the peak (VmHWM) at the end."""
    queries = json.loads(Path(queries_file).read_text(encoding="utf-8"))
    if engine == "kb":  # the code is loaded before the "start" figure, as for the others
        import kb.search.build  # noqa: F401
    elif engine == "whoosh":
        import whoosh.index  # noqa: F401
    elif engine == "tantivy":
        import tantivy  # noqa: F401
    rss_start = proc_status_mb("VmRSS")
    t0 = time.perf_counter()
    search = open_engine(engine, target)
    open_s = time.perf_counter() - t0
    rss_open = proc_status_mb("VmRSS")
    for q in queries["warmup"]:
        search(q)
    times, hits, empty = [], 0, 0
    for q in queries["timed"]:
        t0 = time.perf_counter()
        n = search(q)
        times.append((time.perf_counter() - t0) * 1000)
        hits += n
        empty += n == 0
    return {
        "open_s": open_s,
        "rss_start_mb": rss_start,
        "rss_open_mb": rss_open,
        "peak_rss_mb": proc_status_mb("VmHWM"),
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "p99_ms": percentile(times, 99),
        "mean_ms": sum(times) / len(times),
        "queries": len(times),
        "mean_hits": hits / len(times),
        "queries_without_hits": empty,
    }


def worker_main(spec: str) -> None:
    job = json.loads(spec)
    if job["job"] == "build":
        out = worker_build(job["engine"], job["source"], job["target"])
    else:
        out = worker_search(job["engine"], job["target"], job["queries"])
    print(json.dumps(out))


# -- one size --------------------------------------------------------------------------------


def timed_kb(*args: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = kb_command(*args)
    return time.perf_counter() - t0, out


def prepare_size(
    folder: Path, records: list[dict], factor: int, stamp: dict, keep: bool, log
) -> dict:
    """The size's source file and kb corpus (imported now, or kept with --keep)."""
    stamp_file = folder / "import.json"
    source, corpus = folder / "source.jsonl", folder / "corpus"
    if keep and stamp_file.is_file() and corpus.is_dir() and source.is_file():
        try:
            kept = json.loads(stamp_file.read_text(encoding="utf-8"))
        except ValueError:
            kept = {}
        if kept.get("stamp") == stamp:
            log(f"  kept the corpus imported on {kept['imported_at']} ({kept['sections']} sec.)")
            return dict(kept, import_reused=True)
    shutil.rmtree(folder, ignore_errors=True)
    corpus.mkdir(parents=True)
    sections = write_source(source, records, factor)
    import_s, said = timed_kb("import", "jsonl", str(source), "--corpus", str(corpus))
    log(f"  kb import: {said} ({import_s:.1f} s)")
    info = {
        "stamp": stamp,
        "sections": sections,
        "import_s": import_s,
        "imported_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    stamp_file.write_text(json.dumps(info), encoding="utf-8")
    return dict(info, import_reused=False)


def measure_size(
    folder: Path, prepared: dict, engines: list[str], queries_file: Path, turn: int, log
) -> dict:
    from kb.index import current_build

    source, out = folder / "source.jsonl", {}
    index = folder / "index"
    shutil.rmtree(index, ignore_errors=True)
    build_s, said = timed_kb("build", "--corpus", str(folder / "corpus"), "--index", str(index))
    build = current_build(index)
    meta = json.loads((build / "meta.json").read_text(encoding="utf-8"))
    log(f"  kb build: {said.splitlines()[-1] if said else 'done'} ({build_s:.1f} s)")
    out["kb"] = {
        "sections": meta.get("sections", prepared["sections"]),
        "import_s": prepared["import_s"],
        "import_reused": prepared["import_reused"],
        "build_s": build_s,
        "size_bytes": dir_bytes(build),
    }
    targets = {"kb": build, "fts5": folder / "fts5.sqlite"}
    targets |= {"whoosh": folder / "whoosh", "tantivy": folder / "tantivy"}
    for engine in engines:
        if engine == "kb":
            continue
        target = targets[engine]
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        job = {"job": "build", "engine": engine, "source": str(source), "target": str(target)}
        built = run_worker(job)
        out[engine] = {
            "sections": prepared["sections"],
            "build_s": built["build_s"],
            "size_bytes": dir_bytes(target),
        }
        log(f"  {engine} build: {built['build_s']:.1f} s")
    order = engines[turn % len(engines) :] + engines[: turn % len(engines)]
    for engine in order:
        job = {
            "job": "search",
            "engine": engine,
            "target": str(targets[engine]),
            "queries": str(queries_file),
        }
        out[engine].update(run_worker(job))
        m = out[engine]
        log(
            f"  {engine} search: p50 {m['p50_ms']:.2f} ms, p95 {m['p95_ms']:.2f} ms, "
            f"peak RSS {m['peak_rss_mb']:.0f} MB"
        )
    fts = out["fts5"]
    for m in out.values():
        m["size_mb"] = m["size_bytes"] / MB
        m["build_ratio_fts5"] = m["build_s"] / fts["build_s"]
        m["p95_ratio_fts5"] = m["p95_ms"] / fts["p95_ms"]
        m["build_s_per_1k"] = m["build_s"] / (m["sections"] / 1000)
    return {e: out[e] for e in engines}


# -- report ----------------------------------------------------------------------------------


def table(sizes: list[dict]) -> str:
    head = (
        f"{'size':>5} {'engine':8} {'sections':>9} {'import s':>9} {'build s':>8} "
        f"{'size MB':>8} {'RSS open MB':>11} {'peak RSS MB':>11} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'build/FTS5':>10} {'p95/FTS5':>9}"
    )
    lines = [head, "-" * len(head)]
    for size in sizes:
        for engine, m in size["engines"].items():
            imported = "-"
            if "import_s" in m:
                imported = f"{m['import_s']:.1f}" + ("*" if m["import_reused"] else "")
            lines.append(
                f"{size['label']:>5} {engine:8} {m['sections']:>9,} {imported:>9} "
                f"{m['build_s']:>8.2f} {m['size_mb']:>8.1f} {m['rss_open_mb']:>11.1f} "
                f"{m['peak_rss_mb']:>11.1f} {m['p50_ms']:>8.2f} {m['p95_ms']:>8.2f} "
                f"{m['build_ratio_fts5']:>9.2f}x {m['p95_ratio_fts5']:>8.2f}x"
            )
    if any(m.get("import_reused") for s in sizes for m in s["engines"].values()):
        lines.append("* import kept from an earlier run (--keep): its time is that run's")
    return "\n".join(lines)


def derive(sizes: list[dict], engines: list[str]) -> dict:
    """Memory slopes, build time per 1k sections, and the targets."""
    derived: dict = {"memory": {}, "build_per_1k": {}}
    for engine in engines:
        xs = [s["engines"][engine]["sections"] / 1000 for s in sizes]
        ys = [s["engines"][engine]["peak_rss_mb"] for s in sizes]
        try:
            slope, base = least_squares(xs, ys)
            derived["memory"][engine] = {"mb_per_1k_sections": slope, "base_mb": base}
        except ValueError:
            derived["memory"][engine] = None
        per_1k = {s["label"]: s["engines"][engine]["build_s_per_1k"] for s in sizes}
        first, last = sizes[0]["engines"][engine], sizes[-1]["engines"][engine]
        derived["build_per_1k"][engine] = {
            "s_per_1k_sections": per_1k,
            "largest_over_smallest": (
                last["build_s_per_1k"] / first["build_s_per_1k"] if len(sizes) > 1 else None
            ),
        }
    ratios = {s["label"]: s["engines"]["kb"]["p95_ratio_fts5"] for s in sizes}
    memory = derived["memory"]["kb"]
    linear = derived["build_per_1k"]["kb"]["largest_over_smallest"]
    span = f"{sizes[-1]['label']} vs {sizes[0]['label']}"
    derived["targets"] = {
        "search_p95": {
            "target": f"kb p95 <= {TARGET_P95_RATIO}x FTS5 at every size",
            "value": ratios,
            "met": all(r <= TARGET_P95_RATIO for r in ratios.values()),
        },
        "memory_slope": {
            "target": f"kb peak RSS slope < {TARGET_MB_PER_1K:g} MB per 1k sections",
            "value": memory and memory["mb_per_1k_sections"],
            "met": None if memory is None else memory["mb_per_1k_sections"] < TARGET_MB_PER_1K,
        },
        "build_linearity": {
            "target": (
                f"kb build s per section at 10x <= {TARGET_LINEARITY}x that at 1x"
                + ("" if span == "10x vs 1x" else f" (measured: {span})")
            ),
            "value": linear,
            "met": None if linear is None else linear <= TARGET_LINEARITY,
        },
    }
    return derived


def report(derived: dict, sizes: list[dict], engines: list[str]) -> str:
    labels = ", ".join(s["label"] for s in sizes)
    lines = ["", f"memory (least squares of peak RSS over sections, sizes {labels}):"]
    for engine in engines:
        m = derived["memory"][engine]
        fit = "needs two sizes or more"
        if m is not None:
            fit = f"{m['mb_per_1k_sections']:.2f} MB per 1k sections + {m['base_mb']:.0f} MB base"
        lines.append(f"  {engine:8} {fit}")
    lines.append("build seconds per 1k sections (largest / smallest size):")
    for engine in engines:
        b = derived["build_per_1k"][engine]
        each = ", ".join(f"{k} {v:.2f}" for k, v in b["s_per_1k_sections"].items())
        ratio = b["largest_over_smallest"]
        lines.append(f"  {engine:8} {each}" + ("" if ratio is None else f"  ({ratio:.2f}x)"))
    lines.append("targets:")
    for t in derived["targets"].values():
        verdict = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        value = t["value"]
        if isinstance(value, dict):
            shown = ", ".join(f"{k} {v:.2f}x" for k, v in value.items())
        elif value is None:
            shown = "-"
        else:
            shown = f"{value:.2f}"
        lines.append(f"  {verdict:12} {t['target']}: {shown}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1,3,10", help="replication factors (default 1,3,10)")
    parser.add_argument("--queries", type=int, default=300, help="distinct timed test queries")
    parser.add_argument("--warmup", type=int, default=10, help="other queries run first")
    parser.add_argument("--work", type=Path, default=WORK / "scale", help="work folder")
    parser.add_argument("--keep", action="store_true", help="reuse corpora imported before")
    parser.add_argument(
        "--fraction", type=float, default=1.0, help="share of each collection (quick runs)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker)
        return
    factors = sorted({int(x) for x in args.sizes.split(",") if x.strip()})
    if not factors or factors[0] < 1 or not 0 < args.fraction <= 1:
        raise SystemExit("--sizes takes factors >= 1 (e.g. 1,3,10); --fraction is in (0, 1]")
    started = time.perf_counter()
    machine = machine_info()
    print(f"machine: {machine['cpus']} cpus, load average {machine['loadavg']}", flush=True)

    engines = ["kb", "fts5", "whoosh"]
    if importlib.util.find_spec("tantivy") is not None:
        engines.append("tantivy")
        tantivy_version = metadata.version("tantivy")
    else:
        tantivy_version = None
        print("tantivy: not installed (pip install -U pip; pip install -e '.[bench]')")

    args.work.mkdir(parents=True, exist_ok=True)
    records, notes = base_records(args.fraction, print)
    timed, warm = sample_queries(args.queries, args.warmup)
    queries_file = args.work / "queries.json"
    queries_file.write_text(json.dumps({"timed": timed, "warmup": warm}), encoding="utf-8")
    print(f"1x: {len(records):,} sections; {len(timed)} timed queries, {len(warm)} warm-up")
    startup_s, _ = timed_kb("--help")
    print(f"kb start-up (kb --help, a subprocess): {startup_s:.2f} s", flush=True)

    inputs = [
        f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
        for p in (load_collection(n).folder / "corpus.jsonl" for n in COLLECTIONS)
    ]
    sizes = []
    for turn, factor in enumerate(factors):
        label = f"{factor}x"
        name = label if args.fraction == 1 else f"{label}-f{args.fraction:g}"
        folder = args.work / name
        print(f"{label}: {len(records) * factor:,} sections in {folder}", flush=True)
        stamp = {"factor": factor, "fraction": args.fraction, "inputs": inputs}
        prepared = prepare_size(folder, records, factor, stamp, args.keep, print)
        measured = measure_size(folder, prepared, engines, queries_file, turn, print)
        sizes.append({"factor": factor, "label": label, "engines": measured})

    derived = derive(sizes, engines)
    print()
    print(table(sizes))
    print(report(derived, sizes, engines))

    machine["loadavg_at_start"] = machine.pop("loadavg")
    machine["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results = {
        "machine": machine,
        "args": {
            "sizes": factors,
            "queries": len(timed),
            "warmup": len(warm),
            "fraction": args.fraction,
            "keep": args.keep,
            "seed": SEED,
        },
        "engines": {
            "kb": "kb import jsonl + kb build (subprocesses); KnowledgeBase.search(q, limit=10)",
            "fts5": "SQLite FTS5 file, porter unicode61, bm25(), quoted words OR-ed",
            "whoosh": "one TEXT field (StandardAnalyzer) + stored ID, default writer, OR query",
            "tantivy": (
                f"tantivy=={tantivy_version}, en_stem, one writer thread, quoted words OR-ed"
                if tantivy_version
                else "not installed"
            ),
        },
        "notes": notes,
        "kb_startup_s": startup_s,
        "sections_1x": len(records),
        "sizes": sizes,
        "derived": derived,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "scale.json"
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nwrote {out.relative_to(ROOT)}; elapsed {results['elapsed_s']:.1f} s")


if __name__ == "__main__":
    main()
