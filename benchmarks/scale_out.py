#!/usr/bin/env python
"""Scale-out on loopback: nginx in front of two kb replicas, then a rolling index update.

    python benchmarks/scale_out.py                    # 10 s of load per step
    python benchmarks/scale_out.py --duration 5 --connections 32

What it shows (see docs/deploying.md):
1. The index is built once (`kb build` on a "build host" directory) and shipped as an
   artifact: the build directory is copied into each replica's own KB_INDEX_DIR under a
   temporary name, renamed into builds/<name>, then CURRENT is replaced atomically.
2. Two replicas, `gunicorn -c gunicorn.conf.py wsgi:app` each with its own index copy and
   KB_PROXY_COUNT=1, behind nginx (Debian package; a temporary nginx.conf, run as
   `nginx -p DIR -c nginx.conf -e error.log -g 'daemon off;'`) with keep-alive upstreams
   and an access log without query strings ($uri, never $request or $args).
3. Load through nginx with wrk (or the Python fallback client) and how it spread.
4. A rolling update under load: a new build (the corpus plus a marker article) is made
   once, shipped to replica 1, then to replica 2; 0 failed requests, and both replicas
   (asked directly) and nginx serve the new build at the end.
5. No log line (nginx access and error logs, gunicorn output) holds a query string.

Both replicas share this machine's cores, so throughput through nginx is not higher than
one instance's here: on separate machines each replica brings its own cores.
Figures go to benchmarks/results/scale_out.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import (  # noqa: E402
    QUERIES,
    RESULTS,
    SHIPPED_CORPUS,
    WORKLOADS,
    Gunicorn,
    drive,
    free_port,
    get_json,
    have_wrk,
    kb_build,
    machine,
    table,
    wait_for_health,
    workload_paths,
)

MARKER = "kbrollingmarker"

NGINX_CONF = """\
# kb behind nginx: a temporary configuration written by benchmarks/scale_out.py.
worker_processes 1;
pid {work}/nginx.pid;
# nginx writes the request line (with its query string) into error-level messages, such as
# a failed upstream connection; `crit` keeps health data out of the error log.
error_log {work}/nginx-error.log crit;

events {{
    worker_connections 1024;
}}

http {{
    # Privacy: the path ($uri) without the query string, never $request, $args or
    # $http_referer: the query is what someone typed about their health.
    log_format kb '$remote_addr [$time_local] "$request_method $uri $server_protocol" '
                  '$status $body_bytes_sent $request_time upstream=$upstream_addr';
    access_log {work}/nginx-access.log kb;

    client_body_temp_path {work}/nginx-tmp/body;
    proxy_temp_path {work}/nginx-tmp/proxy;
    fastcgi_temp_path {work}/nginx-tmp/fastcgi;
    uwsgi_temp_path {work}/nginx-tmp/uwsgi;
    scgi_temp_path {work}/nginx-tmp/scgi;

    upstream kb {{
{servers}
        keepalive 32;
    }}

    server {{
        listen 127.0.0.1:{port};

        location / {{
            proxy_pass http://kb;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
        }}
    }}
}}
"""


def ship(build_dir: Path, replica_index: Path, keep: int = 2) -> float:
    """Copy one finished build into a replica's index dir and switch its CURRENT atomically.

    The same steps as `rsync -a build/ host:index/builds/.tmp-NAME/`, `mv` to
    builds/NAME, then write CURRENT beside and rename it over (docs/deploying.md).
    Returns the seconds taken. Older shipped builds beyond `keep` are removed.
    """
    started = time.perf_counter()
    builds = replica_index / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    name = build_dir.name
    staging = builds / f".tmp-ship-{name}"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(build_dir, staging)
    os.replace(staging, builds / name)
    tmp = replica_index / f".CURRENT.{uuid.uuid4().hex[:8]}"
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, replica_index / "CURRENT")
    finished = sorted(p for p in builds.iterdir() if not p.name.startswith("."))
    for old in [p for p in finished if p.name != name][: -keep or None]:
        shutil.rmtree(old, ignore_errors=True)
    return time.perf_counter() - started


class Nginx:
    def __init__(self, work: Path, upstreams: list[str]):
        self.work = work
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (work / "nginx-tmp").mkdir(exist_ok=True)
        servers = "\n".join(f"        server {u} max_fails=3 fail_timeout=5s;" for u in upstreams)
        self.conf = work / "nginx.conf"
        self.conf.write_text(
            NGINX_CONF.format(work=work, servers=servers, port=self.port), encoding="utf-8"
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        base = [
            nginx,
            "-p",
            str(self.work),
            "-c",
            str(self.conf),
            "-e",
            str(self.work / "nginx-error.log"),
        ]
        check = subprocess.run([*base, "-t", "-q"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise SystemExit(f"nginx -t failed:\n{check.stderr}")
        self.proc = subprocess.Popen(
            [*base, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        wait_for_health(self.url, 30, self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish requests, then exit
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def upstream_spread(access_log: Path, since_line: int = 0) -> dict[str, int]:
    lines = access_log.read_text(encoding="utf-8", errors="replace").splitlines()[since_line:]
    return dict(Counter(m.group(1) for line in lines if (m := re.search(r"upstream=(\S+)", line))))


def count_lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8", errors="replace").splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of load per measured step (10)"
    )
    parser.add_argument(
        "--connections", default="8,32", help="concurrency levels through nginx (8,32)"
    )
    parser.add_argument(
        "--rolling-connections",
        type=int,
        default=16,
        help="connections during the rolling update (16)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="KB_WORKERS per replica (1: two replicas share 2 cores here)",
    )
    parser.add_argument("--threads", type=int, help="KB_THREADS per replica")
    parser.add_argument(
        "--workload",
        choices=sorted(WORKLOADS),
        default="long-tail",
        help="queries of the load (see benchmarks/load.py)",
    )
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--out", type=Path, default=RESULTS / "scale_out.json")
    args = parser.parse_args(argv)
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        raise SystemExit("nginx not found: apt-get install -y nginx")
    levels = [int(c) for c in args.connections.split(",") if c.strip()]

    work = Path(tempfile.mkdtemp(prefix="kb-scale-"))
    work.chmod(0o755)  # nginx workers (not root) use temp paths inside
    problems: list[str] = []
    replicas: list[Gunicorn] = []
    nginx = None
    result: dict = {}
    try:
        # 1. Build once on the "build host"; ship the artifact to both replicas.
        build_host = work / "build-host"
        first, seconds = kb_build(SHIPPED_CORPUS, build_host / "index")
        print(f"built {first} once in {seconds:.1f} s")
        for n in (1, 2):
            took = ship(build_host / "index" / "builds" / first, work / f"replica{n}" / "index")
            print(f"shipped {first} to replica {n} in {took * 1000:.0f} ms")

        # 2. Two replicas behind nginx.
        for n in (1, 2):
            replica = Gunicorn(
                work / f"replica{n}" / "index",
                work,
                workers=args.workers,
                threads=args.threads,
                env={"KB_PROXY_COUNT": "1"},
                name=f"replica{n}",
            )
            replicas.append(replica)
            replica.start()
        settings = replicas[0].settings()
        nginx = Nginx(work, [f"127.0.0.1:{r.port}" for r in replicas])
        nginx.start()
        print(f"nginx {nginx.url} -> replicas {[r.url for r in replicas]} ({settings} each)")

        # 3. Load through nginx.
        paths = workload_paths(args.workload)
        drive(nginx.url, paths, max(levels), 2, args.client, work)  # warm up
        rows = []
        access = work / "nginx-access.log"
        for connections in levels:
            mark = count_lines(access)
            row = drive(nginx.url, paths, connections, args.duration, args.client, work)
            row["upstreams"] = upstream_spread(access, mark)
            rows.append(row)
            print(table([row]).splitlines()[-1] + f"   spread {row['upstreams']}", flush=True)

        # 4. Rolling update under load: build once, replica 1, then replica 2.
        corpus = work / "corpus-v2"
        shutil.copytree(SHIPPED_CORPUS, corpus)
        (corpus / "rolling-marker.md").write_text(
            "---\ntitle: Rolling update marker\nslug: rolling-marker\n"
            "source: benchmarks/scale_out.py\nsummary: Only in the second build.\n---\n\n"
            f"This article is only in the new build: {MARKER}.\n",
            encoding="utf-8",
        )
        stop = threading.Event()
        rolling: dict = {}
        mark = count_lines(access)

        def load() -> None:
            rolling.update(
                drive(
                    nginx.url,
                    paths,
                    args.rolling_connections,
                    3600,
                    args.client,
                    work,
                    stop_event=stop,
                )
            )

        loader = threading.Thread(target=load)
        loader.start()
        time.sleep(2)
        second, seconds = kb_build(corpus, build_host / "index")
        print(f"built {second} once (under load) in {seconds:.1f} s")
        steps = []
        for n, replica in enumerate(replicas, start=1):
            took = ship(build_host / "index" / "builds" / second, replica.index_dir)
            shipped = time.perf_counter()
            wait_for_health(replica.url, 30, build=second)
            switch_ms = (time.perf_counter() - shipped) * 1000
            others = [get_json(f"{r.url}/api/v1/health")[1]["build"] for r in replicas]
            steps.append(
                {
                    "replica": n,
                    "ship_ms": round(took * 1000, 1),
                    "health_switch_ms": round(switch_ms, 1),
                    "replica_builds": others,
                }
            )
            print(
                f"replica {n}: shipped in {took * 1000:.0f} ms, serving {second} "
                f"{switch_ms:.0f} ms later; replicas now serve {others}",
                flush=True,
            )
            time.sleep(2)  # a real rollout would watch error rates here before going on
        stop.set()
        loader.join(timeout=120)
        rolling["upstreams"] = upstream_spread(access, mark)

        # 5. Checks: both replicas and nginx serve the new build; no failures; no queries.
        finals = {
            f"replica{n}": get_json(f"{r.url}/api/v1/health")[1]["build"]
            for n, r in enumerate(replicas, start=1)
        }
        via_nginx = Counter(get_json(f"{nginx.url}/api/v1/health")[1]["build"] for _ in range(20))
        hits = [
            get_json(f"{nginx.url}/api/v1/search?{urlencode({'q': MARKER})}")[1]["total"]
            for _ in range(10)
        ]
        if set(finals.values()) != {second}:
            problems.append(f"replicas serve {finals}, not {second}")
        if set(via_nginx) != {second}:
            problems.append(f"nginx answered builds {dict(via_nginx)}")
        if min(hits) < 1:
            problems.append(f"marker search through nginx: totals {hits}")
        for row in [*rows, rolling]:
            if row.get("errors"):
                problems.append(
                    f"{row['errors']} failed requests at {row['connections']} "
                    f"connections: {row['non_2xx']} non-2xx, {row['socket_errors']}"
                )
        if not rolling:
            problems.append("no result from the load during the rolling update")
        logs = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in work.glob("*.log")}
        query_words = sorted({w for q in QUERIES for w in q.split() if len(w) > 6})
        leaks = [
            f"{name}: {w}" for name, text in logs.items() for w in query_words if w in text.lower()
        ]
        leaks += [f"{name}: query string" for name, text in logs.items() if "?q=" in text]
        if leaks:
            problems.append(f"query text in logs: {leaks[:5]}")
        for replica in replicas:
            if replica.proc.poll() is not None:
                problems.append(f"{replica.log_path.stem} exited")
        sample = [
            line
            for line in logs.get("nginx-access.log", "").splitlines()
            if "/api/v1/search" in line
        ][:1]

        result = {
            "what": "nginx -> 2 kb replicas (gunicorn) on loopback; rolling index update",
            "command": "python benchmarks/scale_out.py " + " ".join(argv or sys.argv[1:]),
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": machine(),
            "replica_server": settings,
            "workload": args.workload,
            "client": "wrk"
            if args.client == "wrk" or (args.client == "auto" and have_wrk())
            else "python",
            "through_nginx": rows,
            "rolling_update": {
                "from": first,
                "to": second,
                "steps": steps,
                "load": rolling,
                "final_replica_builds": finals,
                "nginx_health_builds": dict(via_nginx),
                "marker_hits_via_nginx": hits,
            },
            "nginx_access_log_sample": sample,
            "problems": problems,
            "passed": not problems,
        }
    finally:
        if nginx is not None:
            nginx.stop()
        for replica in replicas:
            replica.stop()
        shutil.rmtree(work, ignore_errors=True)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print()
    print(
        table(
            rows,
            f"{args.workload} searches through nginx -> 2 replicas "
            f"({args.duration:g} s per level):",
        )
    )
    if rolling:
        print()
        print(
            table(
                [rolling],
                f"during the rolling update ({rolling['seconds']:.0f} s, "
                f"spread {rolling.get('upstreams')}):",
            )
        )
    print(
        f"\nfinal builds: {result['rolling_update']['final_replica_builds']}; via nginx "
        f"{result['rolling_update']['nginx_health_builds']}; marker hits via nginx "
        f"{result['rolling_update']['marker_hits_via_nginx']}"
    )
    if result.get("nginx_access_log_sample"):
        print(f"nginx access log line: {result['nginx_access_log_sample'][0]}")
    print(
        "PASSED: 0 failed requests, both replicas serve the new build, no query in logs"
        if not problems
        else "FAILED:\n  " + "\n  ".join(problems)
    )
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
