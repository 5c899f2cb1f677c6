"""Counts-only metrics at /metrics (Prometheus text format), off unless KB_METRICS=true.

What is counted never includes query text or anything taken from a query: requests are
labelled by their route *rule* (``/api/v1/sections/<string:section_id>``, never the id asked
for) and status; searches by outcome only. Built on prometheus-client; under gunicorn
(several worker processes) set PROMETHEUS_MULTIPROC_DIR to an empty directory, as
gunicorn.conf.py does when KB_METRICS is on, and each scrape adds up every worker.

Metrics:
  kb_requests_total{route, method, status}      every request (429s are status="429")
  kb_search_seconds                             histogram of /api/v1/search handling time
  kb_search_zero_results_total                  searches that found nothing
  kb_crisis_notices_total                       responses that carried a crisis notice
  kb_index_sections, kb_index_build_age_seconds the build this process serves (at scrape)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import Flask, Response, g, request

_METRICS: dict | None = None


def _metrics() -> dict:
    """The metric objects, created once per process (prometheus-client's registry is global)."""
    global _METRICS
    if _METRICS is None:
        from prometheus_client import Counter, Histogram

        _METRICS = {
            "requests": Counter(
                "kb_requests",
                "Requests by route rule, method and status.",
                ["route", "method", "status"],
            ),
            "search_seconds": Histogram(
                "kb_search_seconds",
                "Time to answer /api/v1/search, in seconds.",
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            ),
            "zero_results": Counter("kb_search_zero_results", "Searches that found nothing."),
            "crisis": Counter("kb_crisis_notices", "Responses that carried a crisis notice."),
        }
    return _METRICS


def init_app(app: Flask) -> None:
    """Count every request and serve /metrics, when KB_METRICS is on."""
    if not app.config["KB_METRICS"]:
        return
    metrics = _metrics()

    @app.before_request
    def _start():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response):
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics["requests"].labels(rule, request.method, str(response.status_code)).inc()
        if rule == "/api/v1/search" and response.status_code == 200:
            elapsed = time.perf_counter() - g.get("metrics_started", time.perf_counter())
            metrics["search_seconds"].observe(elapsed)
            if g.get("metrics_total") == 0:
                metrics["zero_results"].inc()
        if g.get("metrics_crisis"):
            metrics["crisis"].inc()
        return response

    app.add_url_rule("/metrics", "metrics", _serve_metrics)


def record_search(total: int) -> None:
    """Called by the search view: how many sections matched (the count only)."""
    g.metrics_total = total


def record_crisis_notice() -> None:
    """Called wherever a response gets a crisis notice (search and error bodies)."""
    g.metrics_crisis = True


def _serve_metrics():
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client import REGISTRY as registry

    from kb.config import metrics_multiprocess_dir

    if metrics_multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    body = generate_latest(registry) + _index_gauges()
    return Response(
        body,
        mimetype=CONTENT_TYPE_LATEST.split(";")[0],
        headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
    )


def _index_gauges() -> bytes:
    """The served build's size and age, read at scrape time from this process."""
    from flask import current_app

    from kb.index import IndexNotFound

    lines = [
        "# HELP kb_index_available 1 when this process serves a usable index build.",
        "# TYPE kb_index_available gauge",
    ]
    try:
        kb = current_app.extensions["kb"].get()
    except IndexNotFound:
        lines.append("kb_index_available 0")
        return ("\n".join(lines) + "\n").encode()
    built = datetime.fromisoformat(kb.built_at.replace("Z", "+00:00"))
    age = (datetime.now(UTC) - built).total_seconds()
    lines += [
        "kb_index_available 1",
        "# HELP kb_index_sections Sections in the served index build.",
        "# TYPE kb_index_sections gauge",
        f"kb_index_sections {kb.section_count()}",
        "# HELP kb_index_build_age_seconds Seconds since the served build was made.",
        "# TYPE kb_index_build_age_seconds gauge",
        f"kb_index_build_age_seconds {age:.3f}",
    ]
    return ("\n".join(lines) + "\n").encode()
