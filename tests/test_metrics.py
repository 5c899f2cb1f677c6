"""/metrics: counts only, off by default, summed over gunicorn's workers."""

from __future__ import annotations

import re
import urllib.request
from urllib.parse import quote

import pytest

from kb.api import create_app
from tests.test_faults import get, gunicorn

SECRET = "zebrawordmetrics"


def value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels}` in a Prometheus text page (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        sample, _, number = line.rpartition(" ")
        if sample.split("{")[0] != name:
            continue
        if all(f'{k}="{v}"' in sample for k, v in labels.items()):
            total += float(number)
    return total


@pytest.fixture
def metrics_client(index_dir):
    app = create_app(
        {"TESTING": True, "KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": "", "KB_METRICS": True}
    )
    return app.test_client()


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.get_data(as_text=True)


def test_metrics_are_off_by_default(client):
    assert client.get("/metrics").status_code == 404


def test_counts_requests_searches_and_crisis_notices_without_query_text(metrics_client):
    before = scrape(metrics_client)
    assert metrics_client.get(f"/api/v1/search?q={SECRET}").status_code == 200  # 0 hits
    assert metrics_client.get("/api/v1/search?q=mentalization").status_code == 200
    crisis = metrics_client.get("/api/v1/search?q=" + quote("I want to kill myself"))
    assert crisis.get_json()["notices"]
    # A crisis query that fails validation still shows (and counts) its notice.
    assert metrics_client.get("/api/v1/search?q=suicide&limit=0").status_code == 422
    assert metrics_client.get(f"/api/v1/sections/{SECRET}").status_code == 404
    after = scrape(metrics_client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("kb_requests_total", route="/api/v1/search", status="200") == 3
    assert delta("kb_requests_total", route="/api/v1/search", status="422") == 1
    assert (
        delta("kb_requests_total", route="/api/v1/sections/<string:section_id>", status="404") == 1
    )
    assert delta("kb_search_seconds_count") == 3
    assert delta("kb_search_zero_results_total") == 1
    assert delta("kb_crisis_notices_total") == 2
    assert value(after, "kb_index_available") == 1
    assert value(after, "kb_index_sections") == 11
    assert value(after, "kb_index_build_age_seconds") >= 0
    # Never query text, never an id taken from a request.
    assert SECRET not in after and "mentalization" not in after and "kill" not in after
    assert not re.search(r'route="/api/v1/sections/[a-z]', after)


@pytest.mark.slow
def test_gunicorn_workers_are_summed(index_dir, tmp_path):
    with gunicorn(index_dir, tmp_path, KB_METRICS="true") as (base, _proc, _log):
        for _ in range(12):  # spread over both workers
            assert get(f"{base}/api/v1/search?q=therapy")[0] == 200
        with urllib.request.urlopen(f"{base}/metrics", timeout=15) as response:
            text = response.read().decode()
    assert value(text, "kb_requests_total", route="/api/v1/search", status="200") == 12
    assert value(text, "kb_search_seconds_count") == 12
