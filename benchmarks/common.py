"""Shared plumbing for the benchmark scripts: test collections, kb builds, an FTS5 baseline.

The collections are the BEIR-format folders under ../shared/datasets (SciFact, NFCorpus,
Cranfield). Each is imported through kb's own JSON Lines importer (`kb import jsonl`) and
indexed with `kb build`, exactly as a clinic would load a corpus; the imported corpus and
index are cached under benchmarks/work/ and rebuilt when the dataset or the code that shapes
the index (kb/index.py, kb/analysis.py, kb/importer/, kb/corpus.py, the taxonomy, the
Whoosh version) changes, or when --fresh is given.

The baseline is SQLite FTS5 (stdlib sqlite3, `tokenize='porter unicode61'`, bm25() ranking):
each document indexed as title + " " + text, the query's words quoted and OR-ed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
WORK = BENCH / "work"
RESULTS = BENCH / "results"
COLLECTIONS = ("scifact", "nfcorpus", "cranfield")
FTS_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)  # runs of letters and digits


def datasets_dir() -> Path:
    """../shared/datasets beside the repository (or $KB_DATASETS)."""
    env = os.environ.get("KB_DATASETS")
    if env:
        return Path(env)
    for candidate in (ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets")):
        if candidate.is_dir():
            return candidate
    raise SystemExit("datasets not found: set KB_DATASETS to the folder holding scifact/ etc.")


# -- collections -----------------------------------------------------------------------------


@dataclass
class Collection:
    name: str
    folder: Path
    docs: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (title, text)
    queries: dict[str, str] = field(default_factory=dict)

    def qrels(self, split: str = "test") -> dict[str, dict[str, int]]:
        """query id -> {doc id: grade}, only queries with at least one relevant document."""
        judged: dict[str, dict[str, int]] = {}
        with (self.folder / "qrels" / f"{split}.tsv").open(encoding="utf-8") as lines:
            next(lines)  # header
            for line in lines:
                parts = line.split("\t")
                if len(parts) < 3:
                    continue
                qid, did, grade = parts[0].strip(), parts[1].strip(), int(parts[2])
                judged.setdefault(qid, {})[did] = grade
        return {
            q: g for q, g in judged.items() if any(v > 0 for v in g.values()) and q in self.queries
        }

    def splits(self) -> list[str]:
        return sorted(p.stem for p in (self.folder / "qrels").glob("*.tsv"))


def load_collection(name: str) -> Collection:
    folder = datasets_dir() / name
    coll = Collection(name, folder)
    with (folder / "corpus.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                rec = json.loads(line)
                coll.docs[str(rec["_id"])] = (rec.get("title") or "", rec.get("text") or "")
    with (folder / "queries.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                rec = json.loads(line)
                coll.queries[str(rec["_id"])] = rec["text"]
    return coll


# -- kb builds -------------------------------------------------------------------------------


def _code_fingerprint(extra: str = "") -> str:
    """What an index build depends on; a change means the cached build is stale."""
    digest = hashlib.sha256(extra.encode())
    for rel in (
        "kb/index.py",
        "kb/analysis.py",
        "kb/importer",
        "kb/corpus.py",
        "kb/topics.py",
        "kb/taxonomy.py",
        "kb/models.py",
        "kb/data/taxonomy.yaml",
    ):
        path = ROOT / rel
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.read_bytes())
    digest.update(whoosh_distribution().encode())
    return digest.hexdigest()[:16]


def whoosh_distribution() -> str:
    for dist in ("whoosh-reloaded", "Whoosh-Reloaded", "whoosh", "Whoosh"):
        try:
            return f"{dist.lower()}=={metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return "whoosh==?"


def kb_command(*args: str) -> str:
    """Run the `kb` command line (the installed one beside this Python, else the module)."""
    script = Path(sys.executable).with_name("kb")
    cmd = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from kb.cli import main; main()"]
    )
    done = subprocess.run([*cmd, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"kb {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def prepare_kb(name: str, sources: list[tuple[Path, str]], fresh: bool = False, log=print) -> Path:
    """Import JSONL sources through `kb import jsonl` and `kb build`; return the index dir.

    `sources` are (corpus.jsonl path, id prefix): a prefix ("scifact-") keeps ids of
    different collections apart in one corpus; a prefixed copy of the file is imported.
    """
    dist = whoosh_distribution()
    # Builds made with another Whoosh distribution (see README: 2.7.4 vs reloaded) are kept
    # apart, so comparing the two does not rebuild the project's own cache each time.
    work = WORK / (name if dist.startswith("whoosh-reloaded") else f"{name}@{dist}")
    stamp_file = work / "stamp.json"
    inputs = "|".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}:{x}" for p, x in sources)
    stamp = {"code": _code_fingerprint(), "inputs": inputs}
    if not fresh and stamp_file.is_file():
        try:
            if json.loads(stamp_file.read_text()) == stamp:
                return work / "index"
        except ValueError:
            pass
    shutil.rmtree(work, ignore_errors=True)
    (work / "corpus").mkdir(parents=True)
    started = time.perf_counter()
    skipped = 0
    for path, prefix in sources:
        # A prefixed copy keeps ids of several collections apart (see beir_records).
        source = work / f"{prefix or path.parent.name + '-'}corpus.jsonl"
        records, left_out = beir_records(path, prefix)
        skipped += left_out
        with source.open("w", encoding="utf-8") as out:
            out.writelines(json.dumps(rec) + "\n" for rec in records)
        log(
            f"  [{name}] "
            + kb_command("import", "jsonl", str(source), "--corpus", str(work / "corpus"))
        )
    log(
        f"  [{name}] "
        + kb_command("build", "--corpus", str(work / "corpus"), "--index", str(work / "index"))
    )
    if skipped:
        log(f"  [{name}] left out {skipped} record(s) with no text")
    log(f"  [{name}] imported and built in {time.perf_counter() - started:.1f} s")
    stamp_file.write_text(json.dumps(stamp))
    return work / "index"


def slug_to_doc(section_id: str, prefix: str = "") -> str:
    """`kb import jsonl` makes the slug from the BEIR _id; one section per document."""
    slug = section_id.split(":", 1)[0]
    return slug[len(prefix) :] if prefix and slug.startswith(prefix) else slug


def doc_slug_map(coll: Collection) -> dict[str, str]:
    """BEIR _id -> kb slug (make_slug lower-cases, so map back to the original id)."""
    from kb.importer import make_slug

    return {make_slug(d): d for d in coll.docs}


def beir_records(path: Path, prefix: str = "") -> tuple[list[dict], int]:
    """The records of a BEIR corpus.jsonl as prepare_kb imports them, and how many it skips.

    Ids get `prefix`; records with no text (two in Cranfield) are left out, as prepare_kb
    leaves them out (kb's importer refuses them, and no engine can match them anyway).
    """
    records, skipped = [], 0
    with Path(path).open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            rec = json.loads(line)
            if not " ".join(str(rec.get("text") or "").split()):
                skipped += 1
                continue
            rec["_id"] = f"{prefix}{rec['_id']}"
            records.append(rec)
    return records, skipped


# -- FTS5 baseline ---------------------------------------------------------------------------


# The table of Fts5, in memory (Fts5()) or in a file (Fts5.in_file).
FTS5_TABLE = (
    "CREATE VIRTUAL TABLE docs USING fts5(did UNINDEXED, body, tokenize='porter unicode61')"
)


class Fts5:
    """SQLite FTS5 over title + " " + text, porter unicode61 tokenizer, bm25() ranking."""

    def __init__(self, docs: dict[str, tuple[str, str]]):
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute(FTS5_TABLE)
        self.db.executemany(
            "INSERT INTO docs(did, body) VALUES (?, ?)",
            ((d, f"{t} {x}") for d, (t, x) in docs.items()),
        )
        self.db.commit()

    @staticmethod
    def match_expression(text: str) -> str | None:
        words = FTS_WORD_RE.findall(text)
        return " OR ".join(f'"{w}"' for w in words) if words else None

    def search(self, text: str, limit: int = 10) -> list[tuple[str, float]]:
        expression = self.match_expression(text)
        if expression is None:
            return []
        rows = self.db.execute(
            "SELECT did, bm25(docs) FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?",
            (expression, limit),
        ).fetchall()
        return [(d, -s) for d, s in rows]

    @classmethod
    def in_file(cls, path: str | Path, docs: dict[str, tuple[str, str]] | None = None) -> Fts5:
        """The same table in a database file: created from `docs` when given, else opened.

        Creating it is CREATE + INSERT of every document + COMMIT (what benchmarks/scale.py
        times as FTS5's build); the file must not exist yet.
        """
        self = cls.__new__(cls)
        self.db = sqlite3.connect(str(path), check_same_thread=False)
        if docs is not None:
            self.db.execute(FTS5_TABLE)
            self.db.executemany(
                "INSERT INTO docs(did, body) VALUES (?, ?)",
                ((d, f"{t} {x}") for d, (t, x) in docs.items()),
            )
            self.db.commit()
        return self


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank-interpolated percentile (numpy's default 'linear')."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# -- process and machine figures -------------------------------------------------------------

MB = 1024 * 1024  # "MB" in the benchmark tables: 2**20 bytes


def proc_status_mb(field: str) -> float:
    """A memory line of /proc/self/status in MB: VmRSS (resident now), VmHWM (peak), ..."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024 / MB  # the kernel reports kB
    raise KeyError(field)


def dir_bytes(path: Path) -> int:
    """Bytes of every file under `path` (or of `path` itself, a file)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def least_squares(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """(slope, intercept) of the least-squares line through the points; needs 2 distinct xs."""
    n = len(xs)
    if n < 2 or len(set(xs)) < 2:
        raise ValueError("a line needs at least two distinct x values")
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return slope, my - slope * mx


def machine_info() -> dict:
    """CPU count, load average now, Python, platform and Whoosh distribution."""
    import platform

    return {
        "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "whoosh": whoosh_distribution(),
    }


# -- evaluation ------------------------------------------------------------------------------

MEASURES = ("nDCG@10", "R@100", "RR@10")


def evaluate(
    run: dict[str, list[tuple[str, float]]],
    qrels: dict[str, dict[str, int]],
    per_query: bool = False,
):
    """nDCG@10 (graded), Recall@100, MRR@10 with ir-measures, over every judged query.

    A query with no results still counts (as 0): trec_eval would silently skip it, so it
    gets a placeholder document that is never relevant.
    """
    import ir_measures
    from ir_measures import Qrel, ScoredDoc

    measures = [ir_measures.parse_measure(m) for m in MEASURES]
    qrel_rows = [Qrel(q, d, g) for q, docs in qrels.items() for d, g in docs.items()]
    run_rows = []
    for q in qrels:
        ranked = run.get(q) or [("__no_result__", 0.0)]
        n = len(ranked)
        # Rank order is what counts: scores as descending positions (ties broken by rank).
        run_rows.extend(ScoredDoc(q, d, float(n - i)) for i, (d, _s) in enumerate(ranked))
    if per_query:
        out: dict[str, dict[str, float]] = {}
        for m in ir_measures.iter_calc(measures, qrel_rows, run_rows):
            out.setdefault(m.query_id, {})[str(m.measure)] = m.value
        return out
    agg = ir_measures.calc_aggregate(measures, qrel_rows, run_rows)
    return {str(m): agg[m] for m in measures}
