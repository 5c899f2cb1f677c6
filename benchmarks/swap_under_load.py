#!/usr/bin/env python
"""Hot index swap under load: rebuild the index several times while kb serves searches.

    python benchmarks/swap_under_load.py                 # 5 rebuilds, 8 connections
    python benchmarks/swap_under_load.py --rebuilds 3 --connections 32

kb serves the shipped corpus under gunicorn (as benchmarks/load.py does) while wrk (or the
Python fallback client) searches (--workload, default long-tail: a distinct query on
nearly every request, so each one really searches the index being swapped). Meanwhile the
script rebuilds the index `--rebuilds` times with `kb build` into the same KB_INDEX_DIR,
from a copy of the corpus that holds one extra marker article with a word of its own
("kbswapmarker1", then "kbswapmarker2" replacing it, ...). After each build it checks,
over HTTP, that

* /api/v1/health names the new build (and how long that took after `kb build` returned),
* a search for the new marker word finds the marker article,
* a search for the previous marker word finds nothing (the old build is really gone),

and a probe thread polls /api/v1/health all along to show that the served build only ever
moves forward. Passes (exit 0) when the load saw 0 failed requests and every check held.
Figures go to benchmarks/results/swap_under_load.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import (  # noqa: E402
    RESULTS,
    SHIPPED_CORPUS,
    WORKLOADS,
    Gunicorn,
    drive,
    get_json,
    have_wrk,
    kb_build,
    machine,
    table,
    workload_paths,
)

MARKER_SLUG = "swap-marker"


def marker_word(n: int) -> str:
    return f"kbswapmarker{n}"


def write_marker(corpus: Path, n: int) -> None:
    """Replace the marker article with generation n (its own title and word)."""
    text = (
        "---\n"
        f"title: Swap marker {n}\n"
        f"slug: {MARKER_SLUG}\n"
        "source: benchmarks/swap_under_load.py\n"
        f"summary: Marker article of rebuild {n}, to prove the new index is served.\n"
        "---\n\n"
        f"This article exists only in rebuild {n}. Its word is {marker_word(n)}.\n"
    )
    (corpus / f"{MARKER_SLUG}.md").write_text(text, encoding="utf-8")


def search_total(base_url: str, q: str) -> tuple[int, list[str]]:
    status, body = get_json(f"{base_url}/api/v1/search?{urlencode({'q': q})}")
    if status != 200:
        raise AssertionError(f"search {q!r} answered {status}: {body}")
    return body["total"], [hit["article"] for hit in body["hits"]]


class HealthProbe(threading.Thread):
    """Polls /api/v1/health and records the sequence of builds it is told about."""

    def __init__(self, base_url: str, interval: float = 0.05):
        super().__init__(daemon=True)
        self.base_url = base_url
        self.interval = interval
        self.stop = threading.Event()
        self.seen: list[str] = []  # builds in the order first seen (with repeats on regress)
        self.polls = 0
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                status, body = get_json(f"{self.base_url}/api/v1/health", timeout=10)
                self.polls += 1
                if status != 200:
                    self.failures.append(f"{status} {body}")
                elif not self.seen or self.seen[-1] != body["build"]:
                    self.seen.append(body["build"])
            except OSError as exc:
                self.failures.append(repr(exc))
            self.stop.wait(self.interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rebuilds", type=int, default=5, help="number of rebuilds (5)")
    parser.add_argument("--connections", type=int, default=8, help="load connections (8)")
    parser.add_argument(
        "--pause", type=float, default=1.0, help="seconds of plain load between rebuilds (1)"
    )
    parser.add_argument(
        "--workload",
        choices=sorted(WORKLOADS),
        default="long-tail",
        help="queries of the load (long-tail: every request a real search)",
    )
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--workers", type=int, help="KB_WORKERS for gunicorn.conf.py")
    parser.add_argument("--threads", type=int, help="KB_THREADS for gunicorn.conf.py")
    parser.add_argument("--out", type=Path, default=RESULTS / "swap_under_load.json")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="kb-swap-"))
    corpus = workdir / "corpus"
    index = workdir / "index"
    shutil.copytree(SHIPPED_CORPUS, corpus)
    write_marker(corpus, 0)
    first, seconds = kb_build(corpus, index)
    print(f"initial build {first} in {seconds:.1f} s")
    server = Gunicorn(index, workdir, workers=args.workers, threads=args.threads)
    swaps: list[dict] = []
    problems: list[str] = []
    load_result: dict = {}
    probe = None
    try:
        server.start()
        base = server.url
        assert search_total(base, marker_word(0))[0] >= 1, "marker 0 not found at start"
        probe = HealthProbe(base)
        probe.start()
        stop_load = threading.Event()

        def run_load():
            load_result.update(
                drive(
                    base,
                    workload_paths(args.workload),
                    args.connections,
                    3600,
                    args.client,
                    workdir,
                    stop_event=stop_load,
                )
            )

        loader = threading.Thread(target=run_load)
        loader.start()
        time.sleep(args.pause + 1)  # load is running before the first swap
        for n in range(1, args.rebuilds + 1):
            write_marker(corpus, n)
            build, build_seconds = kb_build(corpus, index)
            built_at = time.perf_counter()
            deadline = built_at + 30
            while True:
                status, health = get_json(f"{base}/api/v1/health")
                if status == 200 and health["build"] == build:
                    switch_ms = (time.perf_counter() - built_at) * 1000
                    break
                if time.perf_counter() > deadline:
                    raise AssertionError(f"health still names {health} 30 s after {build}")
                time.sleep(0.01)
            new_total, new_articles = search_total(base, marker_word(n))
            old_total, _ = search_total(base, marker_word(n - 1))
            ok = new_total >= 1 and MARKER_SLUG in new_articles and old_total == 0
            if not ok:
                problems.append(
                    f"rebuild {n}: new marker total {new_total} {new_articles}, "
                    f"old marker total {old_total}"
                )
            swaps.append(
                {
                    "rebuild": n,
                    "build": build,
                    "kb_build_s": round(build_seconds, 2),
                    "health_switch_ms": round(switch_ms, 1),
                    "new_marker_hits": new_total,
                    "old_marker_hits": old_total,
                    "ok": ok,
                }
            )
            print(
                f"rebuild {n}: {build} built in {build_seconds:.1f} s under load; "
                f"health switched {switch_ms:.0f} ms later; "
                f"{marker_word(n)} -> {new_total} hit(s), {marker_word(n - 1)} -> "
                f"{old_total}",
                flush=True,
            )
            time.sleep(args.pause)
        stop_load.set()
        loader.join(timeout=120)
        probe.stop.set()
        probe.join(timeout=15)
        if server.proc.poll() is not None:
            problems.append("gunicorn exited during the run")
    finally:
        if probe is not None:
            probe.stop.set()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    expected = [first] + [s["build"] for s in swaps]
    # The probe may miss a build it never polled during, but must never go backwards.
    order = [expected.index(b) for b in probe.seen if b in expected]
    monotonic = order == sorted(order) and all(b in expected for b in probe.seen)
    if not monotonic:
        problems.append(f"health went backwards or named an unknown build: {probe.seen}")
    if probe.failures:
        problems.append(f"health probe failures: {probe.failures[:5]}")
    if not load_result:
        problems.append("the load generator gave no result")
    elif load_result["errors"]:
        problems.append(
            f"{load_result['errors']} failed requests under load: "
            f"{load_result['non_2xx']} non-2xx, {load_result['socket_errors']}"
        )
    if probe.seen and probe.seen[-1] != expected[-1]:
        problems.append(f"probe ended on {probe.seen[-1]}, not {expected[-1]}")

    result = {
        "what": "kb build x N into the served index while searches run (kb under gunicorn)",
        "command": "python benchmarks/swap_under_load.py " + " ".join(argv or sys.argv[1:]),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "client": "wrk"
        if args.client == "wrk" or (args.client == "auto" and have_wrk())
        else "python",
        "workload": args.workload,
        "load": load_result,
        "swaps": swaps,
        "health_probe": {
            "polls": probe.polls,
            "builds_seen_in_order": probe.seen,
            "failures": len(probe.failures),
            "monotonic": monotonic,
        },
        "problems": problems,
        "passed": not problems,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    print()
    if load_result:
        print(
            table(
                [load_result],
                f"{args.workload} search load during {len(swaps)} "
                f"rebuilds ({load_result['seconds']:.0f} s):",
            )
        )
    switches = [s["health_switch_ms"] for s in swaps]
    builds = [s["kb_build_s"] for s in swaps]
    if swaps:
        print(
            f"kb build under load: {min(builds):.1f}-{max(builds):.1f} s; health named the "
            f"new build {min(switches):.0f}-{max(switches):.0f} ms after kb build returned"
        )
    print(
        f"health probe: {probe.polls} polls, builds seen in order: {len(probe.seen)} "
        f"of {len(expected)}, never backwards: {monotonic}"
    )
    print(
        "PASSED: 0 failed requests, every rebuild served"
        if not problems
        else "FAILED:\n  " + "\n  ".join(problems)
    )
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
