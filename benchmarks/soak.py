#!/usr/bin/env python
"""Soak test: kb behind nginx under minutes of mixed traffic, rebuilds and an index removal.

    python benchmarks/soak.py                      # 10 minutes, 8 client connections
    python benchmarks/soak.py --duration 60        # a one-minute smoke run
    python benchmarks/soak.py --connections 16 --workers 3 --threads 1

Setup, all under benchmarks/work/soak/ (git-ignored, wiped at each start; the logs stay there
after the run):
* a copy of the shipped corpus plus the marker article of benchmarks/swap_under_load.py,
  built with `kb build` into a private index;
* gunicorn with the repository's gunicorn.conf.py and wsgi:app (default 2 workers x 4
  threads), KB_INDEX_DIR on that index, KB_RATE_LIMIT="" (the soak measures the server, not
  the limiter), KB_PROXY_COUNT=1, KB_METRICS off, and `--max-requests 0`: workers are never
  recycled, so a leak cannot hide behind a worker restart (--recycle keeps the configured
  recycling);
* nginx (Debian's, `apt-get install -y nginx`) as reverse proxy in front, with the
  configuration of benchmarks/scale_out.py on a free loopback port, run by this script in
  the foreground with its own prefix (not the system service).

Traffic: --connections client threads, each on a keep-alive connection to nginx, send a
random mix for --warmup seconds (not counted), then for --duration seconds: searches
(about 5,000 distinct queries with typos, paging and topic/article filters), suggest,
sections (some conditional), related, articles, topics, health; hostile requests (invalid
parameters, an overlong q and URL, unknown routes, wrong methods, malformed percent-encoding,
non-UTF-8 bytes percent-encoded and raw); crisis queries ("I want to kill myself", "suicide",
"self harm", ...), plain and with a bad parameter so that they get an error body.

Events, at fixed fractions of the run: `kb build` into the served index at 25%, 40% and 70%
(the marker article is rewritten before each, so every build differs; afterwards health must
name the new build and the new marker word must be found), and at 50% the index directory is
renamed away for --removal seconds, then back.

Measured and reported in one table (and in benchmarks/results/soak.json, with a timeline per
10 s, per-kind figures and samples of anything that went wrong):
* requests, per status code, and connection errors (refused, reset, timed out);
* errors: any 5xx except 503 `index_unavailable` (or a 503 to HEAD, which has no body) for
  a request that overlapped the removal (from the rename away to 2 s after the rename back),
  plus connection errors; target 0;
* latency p50/p95/p99/max as the clients see it through nginx (the clients share the 2 cores
  with nginx and gunicorn, so these include their own waiting);
* RSS of the gunicorn master and workers summed, after the warm-up and at the end, both
  under load; target: growth <= 10%;
* lost crisis notices: a crisis query that reaches kb (search, whatever its status, or any
  error body, gunicorn's own refusal of a raw non-ASCII byte included) without a `notices`
  entry of kind "crisis"; target 0. Crisis queries in a URL over nginx's 8 KB request-line
  limit get nginx's own page and cannot carry one; they are counted on a separate line;
* statuses other than the expected one for each request (information, not a target),
  worker restarts and error lines in gunicorn's log.

Exit status 0 when every target is met and every event checked out, 1 otherwise, 130 when
interrupted (Ctrl-C or SIGTERM stop the clients, put the index back and stop nginx and
gunicorn).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import WORK  # noqa: E402
from load import (  # noqa: E402
    LONG_TAIL_WORDS,
    QUERIES,
    RESULTS,
    ROOT,
    SHIPPED_CORPUS,
    Gunicorn,
    get_json,
    kb_build,
    long_tail_queries,
    machine,
    percentile,
)
from scale_out import Nginx  # noqa: E402
from swap_under_load import MARKER_SLUG, marker_word, search_total, write_marker  # noqa: E402

from kb.api.schemas import MAX_QUERY_LENGTH  # noqa: E402

CRISIS_QUERIES = [
    "I want to kill myself",
    "suicide",
    "self harm",
    "suicidal thoughts",
    "I want to end my life",
    "thinking about self-harm again",
]
RSS_GROWTH_LIMIT = 10.0  # percent
REMOVAL_GRACE = 2.0  # seconds after the rename back in which a 503 is still expected
CLIENT_TIMEOUT = 30.0
API = "/api/v1"

# Share of requests per kind (relative weights).
MIX = {
    "search": 40,
    "suggest": 10,
    "section": 8,
    "related": 5,
    "article": 4,
    "topic": 4,
    "health": 3,
    "hostile": 15,
    "crisis": 10,
    "crisis-refused": 1,
}


@dataclass(frozen=True)
class Request:
    kind: str
    variant: str
    method: str
    target: str | bytes  # bytes: sent verbatim over a raw socket
    expect: frozenset[int]
    crisis: bool = False  # must carry a crisis notice
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None


def _req(kind, variant, target, expect, method="GET", **extra) -> Request:
    return Request(kind, variant, method, target, frozenset(expect), **extra)


def search_url(params: dict) -> str:
    return f"{API}/search?" + urlencode(params, quote_via=quote)


# -- what the clients ask ---------------------------------------------------------------------


class Traffic:
    """Draws requests: the valid ones from what the served index holds, the rest by recipe."""

    def __init__(self, base_url: str, seed: int):
        slugs = [a["slug"] for a in get_json(f"{base_url}{API}/articles")[1]["articles"]]
        self.slugs = [s for s in slugs if s != MARKER_SLUG]
        self.sections = [
            entry["id"]
            for slug in self.slugs
            for entry in get_json(f"{base_url}{API}/articles/{slug}")[1]["toc"]
        ]
        self.topics = [t["id"] for t in get_json(f"{base_url}{API}/topics")[1]["topics"]]
        rng = random.Random(seed)
        self.queries = self._query_pool(rng)
        self.words = sorted(LONG_TAIL_WORDS)
        self.kinds = list(MIX)
        self.weights = [MIX[k] for k in self.kinds]

    @staticmethod
    def _query_pool(rng: random.Random) -> list[str]:
        """QUERIES, 3,000 long-tail queries and 2,000 of them with one typo: ~5,000 distinct."""
        tail = long_tail_queries(3000)
        typos = []
        for query in rng.sample(tail, 2000):
            words = query.split()
            i = rng.randrange(len(words))
            word = words[i]
            if len(word) > 3:
                j = rng.randrange(1, len(word) - 1)
                word = rng.choice([word[:j] + word[j + 1 :], word[:j] + word[j] + word[j:]])
            words[i] = word
            typos.append(" ".join(words))
        return list(dict.fromkeys([*QUERIES, *tail, *typos]))

    def draw(self, rng: random.Random, etags: dict[str, str]) -> Request:
        kind = rng.choices(self.kinds, self.weights)[0]
        return getattr(self, "_" + kind.replace("-", "_"))(rng, etags)

    def _search(self, rng, _etags) -> Request:
        q = rng.choice(self.queries)
        roll = rng.random()
        if roll < 0.60:
            return _req("search", "plain", search_url({"q": q}), {200})
        if roll < 0.75:
            params = {"q": q, "limit": rng.randint(1, 50), "offset": rng.randint(0, 30)}
            return _req("search", "paged", search_url(params), {200})
        if roll < 0.85:
            return _req(
                "search", "topic", search_url({"q": q, "topic": rng.choice(self.topics)}), {200}
            )
        if roll < 0.95:
            params = {"q": q, "article": rng.choice(self.slugs)}
            return _req("search", "article", search_url(params), {200})
        a, b = rng.sample(self.words, 2)
        advanced = rng.choice([f"{a} AND {b}", f'"{a} {b}"', f"title:{a}", f"{a} OR {b}*"])
        return _req("search", "advanced", search_url({"q": advanced, "syntax": "advanced"}), {200})

    def _suggest(self, rng, _etags) -> Request:
        word = rng.choice(self.words)
        prefix = word[: rng.randint(2, max(2, len(word)))]
        params = {"q": prefix, "limit": rng.randint(1, 20)}
        return _req("suggest", "prefix", f"{API}/suggest?" + urlencode(params), {200})

    def _section(self, rng, etags) -> Request:
        section = rng.choice(self.sections)
        target = f"{API}/sections/{section}"
        if section in etags and rng.random() < 0.3:
            headers = (("If-None-Match", etags[section]),)
            return _req("section", "conditional", target, {200, 304}, headers=headers)
        if rng.random() < 0.1:
            return _req("section", "head", target, {200}, method="HEAD")
        return _req("section", "get", target, {200})

    def _related(self, rng, _etags) -> Request:
        target = f"{API}/sections/{rng.choice(self.sections)}/related?limit={rng.randint(1, 20)}"
        return _req("related", "get", target, {200})

    def _article(self, rng, _etags) -> Request:
        if rng.random() < 0.5:
            return _req("article", "list", f"{API}/articles", {200})
        return _req("article", "one", f"{API}/articles/{rng.choice(self.slugs)}", {200})

    def _topic(self, rng, _etags) -> Request:
        if rng.random() < 0.5:
            return _req("topic", "list", f"{API}/topics", {200})
        return _req("topic", "one", f"{API}/topics/{rng.choice(self.topics)}", {200})

    def _health(self, _rng, _etags) -> Request:
        return _req("health", "get", f"{API}/health", {200})

    def _hostile(self, rng, _etags) -> Request:
        q = rng.choice(self.queries)
        section = rng.choice(self.sections)
        long_q = " ".join(rng.choice(self.words) for _ in range(MAX_QUERY_LENGTH // 3))
        long_q = long_q[: rng.randint(MAX_QUERY_LENGTH + 10, 2 * MAX_QUERY_LENGTH)].rstrip()
        recipes = [
            ("limit-zero", search_url({"q": q, "limit": 0}), {422}),
            ("limit-text", search_url({"q": q, "limit": "many"}), {422}),
            ("offset-negative", search_url({"q": q, "offset": -5}), {422}),
            ("offset-huge", search_url({"q": q, "offset": "9" * 30}), {422}),
            ("topic-unknown", search_url({"q": q, "topic": "nonsense"}), {422}),
            ("article-bad-slug", search_url({"q": q, "article": "Not A Slug!"}), {422}),
            ("article-unknown", search_url({"q": q, "article": "no-such-article"}), {404}),
            ("syntax-unknown", search_url({"q": q, "syntax": "regex"}), {422}),
            (
                "advanced-broken",
                search_url({"q": 'title:(( AND "x', "syntax": "advanced"}),
                {200, 422},
            ),
            ("q-missing", f"{API}/search", {422}),
            ("q-empty", f"{API}/search?q=", {422}),
            ("q-overlong", search_url({"q": long_q}), {422}),
            ("url-over-8000", search_url({"q": "x" * 8040}), {414}),
            ("url-over-8k-nginx", search_url({"q": "x" * 9000}), {414}),  # nginx refuses
            ("q-control-char", f"{API}/search?q=a%00b", {422}),
            ("pct-malformed", f"{API}/search?q=therapy%zz", {200}),
            ("pct-lone", f"{API}/search?q=100%", {200}),
            ("pct-truncated-utf8", f"{API}/search?q=%E2%82", {400}),
            ("pct-non-utf8", f"{API}/search?q=caf%E9", {400}),
            ("pct-overlong-utf8", f"{API}/search?q=%C0%AF", {400}),
            ("raw-non-utf8", f"{API}/search?q=caf\xe9".encode("latin-1"), {400}),
            ("raw-utf8", f"{API}/search?q=caf\xe9".encode(), {400}),
            ("suggest-short", f"{API}/suggest?q=a", {422}),
            ("suggest-limit", f"{API}/suggest?q=th&limit=99", {422}),
            ("related-limit", f"{API}/sections/{section}/related?limit=0", {422}),
            ("section-unknown", f"{API}/sections/nope:x", {404}),
            ("section-traversal", f"{API}/sections/..%2F..%2Fetc%2Fpasswd", {404}),
            ("article-unknown-route", f"{API}/articles/no-such-article", {404}),
            ("topic-unknown-route", f"{API}/topics/nonsense", {404}),
            ("route-unknown", f"{API}/nope", {404}),
            ("route-v2", "/api/v2/search?q=therapy", {404}),
            ("route-wp-login", "/wp-login.php", {404}),
        ]
        roll = rng.random()
        if roll < 0.8:
            variant, target, expect = rng.choice(recipes)
            return _req("hostile", variant, target, expect)
        method = rng.choice(["POST", "PUT", "DELETE", "PATCH"])
        if roll < 0.95:
            body = b'{"q": "therapy"}' if method != "DELETE" else None
            headers = (("Content-Type", "application/json"),) if body else ()
            target = search_url({"q": q})
            return _req(
                "hostile", "wrong-method", target, {405}, method, headers=headers, body=body
            )
        return _req("hostile", "options", search_url({"q": q}), {200, 204}, "OPTIONS")

    def _crisis(self, rng, _etags) -> Request:
        """A crisis query that reaches kb: a search (any status) or an error body."""
        q = rng.choice(CRISIS_QUERIES)
        enc = quote(q)
        recipes = [
            ("plain", search_url({"q": q}), {200}),
            ("paged", search_url({"q": q, "limit": 3, "offset": 1}), {200}),
            ("limit-zero", search_url({"q": q, "limit": 0}), {422}),
            ("limit-text", search_url({"q": q, "limit": "many"}), {422}),
            ("topic-unknown", search_url({"q": q, "topic": "nonsense"}), {422}),
            ("syntax-unknown", search_url({"q": q, "syntax": "regex"}), {422}),
            ("article-unknown", search_url({"q": q, "article": "no-such-article"}), {404}),
            ("q-overlong", search_url({"q": q + " " + "x" * MAX_QUERY_LENGTH}), {422}),
            ("url-over-8000", search_url({"q": q + " " + "x" * 8040}), {414}),
            ("pct-non-utf8", f"{API}/search?q={enc}%FF", {400}),
            ("pct-truncated-utf8", f"{API}/search?q={enc}%E2%82", {400}),
            ("q-control-char", f"{API}/search?q={enc}%00", {422}),
            ("route-unknown", f"{API}/nope?q={enc}", {404}),
            ("suggest-limit", f"{API}/suggest?q={enc}&limit=99", {422}),
            ("section-unknown", f"{API}/sections/nope:x?q={enc}", {404}),
        ]
        if rng.random() < 0.1:
            method = rng.choice(["POST", "DELETE"])
            return _req("crisis", "wrong-method", search_url({"q": q}), {405}, method, crisis=True)
        variant, target, expect = rng.choice(recipes)
        return _req("crisis", variant, target, expect, crisis=True)

    def _crisis_refused(self, rng, _etags) -> Request:
        """A crisis query that gunicorn or nginx refuses before the app runs. gunicorn's refusal
        of a raw non-ASCII byte carries the notice (kb.gunicorn_worker), so it counts as a
        checked crisis query; nginx's own 414 page for a URL over 8 KB cannot."""
        q = rng.choice(CRISIS_QUERIES)
        if rng.random() < 0.5:
            raw = f"{API}/search?q={quote(q)}\xff".encode("latin-1")
            return _req("crisis", "raw-non-utf8", raw, {400}, crisis=True)
        target = search_url({"q": q + " " + "x" * 9000})
        return _req("crisis-refused", "url-over-8k-nginx", target, {414}, crisis=True)


def _target_text(target: str | bytes) -> str:
    """A request target as text (a raw non-UTF-8 target is bytes)."""
    return target.decode("latin-1") if isinstance(target, bytes) else target


# -- clients ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """One client's records; merged after the run (no locks while it runs)."""

    records: list[tuple[float, float, int, str]] = field(default_factory=list)
    crisis: Counter = field(default_factory=Counter)  # (kind, "checked"|"lost") -> n
    lost_samples: list[dict] = field(default_factory=list)
    server_errors: list[dict] = field(default_factory=list)  # every 5xx, classified later
    connection_errors: list[dict] = field(default_factory=list)
    unexpected: list[dict] = field(default_factory=list)  # non-5xx status not expected


def has_crisis_notice(body: bytes) -> bool:
    try:
        notices = json.loads(body).get("notices")
    except (ValueError, AttributeError):
        return False
    return isinstance(notices, list) and any(
        isinstance(n, dict) and n.get("kind") == "crisis" for n in notices
    )


def error_code(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "(not kb's error JSON)"


def send_raw(host: str, port: int, req: Request) -> tuple[int, bytes]:
    """A request line sent byte for byte (http.client refuses non-ASCII), then closed."""
    with socket.create_connection((host, port), timeout=CLIENT_TIMEOUT) as sock:
        sock.sendall(
            req.method.encode()
            + b" "
            + req.target
            + b" HTTP/1.1\r\nHost: "
            + host.encode()
            + b"\r\nConnection: close\r\n\r\n"
        )
        response = http.client.HTTPResponse(sock, method=req.method)
        response.begin()
        return response.status, response.read()


class Client(threading.Thread):
    def __init__(self, n: int, traffic: Traffic, host: str, port: int, t0: float, seed: int):
        super().__init__(name=f"client-{n}", daemon=True)
        self.traffic, self.host, self.port, self.t0 = traffic, host, port, t0
        self.rng = random.Random(seed * 1000 + n)
        self.stop = threading.Event()
        self.tally = Tally()
        self.etags: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def run(self) -> None:
        while not self.stop.is_set():
            self.one(self.traffic.draw(self.rng, self.etags))
        if self.conn is not None:
            self.conn.close()

    def send(self, req: Request) -> tuple[int, bytes, http.client.HTTPResponse | None]:
        if isinstance(req.target, bytes):
            return (*send_raw(self.host, self.port, req), None)
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=CLIENT_TIMEOUT)
        self.conn.request(req.method, req.target, body=req.body, headers=dict(req.headers))
        response = self.conn.getresponse()
        return response.status, response.read(), response

    def one(self, req: Request) -> None:
        tally = self.tally
        started = time.monotonic()
        try:
            status, body, response = self.send(req)
        except (OSError, http.client.HTTPException) as exc:
            ended = time.monotonic()
            if self.conn is not None:
                self.conn.close()
                self.conn = None
            tally.records.append((started - self.t0, (ended - started) * 1000, 0, req.kind))
            tally.connection_errors.append(
                {
                    "t": round(started - self.t0, 2),
                    "kind": req.kind,
                    "variant": req.variant,
                    "error": repr(exc)[:200],
                }
            )
            time.sleep(0.05)
            return
        ended = time.monotonic()
        tally.records.append((started - self.t0, (ended - started) * 1000, status, req.kind))
        if response is not None and req.kind == "section" and status == 200:
            etag = response.getheader("ETag")
            if etag:
                self.etags[req.target.rsplit("/", 1)[-1]] = etag
        if req.crisis and (
            req.kind == "crisis-refused"
            or _target_text(req.target).startswith(f"{API}/search")
            or status >= 400
        ):
            tally.crisis[(req.kind, "checked")] += 1
            if not has_crisis_notice(body):
                tally.crisis[(req.kind, "lost")] += 1
                if sum(x["kind"] == req.kind for x in tally.lost_samples) < 10:
                    tally.lost_samples.append(
                        {
                            "t": round(started - self.t0, 2),
                            "kind": req.kind,
                            "variant": req.variant,
                            "status": status,
                            "body": body[:200].decode("utf-8", "replace"),
                        }
                    )
        if status >= 500:
            tally.server_errors.append(
                {
                    "start": started - self.t0,
                    "end": ended - self.t0,
                    "status": status,
                    "code": "(HEAD: no body)" if req.method == "HEAD" else error_code(body),
                    "kind": req.kind,
                    "variant": req.variant,
                    "body": body[:300].decode("utf-8", "replace"),
                }
            )
        elif status not in req.expect:
            tally.unexpected.append(
                {
                    "t": round(started - self.t0, 2),
                    "kind": req.kind,
                    "variant": req.variant,
                    "status": status,
                    "expected": sorted(req.expect),
                    "body": body[:200].decode("utf-8", "replace"),
                }
            )


def run_clients(
    traffic: Traffic, base: str, connections: int, seconds: float, seed: int, while_running=None
) -> tuple[list[Client], float]:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    t0 = time.monotonic()
    clients = [Client(n, traffic, host, int(port), t0, seed) for n in range(connections)]
    for client in clients:
        client.start()
    try:
        if while_running is not None:
            while_running(t0, clients)
        else:
            time.sleep(seconds)
    finally:
        for client in clients:
            client.stop.set()
        for client in clients:
            client.join(timeout=CLIENT_TIMEOUT + 5)
    return clients, t0


# -- the server's memory ---------------------------------------------------------------------


def gunicorn_rss(master_pid: int) -> dict[int, int]:
    """pid -> resident set size in KiB, for the gunicorn master and its workers (Linux /proc)."""
    pids = [master_pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master_pid:
                pids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    sizes = {}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes[pid] = int(line.split()[1])
        except OSError:
            continue
    return sizes


class RssSampler(threading.Thread):
    def __init__(self, master_pid: int, t0: float, interval: float = 5.0):
        super().__init__(name="rss", daemon=True)
        self.master_pid, self.t0, self.interval = master_pid, t0, interval
        self.samples: list[dict] = []
        self.stop = threading.Event()

    def sample(self) -> dict:
        sizes = gunicorn_rss(self.master_pid)
        row = {
            "t": round(time.monotonic() - self.t0, 1),
            "rss_kib": sum(sizes.values()),
            "loadavg_1m": round(os.getloadavg()[0], 2),
            "pids": {str(p): kib for p, kib in sorted(sizes.items())},
        }
        self.samples.append(row)
        return row

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.sample()


# -- events ----------------------------------------------------------------------------------


def health(base: str) -> tuple[int, dict]:
    """GET /api/v1/health: (status, body), or (0, {}) when the connection failed."""
    try:
        return get_json(f"{base}{API}/health")
    except OSError:
        return 0, {}


class Events:
    """Rebuilds and the removal, with what each one showed; `log` lines go to stdout."""

    def __init__(self, base: str, corpus: Path, index: Path, t0: float, first_build: str):
        self.base, self.corpus, self.index, self.t0 = base, corpus, index, t0
        self.builds = [first_build]
        self.rebuilds = 0
        self.log: list[dict] = []
        self.problems: list[str] = []
        self.removal_windows: list[tuple[float, float]] = []
        self.away = index.with_name(index.name + ".removed")

    def now(self) -> float:
        return time.monotonic() - self.t0

    def record(self, event: str, **details) -> dict:
        entry = {
            "event": event,
            "t": round(self.now(), 2),
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **details,
        }
        self.log.append(entry)
        extra = ", ".join(f"{k} {v}" for k, v in details.items())
        print(f"  [{entry['t']:7.1f} s] {event}" + (f": {extra}" if extra else ""), flush=True)
        return entry

    def rebuild(self) -> None:
        self.rebuilds += 1
        n = self.rebuilds
        write_marker(self.corpus, n)
        self.record(f"rebuild {n} started")
        try:
            build, seconds = kb_build(self.corpus, self.index)
        except SystemExit as exc:  # kb_build exits with kb's message
            self.problems.append(f"rebuild {n} failed: {exc}")
            self.record(f"rebuild {n} FAILED")
            return
        built = time.monotonic()
        switch_ms = None
        while time.monotonic() - built < 30:
            status, served = health(self.base)
            if status == 200 and served.get("build") == build:
                switch_ms = round((time.monotonic() - built) * 1000, 1)
                break
            time.sleep(0.01)
        try:
            new_total, articles = search_total(self.base, marker_word(n))
            old_total, _ = search_total(self.base, marker_word(n - 1))
        except AssertionError as exc:
            new_total, articles, old_total = 0, [], -1
            self.problems.append(f"rebuild {n}: marker search failed: {exc}")
        ok = switch_ms is not None and MARKER_SLUG in articles and old_total == 0
        if not ok:
            self.problems.append(
                f"rebuild {n} ({build}): health switch {switch_ms} ms, new marker {new_total} "
                f"hit(s) {articles}, old marker {old_total} hit(s)"
            )
        self.builds.append(build)
        self.record(
            f"rebuild {n} served",
            build=build,
            kb_build_s=round(seconds, 2),
            health_switch_ms=switch_ms,
            new_marker_hits=new_total,
            old_marker_hits=old_total,
            ok=ok,
        )

    def remove_and_restore(self, seconds: float) -> None:
        start = self.now()
        os.rename(self.index, self.away)
        self.record("index directory renamed away", to=self.away.name)
        statuses: Counter = Counter()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status, body = health(self.base)
            statuses[f"{status} {body.get('error', {}).get('code', '')}".strip()] += 1
            time.sleep(0.2)
        os.rename(self.away, self.index)
        restored = self.now()
        self.removal_windows.append((start, restored + REMOVAL_GRACE))
        self.record("index directory renamed back")
        recovered_ms = None
        while self.now() - restored < 30:
            status, body = health(self.base)
            if status == 200:
                recovered_ms = round((self.now() - restored) * 1000, 1)
                break
            time.sleep(0.01)
        served = body.get("build") if recovered_ms is not None else None
        ok = (
            recovered_ms is not None
            and served == self.builds[-1]
            and set(statuses) == {"503 index_unavailable"}
        )
        if not ok:
            self.problems.append(
                f"removal: health during removal {dict(statuses)}, recovered after "
                f"{recovered_ms} ms serving {served} (expected {self.builds[-1]})"
            )
        self.record(
            "health 200 again",
            after_ms=recovered_ms,
            build=served,
            health_while_away=dict(statuses),
            ok=ok,
        )

    def put_index_back(self) -> None:
        """After an interruption in the middle of the removal."""
        if self.away.exists() and not self.index.exists():
            os.rename(self.away, self.index)


# -- the run ---------------------------------------------------------------------------------


def git_state() -> dict:
    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted": git("status", "--porcelain").splitlines(),
    }


def server_log_problems(log_path: Path) -> dict:
    markers = ("Traceback", "[ERROR]", "[CRITICAL]", "WORKER TIMEOUT", "Exception")
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    hits = [line for line in lines if any(m in line for m in markers)]
    return {"count": len(hits), "samples": hits[:10]}


def summarise(clients: list[Client], events: Events, duration: float, bucket: float = 10.0):
    records = [r for c in clients for r in c.tally.records]
    crisis: Counter = Counter()
    for client in clients:
        crisis.update(client.tally.crisis)
    statuses = Counter(str(r[2]) if r[2] else "connection error" for r in records)
    expected_503, errors = [], []
    for err in (e for c in clients for e in c.tally.server_errors):
        in_window = any(
            err["start"] <= end and err["end"] >= start for start, end in events.removal_windows
        )
        unavailable = err["code"] in ("index_unavailable", "(HEAD: no body)")
        if err["status"] == 503 and unavailable and in_window:
            expected_503.append(err)
        else:
            errors.append({**err, "start": round(err["start"], 2), "end": round(err["end"], 2)})
    connection_errors = [e for c in clients for e in c.tally.connection_errors]
    latencies = sorted(r[1] for r in records if r[2])
    lat = {f"p{p}": round(percentile(latencies, p), 2) for p in (50, 95, 99)}
    lat["max"] = round(latencies[-1], 2) if latencies else float("nan")
    by_kind = {}
    for kind in MIX:
        mine = [r for r in records if r[3] == kind]
        values = sorted(r[1] for r in mine if r[2])
        by_kind[kind] = {
            "requests": len(mine),
            "statuses": dict(sorted(Counter(str(r[2]) for r in mine).items())),
            "p50_ms": round(percentile(values, 50), 2) if values else None,
            "p99_ms": round(percentile(values, 99), 2) if values else None,
        }
    buckets: dict[int, list] = {}
    for r in records:
        buckets.setdefault(int(r[0] // bucket), []).append(r)
    timeline = []
    for n, mine in sorted(buckets.items()):
        values = sorted(r[1] for r in mine if r[2])
        timeline.append(
            {
                "t": n * bucket,
                "requests": len(mine),
                "5xx": sum(1 for r in mine if r[2] >= 500),
                "connection_errors": sum(1 for r in mine if not r[2]),
                "p50_ms": round(percentile(values, 50), 2) if values else None,
                "p99_ms": round(percentile(values, 99), 2) if values else None,
            }
        )
    unexpected = [u for c in clients for u in c.tally.unexpected]
    return {
        "requests": len(records),
        "requests_per_second": round(len(records) / duration, 1),
        "statuses": dict(sorted(statuses.items())),
        "expected_503_during_removal": len(expected_503),
        "errors": len(errors) + len(connection_errors),
        "server_errors": errors[:50],
        "server_errors_total": len(errors),
        "connection_errors": connection_errors[:50],
        "connection_errors_total": len(connection_errors),
        "latency_ms": lat,
        "crisis_checked": crisis[("crisis", "checked")],
        "crisis_lost": crisis[("crisis", "lost")],
        "crisis_refused_checked": crisis[("crisis-refused", "checked")],
        "crisis_refused_lost": crisis[("crisis-refused", "lost")],
        "lost_samples": [s for c in clients for s in c.tally.lost_samples][:30],
        "unexpected_statuses": dict(
            Counter(f"{u['kind']}/{u['variant']}: {u['status']}" for u in unexpected)
        ),
        "unexpected_samples": unexpected[:20],
        "by_kind": by_kind,
        "timeline": timeline,
    }


def table(result: dict) -> str:
    s = result["summary"]
    mem = result["rss"]
    lat = s["latency_ms"]
    rows: list[tuple[str, str, str, str]] = [
        ("requests", f"{s['requests']}", "", ""),
        ("  per second", f"{s['requests_per_second']:.1f}", "", ""),
    ]
    for status, n in s["statuses"].items():
        rows.append((f"  status {status}", f"{n}", "", ""))
    rows += [
        (
            "503 index_unavailable during removal",
            f"{s['expected_503_during_removal']}",
            "(expected)",
            "",
        ),
        (
            "errors (other 5xx, connection errors)",
            f"{s['errors']}",
            "0",
            "yes" if s["errors"] == 0 else "NO",
        ),
        (
            "latency p50 / p95 / p99 / max ms",
            f"{lat['p50']:.1f} / {lat['p95']:.1f} / {lat['p99']:.1f} / {lat['max']:.0f}",
            "",
            "",
        ),
        (
            f"RSS at start, MiB ({mem['processes_start']} processes)",
            f"{mem['start_kib'] / 1024:.1f}",
            "",
            "",
        ),
        (
            f"RSS at end, MiB ({mem['processes_end']} processes)",
            f"{mem['end_kib'] / 1024:.1f}",
            "",
            "",
        ),
        (
            "RSS growth",
            f"{mem['growth_percent']:+.1f}%",
            f"<= {RSS_GROWTH_LIMIT:g}%",
            "yes" if mem["growth_percent"] <= RSS_GROWTH_LIMIT else "NO",
        ),
        (
            "lost crisis notices",
            f"{s['crisis_lost']} of {s['crisis_checked']}",
            "0",
            "yes" if s["crisis_lost"] == 0 else "NO",
        ),
        (
            "crisis queries refused before kb, no notice",
            f"{s['crisis_refused_lost']} of {s['crisis_refused_checked']}",
            "(info)",
            "",
        ),
        (
            "unexpected statuses (not 5xx)",
            f"{sum(s['unexpected_statuses'].values())}",
            "(info)",
            "",
        ),
        ("worker restarts", f"{result['worker_restarts']}", "(info)", ""),
        (
            "machine load average, 1 min: start / end / max",
            f"{mem['samples'][0]['loadavg_1m']:.1f} / {mem['samples'][-1]['loadavg_1m']:.1f}"
            f" / {max(x['loadavg_1m'] for x in mem['samples']):.1f}",
            "(info)",
            "",
        ),
        ("error lines in gunicorn's log", f"{result['server_log']['count']}", "(info)", ""),
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    lines = [f"{'':<{width}}  {'value':>{value_width}}  {'target':<10} met"]
    lines += [f"{a:<{width}}  {b:>{value_width}}  {c:<10} {d}".rstrip() for a, b, c, d in rows]
    return "\n".join(lines)


def soak(args, base: str, server: Gunicorn, events: Events, traffic: Traffic):
    """Warm up, then the counted run with its events; returns (clients, sampler, t0)."""
    print(f"warm-up: {args.warmup:g} s of mixed traffic (not counted)", flush=True)
    run_clients(traffic, base, args.connections, args.warmup, args.seed + 1)
    schedule = [
        (0.25, events.rebuild),
        (0.40, events.rebuild),
        (0.50, lambda: events.remove_and_restore(args.removal)),
        (0.70, events.rebuild),
    ]
    state: dict = {}

    def conduct(t0: float, clients: list[Client]) -> None:
        events.t0 = t0
        sampler = RssSampler(server.proc.pid, t0)
        state["sampler"] = sampler
        time.sleep(1.0)  # every client has sent its first requests
        first = sampler.sample()
        state["start"] = first
        sampler.start()
        print(
            f"soak: {args.duration:g} s, {args.connections} clients; RSS at start "
            f"{first['rss_kib'] / 1024:.1f} MiB over {len(first['pids'])} processes",
            flush=True,
        )
        next_report = 60.0
        for fraction, action in schedule:
            at = fraction * args.duration
            while events.now() < at:
                time.sleep(min(1.0, at - events.now()))
                next_report = progress(clients, sampler, events, next_report)
            action()
        while events.now() < args.duration:
            time.sleep(min(1.0, args.duration - events.now()))
            next_report = progress(clients, sampler, events, next_report)
        state["end"] = sampler.sample()
        sampler.stop.set()

    clients, t0 = run_clients(
        traffic, base, args.connections, args.duration, args.seed, while_running=conduct
    )
    return clients, state, t0


def progress(clients: list[Client], sampler: RssSampler, events: Events, next_report: float):
    now = events.now()
    if now < next_report:
        return next_report
    requests = sum(len(c.tally.records) for c in clients)
    fivexx = sum(len(c.tally.server_errors) for c in clients)
    conn = sum(len(c.tally.connection_errors) for c in clients)
    rss = sampler.samples[-1]["rss_kib"] / 1024 if sampler.samples else float("nan")
    print(
        f"  [{now:7.1f} s] {requests} requests ({requests / now:.0f}/s), 5xx {fivexx}, "
        f"connection errors {conn}, RSS {rss:.1f} MiB",
        flush=True,
    )
    return next_report + 60.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duration", type=float, default=600.0, help="seconds of counted traffic (600)"
    )
    parser.add_argument("--connections", type=int, default=8, help="client threads (8)")
    parser.add_argument(
        "--warmup", type=float, default=30.0, help="seconds of uncounted traffic first (30)"
    )
    parser.add_argument("--workers", type=int, default=2, help="KB_WORKERS (2)")
    parser.add_argument("--threads", type=int, default=4, help="KB_THREADS (4)")
    parser.add_argument(
        "--removal", type=float, default=10.0, help="seconds the index directory stays away (10)"
    )
    parser.add_argument(
        "--recycle",
        action="store_true",
        help="keep gunicorn.conf.py's max_requests (workers are recycled)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed of the traffic (7)")
    parser.add_argument("--out", type=Path, default=RESULTS / "soak.json")
    args = parser.parse_args(argv)
    if args.duration < 20:
        parser.error("--duration must be at least 20 seconds (the events need room)")
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        raise SystemExit("nginx not found: apt-get install -y nginx")

    def terminate(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    # Ctrl-C and SIGTERM end the run through the same clean-up (also when started in the
    # background, where a shell may have set SIGINT to be ignored).
    signal.signal(signal.SIGINT, terminate)
    signal.signal(signal.SIGTERM, terminate)

    work = WORK / "soak"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for folder in (work, WORK):
        folder.chmod(0o755)  # nginx's workers (not root) use temp paths inside
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(SHIPPED_CORPUS, corpus)
    write_marker(corpus, 0)
    first, seconds = kb_build(corpus, index)
    print(f"built {first} in {seconds:.1f} s into {index.relative_to(ROOT)}")
    git_at_start = git_state()

    server = Gunicorn(
        index,
        work,
        workers=args.workers,
        threads=args.threads,
        extra_args=[] if args.recycle else ["--max-requests", "0"],
        env={"KB_PROXY_COUNT": "1", "KB_METRICS": "false"},
    )
    nginx = Nginx(work, [f"127.0.0.1:{server.port}"])
    events = Events("", corpus, index, time.monotonic(), first)
    interrupted = False
    try:
        settings = server.settings()
        server.start()
        nginx.start()
        base = events.base = nginx.url
        print(f"nginx {base} -> gunicorn {server.url} {settings}", flush=True)
        traffic = Traffic(base, args.seed)
        print(
            f"traffic: {len(traffic.queries)} distinct search queries, "
            f"{len(traffic.sections)} sections, {len(traffic.topics)} topics"
        )
        clients, state, _t0 = soak(args, base, server, events, traffic)
        if server.proc.poll() is not None:
            events.problems.append(f"gunicorn exited ({server.proc.returncode}) during the run")
        if nginx.proc.poll() is not None:
            events.problems.append(f"nginx exited ({nginx.proc.returncode}) during the run")
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: stopping clients, nginx and gunicorn", flush=True)
    finally:
        events.put_index_back()
        nginx.stop()
        server.stop()
    if interrupted:
        return 130

    summary = summarise(clients, events, args.duration)
    start, end = state["start"], state["end"]
    workers_seen = {p for s in state["sampler"].samples for p in s["pids"]} | set(start["pids"])
    worker_restarts = len(workers_seen) - len(start["pids"])
    growth = (end["rss_kib"] - start["rss_kib"]) * 100 / start["rss_kib"]
    result = {
        "what": "soak: mixed traffic through nginx to kb under gunicorn, with 3 rebuilds and "
        "one removal of the index directory",
        "command": "python benchmarks/soak.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "git": {"at_start": git_at_start, "at_end": git_state()},
        "server": {
            **settings,
            "max_requests": "gunicorn.conf.py" if args.recycle else 0,
            "behind": "nginx "
            + subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
        },
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "connections": args.connections,
        "mix": MIX,
        "events": events.log,
        "removal_windows_s": [[round(a, 2), round(b, 2)] for a, b in events.removal_windows],
        "summary": summary,
        "rss": {
            "start_kib": start["rss_kib"],
            "end_kib": end["rss_kib"],
            "growth_percent": round(growth, 2),
            "processes_start": len(start["pids"]),
            "processes_end": len(end["pids"]),
            "samples": state["sampler"].samples,
        },
        "worker_restarts": worker_restarts,
        "server_log": server_log_problems(server.log_path),
        "problems": events.problems,
        "targets": {"errors": 0, "rss_growth_percent_max": RSS_GROWTH_LIMIT, "lost_crisis": 0},
    }
    failed = list(events.problems)
    if summary["errors"]:
        failed.append(
            f"{summary['errors']} errors (5xx other than the removal's 503s, connection errors)"
        )
    if growth > RSS_GROWTH_LIMIT:
        failed.append(f"RSS grew {growth:.1f}% (limit {RSS_GROWTH_LIMIT:g}%)")
    if summary["crisis_lost"]:
        failed.append(f"{summary['crisis_lost']} crisis notices lost")
    result["failed"] = failed
    result["passed"] = not failed
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    print(
        f"\nkb soak: {args.duration:g} s through nginx -> gunicorn "
        f"{settings.get('workers')} workers x {settings.get('threads')} threads, "
        f"{args.connections} clients, {os.cpu_count()} cores"
    )
    print("events:")
    for entry in events.log:
        if entry["event"].startswith(("rebuild", "index", "health")):
            details = ", ".join(
                f"{k} {v}" for k, v in entry.items() if k not in ("event", "t", "at")
            )
            print(f"  {entry['at']}  {entry['t']:6.1f} s  {entry['event']}  {details}".rstrip())
    print()
    print(table(result))
    print(
        f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}; "
        f"logs in {work.relative_to(ROOT)}/"
    )
    print("PASSED" if not failed else "FAILED:\n  " + "\n  ".join(failed))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
