#!/usr/bin/env python
"""A full `kb build` under two git revisions, taking turns on the same machine.

    python benchmarks/ab_build.py REV_A [REV_B]          # REV_B: the work tree
    python benchmarks/ab_build.py REV_A --rounds 6
    python benchmarks/ab_build.py REV_A --corpus DIR     # default: scale.py's 1x corpus

Each revision's `kb` package is exported (`git archive`; the work tree is used as it is)
and `kb build --full` of the same corpus runs in a new process for each, one revision
after the other, which one goes first swapping every round. A build's time on a shared
machine moves by a third from hour to hour, so only builds taking turns in the same
minutes compare. Each build runs with the revision's directory first on PYTHONPATH and a
temporary working directory, and checks that the `kb` it imported is that revision's: run
from the repository, `python -c` would import the work tree's kb for both sides.

Reports each build's wall time and its phases (as `kb build` prints them), then the mean
and median of each revision and the ratio B/A. The default corpus is the 10,214 sections
of SciFact, NFCorpus and Cranfield that `python benchmarks/scale.py --sizes 1` imports
(into benchmarks/work/scale/1x/corpus).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ab_search import export  # noqa: E402

DEFAULT_CORPUS = ROOT / "benchmarks" / "work" / "scale" / "1x" / "corpus"
PHASE_RE = re.compile(r"^kb build: (.+) took ([\d.]+) s$")

BUILD = """
import sys
import kb
assert kb.__file__.startswith({code!r}), "imported " + kb.__file__
from kb.cli import main
sys.argv = ["kb", "build", "--corpus", {corpus!r}, "--index", {index!r}, "--full"]
main()
"""


def build_once(code: Path, corpus: Path, index: Path, work: Path) -> tuple[float, dict]:
    """(wall seconds, phase -> seconds) of one `kb build --full` with `code`'s kb."""
    script = BUILD.format(code=str(code), corpus=str(corpus), index=str(index))
    env = {**os.environ, "PYTHONPATH": str(code)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=work, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"kb build failed with {code}:\n{done.stderr[-2000:]}")
    phases = {
        m[1]: float(m[2]) for m in map(PHASE_RE.match, done.stderr.splitlines()) if m is not None
    }
    return wall, phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev_a", help="the revision to compare against (e.g. HEAD~1)")
    parser.add_argument("rev_b", nargs="?", help="the other revision (default: the work tree)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus to build")
    parser.add_argument("--rounds", type=int, default=4, help="builds of each revision")
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    if not corpus.is_dir():
        raise SystemExit(f"no corpus at {corpus}: run `python benchmarks/scale.py --sizes 1`")
    names = {"A": args.rev_a, "B": args.rev_b or "work tree"}
    with tempfile.TemporaryDirectory(prefix="kb-ab-build-") as tmp:
        tmp = Path(tmp)
        codes = {"A": export(args.rev_a, tmp), "B": export(args.rev_b, tmp)}
        walls: dict[str, list[float]] = {"A": [], "B": []}
        print(f"A = {names['A']}, B = {names['B']}; corpus {corpus}; {args.rounds} rounds")
        for round_ in range(args.rounds):
            for side in ("A", "B") if round_ % 2 == 0 else ("B", "A"):
                wall, phases = build_once(codes[side], corpus, tmp / f"index-{side}", tmp)
                walls[side].append(wall)
                shown = ", ".join(f"{name} {seconds:.1f}" for name, seconds in phases.items())
                print(f"round {round_ + 1} {side}: {wall:6.2f} s  ({shown})", flush=True)
    print()
    for side in ("A", "B"):
        values = walls[side]
        print(
            f"{side} {names[side]}: mean {statistics.mean(values):.2f} s, "
            f"median {statistics.median(values):.2f} s, "
            f"range {min(values):.2f}-{max(values):.2f} s"
        )
    ratio = statistics.mean(walls["B"]) / statistics.mean(walls["A"])
    print(f"B / A (means): {ratio:.3f}x")


if __name__ == "__main__":
    main()
