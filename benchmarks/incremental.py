"""Incremental builds: `kb build` after editing, adding, deleting or renaming one article.

    python benchmarks/incremental.py                  # the 10k-section corpus of scale.py
    python benchmarks/incremental.py --runs 3 --corpus corpus   # any corpus folder

The corpus (default benchmarks/work/scale/1x/corpus, made by `python benchmarks/scale.py
--sizes 1`) is copied to a scratch folder and built in full once (timed: the baseline of
the same run). Then, `--runs` times each, one article is edited (a paragraph appended), a
new one added, one deleted and one renamed (same text, a new file name and slug), each
followed by `kb build` in a fresh process; each build is timed as a whole (process start-up
included), as a person at a terminal sees it. Every build must be incremental ("updated"
in its output) and leave CURRENT naming a new build. Printed: per change, the median and
slowest build, and the ratio of the median to the full build; the target is <= 2 s.
Writes benchmarks/results/incremental.json (--out).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import kb_command, machine_info  # noqa: E402

TARGET_S = 2.0
DEFAULT_CORPUS = ROOT / "benchmarks" / "work" / "scale" / "1x" / "corpus"


def kb_build(corpus: Path, index: Path, *extra: str) -> tuple[float, str]:
    """Wall time of one `kb build` in a new process, and its last output line."""
    started = time.perf_counter()
    output = kb_command("build", "--corpus", str(corpus), "--index", str(index), *extra)
    lines = output.splitlines()
    return time.perf_counter() - started, lines[-1] if lines else ""


def settle() -> None:
    """kb trusts a file's size and mtime only when it is older than a second (kb.corpus)."""
    time.sleep(1.1)


def change(kind: str, corpus: Path, source: Path, run: int) -> None:
    """Make one change of `kind` to the corpus, from article file `source`."""
    added = corpus / f"added-{run}.md"
    if kind == "edit":
        text = source.read_text(encoding="utf-8")
        source.write_text(text + f"\nAn edited paragraph, run {run}.\n", encoding="utf-8")
    elif kind == "add":
        text = re.sub(r"(?m)^slug: .*$", f"slug: added-{run}", source.read_text(encoding="utf-8"))
        added.write_text(text, encoding="utf-8")
    elif kind == "delete":
        added.unlink()
    elif kind == "rename":
        source.rename(source.with_name(f"renamed-{run}-{source.name}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "incremental.json"
    )
    args = parser.parse_args()
    if not args.corpus.is_dir():
        raise SystemExit(
            f"{args.corpus} is missing: run `python benchmarks/scale.py --sizes 1` first, "
            "or pass --corpus"
        )
    scratch = Path(tempfile.mkdtemp(prefix="kb-incremental-"))
    try:
        corpus, index = scratch / "corpus", scratch / "index"
        shutil.copytree(args.corpus, corpus)
        files = sorted(corpus.glob("*.md"))
        print(f"{len(files)} articles in {args.corpus}; full build...", flush=True)
        full_s, line = kb_build(corpus, index, "--full")
        print(f"  full build: {full_s:.1f} s  ({line})", flush=True)
        settle()
        times: dict[str, list[float]] = {"edit": [], "add": [], "delete": [], "rename": []}
        for run in range(args.runs):
            source = files[(run * 997) % len(files)]
            for kind in times:
                change(kind, corpus, source, run)
                settle()
                elapsed, line = kb_build(corpus, index)
                if "updated" not in line:
                    raise SystemExit(f"{kind}: the build was not incremental: {line}")
                times[kind].append(elapsed)
                print(f"  run {run + 1} {kind:6s} {elapsed:5.2f} s  ({line})", flush=True)
            files = sorted(corpus.glob("*.md"))
        rows = {}
        print(f"\n{'change':8s} {'median s':>9s} {'slowest s':>10s} {'/ full':>7s}  target")
        for kind, values in times.items():
            median = statistics.median(values)
            met = "met" if max(values) <= TARGET_S else "missed"
            rows[kind] = {"median_s": median, "max_s": max(values), "runs": values}
            print(
                f"{kind:8s} {median:9.2f} {max(values):10.2f} {median / full_s:7.3f}  "
                f"<= {TARGET_S:.0f} s: {met}"
            )
        out = {
            "corpus": str(args.corpus),
            "articles": len(files),
            "full_build_s": full_s,
            "changes": rows,
            "machine": machine_info(),
        }
        args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.out}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
