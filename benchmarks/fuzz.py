"""Long API fuzzing run: schemathesis against kb under gunicorn, every operation.

    python benchmarks/fuzz.py [--max-examples 500] [--seed N]

tests/test_api_fuzz.py is the bounded version that CI runs in-process (40 examples per
operation). This script runs the same idea for longer and through the production stack
(gunicorn, gunicorn.conf.py, the shipped corpus built fresh): schemathesis' command line
reads kb's own /api/v1/openapi.json and, for every operation, generates valid and invalid
parameters (examples, coverage and fuzzing phases) with all of its checks on: no 5xx, status
codes, content types, headers and bodies as documented. Half of the generated section ids,
article slugs and topic ids are drawn from the shipped corpus (a schemathesis dictionary),
so the fuzzer reaches real sections as well as 404s.

Prints schemathesis' summary and writes benchmarks/results/fuzz.json (operations, test
cases, failures, seconds). Exit status is schemathesis' own: 0 only when every check passed.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, ROOT  # noqa: E402
from benchmarks.load import Gunicorn, kb_build  # noqa: E402


def schemathesis_command() -> list[str]:
    script = Path(sys.executable).with_name("schemathesis")
    return [str(script)] if script.exists() else [sys.executable, "-m", "schemathesis.cli"]


def write_config(path: Path) -> None:
    """A schemathesis.toml whose dictionaries hold the real ids of the shipped corpus."""
    from kb.corpus import load_corpus
    from kb.topics import load_taxonomy

    articles = load_corpus(ROOT / "corpus")
    values = {
        "section_id": [s.id for a in articles for s in a.sections],
        "slug": [a.slug for a in articles],
        "topic_id": [t.id for t in load_taxonomy().topics],
    }
    values["article"], values["topic"] = values["slug"], values["topic_id"]
    lines = []
    for name, items in values.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(items)}", ""]
    lines.append("[parameters]")
    lines += [f'{name} = {{ dictionary = "{name}", probability = 0.5 }}' for name in values]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--max-examples",
        type=int,
        default=500,
        help="test cases per operation and phase (default 500)",
    )
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kb-fuzz-") as work:
        work = Path(work)
        kb_build(ROOT / "corpus", work / "index")
        report = work / "report.json"
        config = work / "schemathesis.toml"
        write_config(config)
        with Gunicorn(work / "index", work) as server:
            command = [
                *schemathesis_command(),
                "--config-file",
                str(config),
                "run",
                f"{server.url}/api/v1/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                str(args.max_examples),
                "--seed",
                str(args.seed),
                "--workers",
                "2",
                "--no-color",
                "--report",
                "ndjson",
                "--report-ndjson-path",
                str(report),
            ]
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
            server_log = server.log_path.read_text(errors="replace")
    output = done.stdout + done.stderr
    print(output)
    seconds = time.perf_counter() - started

    summary = {
        "max_examples": args.max_examples,
        "seed": args.seed,
        "exit_status": done.returncode,
        "seconds": round(seconds, 1),
        "server_tracebacks": server_log.count("Traceback"),
    }
    operations = re.search(r"Selected:\s+(\d+)/(\d+)", output)
    cases = re.search(r"(\d+) generated, (\d+) passed(?:, (\d+) failed)?", output)
    summary["operations"] = int(operations.group(1)) if operations else None
    summary["test_cases"] = int(cases.group(1)) if cases else None
    summary["passed"] = int(cases.group(2)) if cases else None
    summary["failed"] = int(cases.group(3) or 0) if cases else None
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fuzz.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))
    print(f"wrote {RESULTS / 'fuzz.json'}")
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
