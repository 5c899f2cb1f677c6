"""kb.api: each /api/v1 route returns its documented shape."""

from __future__ import annotations

import pytest

MBT = "bpd-treatment-in-real-sessions:other-therapies-can-fit-different-patterns"
HIT_KEYS = [
    "id",
    "article",
    "article_title",
    "title",
    "anchor",
    "breadcrumb",
    "snippet",
    "score",
    "topics",
    "url",
]


def test_search_returns_the_documented_envelope(client):
    body = client.get("/api/v1/search?q=mentalization").get_json()
    assert list(body) == [
        "query",
        "total",
        "limit",
        "offset",
        "hits",
        "facets",
        "did_you_mean",
        "corrected",
        "notices",
        "interpretation",
    ]
    assert (body["query"], body["limit"], body["offset"]) == ("mentalization", 10, 0)
    hit = body["hits"][0]
    assert list(hit) == HIT_KEYS
    assert hit["id"] == MBT
    assert hit["article"] == "bpd-treatment-in-real-sessions"
    assert hit["url"] == (
        "http://localhost/articles/bpd-treatment-in-real-sessions#" + hit["anchor"]
    )
    assert "<mark>" in hit["snippet"]
    assert set(body["facets"]) == {"topics", "articles"}


def test_hit_ids_work_verbatim_in_the_section_route(client):
    for hit in client.get("/api/v1/search?q=therapy&limit=50").get_json()["hits"]:
        assert client.get(f"/api/v1/sections/{hit['id']}").status_code == 200


def test_misspelling_gets_did_you_mean(client):
    body = client.get("/api/v1/search?q=medicaton").get_json()
    assert body["did_you_mean"] == "medication" and body["corrected"] is True
    assert body["hits"][0]["id"] == MBT


def test_crisis_notice_in_the_response(client):
    body = client.get("/api/v1/search?q=thoughts+of+suicide").get_json()
    assert body["notices"][0]["kind"] == "crisis"
    assert "emergency" in body["notices"][0]["message"]


def test_crisis_resources_are_configuration(index_dir):
    from kb.api import create_app

    app = create_app(
        {
            "KB_INDEX_DIR": str(index_dir),
            "KB_CRISIS_RESOURCES": [{"name": "Clinic crisis line", "phone": "555-0100"}],
        }
    )
    notice = app.test_client().get("/api/v1/search?q=self-harm").get_json()["notices"][0]
    assert notice["resources"] == [{"name": "Clinic crisis line", "phone": "555-0100"}]


def test_filters_and_paging(client):
    body = client.get("/api/v1/search?q=skills&topic=dbt&limit=2&offset=1").get_json()
    assert body["limit"] == 2 and body["offset"] == 1
    assert all("dbt" in h["topics"] for h in body["hits"])


def test_section_route(client):
    body = client.get(f"/api/v1/sections/{MBT}").get_json()
    assert body["id"] == MBT and body["article"] == "bpd-treatment-in-real-sessions"
    assert body["title"] == "Other Therapies Can Fit Different Patterns"
    assert "Mentalization-Based Therapy" in body["text"]
    assert body["html"].startswith("<p>")
    assert body["previous"].endswith(":dbt-is-often-the-starting-point-not-the-whole-answer")
    assert body["next"].endswith(":family-involvement-can-help-if-it-does-not-become-blame")
    assert MBT not in body["related"] and body["related"]
    assert "mentalization" in body["topics"] and "medication" in body["topics"]


def test_first_and_last_sections_have_no_neighbour(client):
    first = client.get("/api/v1/sections/bpd-treatment-in-real-sessions:introduction").get_json()
    assert first["previous"] is None and first["next"]


def test_related_route(client):
    body = client.get(f"/api/v1/sections/{MBT}/related?limit=2").get_json()
    assert body["section"] == MBT
    assert 0 < len(body["related"]) <= 2 and MBT not in [r["id"] for r in body["related"]]


def test_articles_routes(client):
    articles = client.get("/api/v1/articles").get_json()["articles"]
    assert [a["slug"] for a in articles] == [
        "bpd-treatment-in-real-sessions",
        "psychotherapy-for-personality-disorders",
    ]
    article = client.get("/api/v1/articles/psychotherapy-for-personality-disorders").get_json()
    assert article["published"] == "2025-08-08"
    assert article["section_count"] == len(article["toc"]) == 5
    assert article["toc"][0]["anchor"] == "introduction"


def test_topics_routes(client):
    topics = client.get("/api/v1/topics").get_json()["topics"]
    counts = {t["id"]: t["section_count"] for t in topics}
    assert counts["mentalization"] >= 1 and counts["telehealth"] >= 1
    medication = client.get("/api/v1/topics/medication").get_json()
    assert MBT in [s["id"] for s in medication["sections"]]
    assert medication["section_count"] == len(medication["sections"])


def test_suggest_route(client):
    body = client.get("/api/v1/suggest?q=ment").get_json()
    assert body["query"] == "ment"
    assert {"text": "Mentalization-based therapy", "kind": "topic", "section_id": None} in body[
        "suggestions"
    ]


def test_health_route(client):
    body = client.get("/api/v1/health").get_json()
    assert body["status"] == "ok" and body["articles"] == 2 and body["sections"] == 11
    assert body["build"] and body["built_at"]


def test_article_page_has_section_anchors(client):
    page = client.get("/articles/bpd-treatment-in-real-sessions").get_data(as_text=True)
    assert 'id="other-therapies-can-fit-different-patterns"' in page


def test_article_url_from_front_matter_wins(tmp_path, make_article):
    from kb.api import create_app
    from kb.corpus import load_corpus
    from kb.index import build_index

    make_article("a.md", "DBT skills.\n", url="https://clinic.example/dbt")
    build_index(load_corpus(make_article.corpus), tmp_path / "index")
    client = create_app({"KB_INDEX_DIR": str(tmp_path / "index")}).test_client()
    hit = client.get("/api/v1/search?q=dbt").get_json()["hits"][0]
    assert hit["url"] == "https://clinic.example/dbt#introduction"


def test_section_html_escapes_raw_html(tmp_path, make_article):
    from kb.api import create_app
    from kb.corpus import load_corpus
    from kb.index import build_index

    make_article("a.md", "Text with <script>alert(1)</script> in it.\n")
    build_index(load_corpus(make_article.corpus), tmp_path / "index")
    client = create_app({"KB_INDEX_DIR": str(tmp_path / "index")}).test_client()
    body = client.get("/api/v1/sections/a:introduction").get_json()
    assert "<script>" not in body["html"] and "&lt;script&gt;" in body["html"]
    page = client.get("/articles/a").get_data(as_text=True)
    assert "<script>alert" not in page


@pytest.mark.parametrize("origin", ["https://clinic.example"])
def test_cors_allowlist(index_dir, origin):
    from kb.api import create_app

    allowed = create_app({"KB_INDEX_DIR": str(index_dir), "KB_CORS_ORIGINS": [origin]})
    client = allowed.test_client()
    response = client.get("/api/v1/search?q=dbt", headers={"Origin": origin})
    assert response.headers["Access-Control-Allow-Origin"] == origin
    preflight = client.options(
        "/api/v1/search?q=dbt", headers={"Origin": origin, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    other = client.get("/api/v1/search?q=dbt", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_cors_is_off_by_default(client):
    response = client.get("/api/v1/search?q=dbt", headers={"Origin": "https://clinic.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_public_url_is_used_for_every_absolute_link_not_the_host_header(index_dir):
    from kb.api import create_app

    app = create_app(
        {
            "TESTING": True,
            "KB_INDEX_DIR": str(index_dir),
            "KB_RATE_LIMIT": "",
            "KB_PUBLIC_URL": "https://kb.clinic.example",
        }
    )
    client = app.test_client()
    hits = client.get("/api/v1/search?q=therapy", headers={"Host": "evil.example"}).get_json()
    urls = [h["url"] for h in hits["hits"]]
    assert urls and all(not u.startswith("http://evil") for u in urls)
    assert any(u.startswith("https://kb.clinic.example/articles/") for u in urls), urls
    page = client.get("/", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in page and "https://kb.clinic.example/widget/kb-search.js" in page


def test_public_url_must_be_a_base_url():
    from kb.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="KB_PUBLIC_URL"):
        load_settings({"KB_PUBLIC_URL": "kb.clinic.example"}, environ={})


def test_articles_and_sections_carry_review_metadata_and_reading_grade(client):
    article = client.get("/api/v1/articles/bpd-treatment-in-real-sessions").get_json()
    for key in ("reviewed", "next_review", "reviewed_by", "authors", "audience", "tags"):
        assert key in article
    assert article["reviewed"] is None and article["authors"] == []
    section = client.get(f"/api/v1/sections/{MBT}").get_json()
    assert section["reviewed"] is None and section["next_review"] is None
    assert 5 < section["reading_grade"] < 20


def test_the_article_page_says_when_it_was_reviewed(client):
    page = client.get("/articles/bpd-treatment-in-real-sessions").get_data(as_text=True)
    assert "Not reviewed yet." in page
