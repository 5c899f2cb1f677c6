"""The HTML pages kb serves besides the demo: /search, the article pages' landing details
(canonical, description, JSON-LD, breadcrumb, branding), robots.txt and sitemap.xml, and
the KB_SITE_* settings behind them."""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from datetime import date
from urllib.parse import quote

import lxml.html
import pytest

from kb.api import create_app
from kb.api.pages import CONTENT_SECURITY_POLICY
from kb.config import ConfigError, load_settings
from kb.corpus import load_corpus
from kb.index import build_index
from tests.helpers import write_article

BPD = "bpd-treatment-in-real-sessions"
PSY = "psychotherapy-for-personality-disorders"
CRISIS_RESOURCES = [
    {"name": "Clinic crisis line", "phone": "555-0100", "url": "https://clinic.example/crisis"},
    {"name": "Shout", "sms": "85258"},
]


# -- helpers -----------------------------------------------------------------------------


def parse(response) -> lxml.html.HtmlElement:
    assert response.mimetype == "text/html", response.mimetype
    return lxml.html.document_fromstring(response.get_data(as_text=True))


def having_class(name: str) -> str:
    """An XPath predicate for `class~="name"` (lxml's XPath has no CSS selectors)."""
    return f"[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"


def text(element) -> str:
    return " ".join(element.text_content().split())


def hit_links(doc) -> list[str]:
    return doc.xpath(f"//ol{having_class('results')}/li//h3/a/@href")


def position(doc, element) -> int:
    """Document order of `element` (its index among every element)."""
    return list(doc.iter()).index(element)


# -- fixtures ------------------------------------------------------------------------------

SECTION_TEXT = (
    "Sleep matters in recovery. People who sleep badly often find that distress tolerance "
    "and mindfulness skills are harder to use, and a steady routine helps. Section {n}."
)


@pytest.fixture(scope="module")
def sleep_index(tmp_path_factory):
    """45 sections about sleep in 5 articles (5 pages of results), with review metadata,
    a front-matter url, a hostile title and hostile text."""
    corpus = tmp_path_factory.mktemp("sleep-corpus")
    for a in range(1, 6):
        body = SECTION_TEXT.format(n=f"{a}.0") + "\n"
        for s in range(1, 9):
            body += f"\n## Sleep habit {a}.{s}\n\n" + SECTION_TEXT.format(n=f"{a}.{s}") + "\n"
        front = {"title": f"Sleep and recovery, part {a}", "summary": f"Part {a} about sleep."}
        if a == 1:
            front.update(
                reviewed="2025-09-01",
                next_review="2026-09-01",
                reviewed_by="Dr Ada Example",
                published="2024-01-15",
                authors=["Sam Writer"],
            )
        if a == 2:
            front.update(url="https://clinic.example/sleep-2", published="2024-03-01")
        write_article(corpus, f"sleep-{a}.md", body, **front)
    write_article(
        corpus,
        "hostile.md",
        "Beware <script>alert(1)</script> & <img src=x onerror=alert(1)> claims about insomnia.\n",
        title="Insomnia </script><script>alert(1)</script> & more",
        summary='A "summary" with </script> & <b>markup</b>.',
    )
    index = tmp_path_factory.mktemp("sleep-index")
    build_index(load_corpus(corpus), index)
    return index


@pytest.fixture
def sleep_client(sleep_index):
    app = create_app({"TESTING": True, "KB_INDEX_DIR": str(sleep_index), "KB_RATE_LIMIT": ""})
    return app.test_client()


@pytest.fixture
def crisis_client(index_dir):
    app = create_app(
        {
            "TESTING": True,
            "KB_INDEX_DIR": str(index_dir),
            "KB_RATE_LIMIT": "",
            "KB_CRISIS_RESOURCES": CRISIS_RESOURCES,
        }
    )
    return app.test_client()


def branded_client(index_dir, **settings):
    config = {"TESTING": True, "KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": ""}
    return create_app({**config, **settings}).test_client()


# -- the results page ------------------------------------------------------------------------


def test_results_page_layout(client):
    response = client.get("/search?q=clients")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["Cache-Control"] == "no-store"
    doc = parse(response)
    assert text(doc.xpath("//h1")[0]).startswith("Search results")
    assert "clients" in text(doc.xpath("//h1")[0])
    assert doc.xpath("//meta[@name='robots']/@content") == ["noindex"]
    forms = doc.xpath("//main//form[@role='search']")
    assert len(forms) == 1
    form = forms[0]
    assert form.get("method") == "get" and form.get("action") == "/search"
    box = form.xpath(".//input[@name='q']")[0]
    assert box.get("value") == "clients"
    assert form.xpath(f".//label[@for='{box.get('id')}']"), "the search box has a label"
    assert form.xpath(".//button[@type='submit']")
    # No inline script or style anywhere: the page passes kb's CSP.
    assert not doc.xpath("//script[not(@src)]") and not doc.xpath("//style|//*[@style]")
    assert "11 sections found, in 2 articles" in text(doc.xpath("//*[@id='count']")[0])


def test_hits_are_grouped_by_article_with_the_apis_urls(client):
    doc = parse(client.get("/search?q=clients"))
    api = client.get("/api/v1/search?q=clients&limit=10").get_json()
    groups = doc.xpath(f"//ol{having_class('results')}/li")
    titles = [text(g.xpath(".//h2")[0]) for g in groups]
    # Each article once, in the order of its best hit.
    assert titles == list(dict.fromkeys(h["article_title"] for h in api["hits"]))
    for group, title in zip(groups, titles, strict=True):
        links = group.xpath(".//h3/a/@href")
        expected = [h["url"] for h in api["hits"] if h["article_title"] == title]
        assert links == expected  # rank order within the article
    snippets = [
        lxml.html.tostring(p, encoding="unicode") for p in doc.xpath("//p[@class='snippet']")
    ]
    assert all("<mark>" in s for s in snippets)


def test_pagination(sleep_client):
    total = sleep_client.get("/api/v1/search?q=sleep").get_json()["total"]
    assert 41 <= total <= 50  # 5 pages of 10
    seen = []
    for page in range(1, 6):
        doc = parse(sleep_client.get(f"/search?q=sleep&page={page}"))
        pager = doc.xpath("//nav[@aria-label='Pages of results']")[0]
        assert f"Page {page} of 5" in text(pager)
        previous, following = pager.xpath(".//a[@rel='prev']"), pager.xpath(".//a[@rel='next']")
        if page == 1:
            assert not previous
        else:
            expected = "/search?q=sleep" + (f"&page={page - 1}" if page > 2 else "")
            assert previous[0].get("href") == expected
        if page == 5:
            assert not following
        else:
            assert following[0].get("href") == f"/search?q=sleep&page={page + 1}"
        links = hit_links(doc)
        assert len(links) == (10 if page < 5 else total - 40)
        first = (page - 1) * 10 + 1
        count = text(doc.xpath("//*[@id='count']")[0])
        assert f"Showing sections {first}–{first + len(links) - 1}" in count
        seen += links
    assert len(seen) == len(set(seen)) == total  # every hit once, across the pages


def test_a_page_past_the_end_says_where_the_results_end(sleep_client):
    response = sleep_client.get("/search?q=sleep&page=9")
    assert response.status_code == 200
    doc = parse(response)
    assert "end on page 5" in text(doc.xpath("//main")[0])
    assert doc.xpath("//main//a[@href='/search?q=sleep&page=5']")
    assert not hit_links(doc)


def test_facets_filter_and_the_active_filter_can_be_removed(client):
    doc = parse(client.get("/search?q=clients"))
    filters = doc.xpath("//section[@aria-labelledby='filters-title']")[0]
    article_links = filters.xpath(".//a[starts-with(@href, '/search?q=clients&article=')]")
    assert {a.get("href").rsplit("=", 1)[1] for a in article_links} == {BPD, PSY}
    topic_links = filters.xpath(".//a[starts-with(@href, '/search?q=clients&topic=')]")
    assert topic_links
    counts = [
        text(li.xpath(f".//span{having_class('count-badge')}")[0]) for li in filters.xpath(".//li")
    ]
    assert all(re.match(r"^\d+ sections?$", c) for c in counts), counts

    href = next(a.get("href") for a in article_links if a.get("href").endswith(PSY))
    filtered = parse(client.get(href))
    links = hit_links(filtered)
    assert links and all(f"/articles/{PSY}#" in link for link in links)
    active = filtered.xpath("//ul[@aria-label='Filters']/li")
    assert len(active) == 1 and "Article:" in text(active[0])
    assert active[0].xpath(".//a/@href") == ["/search?q=clients"]
    # The article facets go while an article is chosen (another would replace it); topic
    # facets narrow further, keeping the article.
    headings = [text(h) for h in filtered.xpath("//section[@aria-labelledby='filters-title']//h3")]
    assert "By article" not in headings
    for link in filtered.xpath("//section[@aria-labelledby='filters-title']//a/@href"):
        assert link.startswith("/search?q=clients&topic=") and link.endswith(f"&article={PSY}")

    topic_href = topic_links[0].get("href")
    topic_id = topic_href.rsplit("=", 1)[1]
    by_topic = parse(client.get(topic_href))
    api = client.get(f"/api/v1/search?q=clients&topic={topic_id}").get_json()
    assert sorted(hit_links(by_topic)) == sorted(h["url"] for h in api["hits"])
    remove = by_topic.xpath("//ul[@aria-label='Filters']//a/@href")
    assert remove == ["/search?q=clients"]


def test_a_topic_without_a_query_lists_its_sections(client, kb):
    response = client.get("/search?topic=dbt")
    assert response.status_code == 200
    doc = parse(response)
    assert text(doc.xpath("//h1")[0]) == "Browse: Dialectical behavior therapy"
    expected = [s.anchor for s in kb.sections_with_topic("dbt")]
    assert [link.split("#")[1] for link in hit_links(doc)] == expected
    assert doc.xpath("//ul[@aria-label='Filters']//a/@href") == ["/search"]
    # The topic links of the browse lists lead here.
    assert parse(client.get("/search")).xpath("//a[@href='/search?topic=dbt']")


def test_an_article_filter_without_a_query_lists_its_sections(client, kb):
    doc = parse(client.get(f"/search?article={PSY}"))
    assert len(hit_links(doc)) == len(kb.articles[PSY].sections)


def test_an_empty_query_offers_topics_and_every_article(client, kb):
    response = client.get("/search")
    assert response.status_code == 200
    doc = parse(response)
    assert text(doc.xpath("//h1")[0]) == "Search"
    assert doc.xpath("//main//form[@role='search']//input[@name='q']")
    counts = kb.topic_counts()
    topics = doc.xpath("//section[@aria-labelledby='browse-topics']//a/@href")
    assert topics == [f"/search?topic={t.id}" for t in kb.taxonomy.topics if counts[t.id]]
    articles = doc.xpath("//section[@aria-labelledby='all-articles']//a/@href")
    assert sorted(articles) == sorted(f"/articles/{slug}" for slug in kb.articles)
    assert not hit_links(doc)
    # Blank is empty too.
    assert text(parse(client.get("/search?q=+++")).xpath("//h1")[0]) == "Search"


def test_no_hits_is_a_helpful_empty_state(client):
    doc = parse(client.get("/search?q=xyzzyqq"))
    main = text(doc.xpath("//main")[0])
    assert "No sections match “xyzzyqq”" in main
    assert doc.xpath(
        "//section[@aria-labelledby='browse-topics']//a[starts-with(@href, '/search?topic=')]"
    )
    assert doc.xpath("//main//a[@href='/search'][contains(., 'articles')]")


def test_a_correction_says_what_was_searched(client):
    doc = parse(client.get("/search?q=medicaton"))
    correction = text(doc.xpath("//p[@class='correction']")[0])
    assert correction.startswith("Showing results for medication.")
    assert "No article contains “medicaton”" in correction
    assert hit_links(doc)


def test_a_suggestion_is_a_did_you_mean_link(client, monkeypatch):
    from kb.models import SearchResults
    from kb.search.build import KnowledgeBase

    def search(self, text, **kwargs):
        return SearchResults(text, 0, 10, 0, (), did_you_mean="therapy")

    monkeypatch.setattr(KnowledgeBase, "search", search)
    doc = parse(client.get("/search?q=therapi&topic=dbt"))
    link = doc.xpath("//p[@class='correction']/a")[0]
    assert text(doc.xpath("//p[@class='correction']")[0]) == "Did you mean therapy?"
    assert link.get("href") == "/search?q=therapy&topic=dbt"


# -- safety and privacy ------------------------------------------------------------------------


def test_the_crisis_notice_comes_first_and_matches_the_api(crisis_client):
    query = "I want to hurt myself"
    doc = parse(crisis_client.get("/search", query_string={"q": query}))
    notices = doc.xpath(f"//section{having_class('notice')}")
    assert len(notices) == 1
    notice = notices[0]
    main = doc.xpath("//main")[0]
    first = next(e for e in main.iterchildren())
    assert first is notice, "the notice is the first thing in <main>"
    for later in (doc.xpath("//h1")[0], doc.xpath("//main//form")[0], doc.xpath("//ol")[0]):
        assert position(doc, notice) < position(doc, later)
    api = crisis_client.get("/api/v1/search", query_string={"q": query}).get_json()["notices"]
    assert len(api) == 1
    shown = text(notice)
    assert api[0]["title"] in shown and api[0]["message"] in shown
    for resource in api[0]["resources"]:
        assert resource["name"] in shown
    assert notice.xpath(".//a[@href='tel:5550100']") and notice.xpath(".//a[@href='sms:85258']")
    assert notice.xpath(".//a[@href='https://clinic.example/crisis']")
    # The region is named by the notice's title.
    assert text(notice.xpath(f".//*[@id='{notice.get('aria-labelledby')}']")[0]) == api[0]["title"]


@pytest.mark.parametrize(
    "query_string",
    [
        {"q": "kill myself"},  # no hits
        {"q": "I want to kill myself", "page": "0"},  # a bad parameter: 400
        {"q": "I want to kill myself", "topic": "nope"},  # an unknown topic: 400
        {"q": "I want to kill myself " + "x" * 1000},  # too long: 400
    ],
)
def test_the_crisis_notice_never_goes_missing(crisis_client, query_string):
    response = crisis_client.get("/search", query_string=query_string)
    assert response.status_code in (200, 400)
    doc = parse(response)
    assert doc.xpath(f"//main/section{having_class('notice')}")


def test_the_crisis_notice_shows_when_search_is_unavailable(tmp_path):
    app = create_app({"TESTING": True, "KB_INDEX_DIR": str(tmp_path), "KB_RATE_LIMIT": ""})
    client = app.test_client()
    response = client.get("/search?q=I+want+to+kill+myself")
    assert response.status_code == 503
    doc = parse(response)
    assert doc.xpath(f"//section{having_class('notice')}")
    assert "unavailable right now" in text(doc.xpath("//main")[0])
    assert client.get("/articles/anything").status_code == 503


@pytest.mark.parametrize(
    "query",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '"><script>alert(1)</script> therapy',
        "</title><script>alert(1)</script>",
    ],
)
def test_queries_are_shown_escaped(client, query):
    for extra in ("", "&page=0"):  # the results page and the 400 page
        response = client.get("/search?q=" + quote(query, safe="") + extra)
        body = response.get_data(as_text=True)
        assert response.status_code in (200, 400)
        assert "<script>alert" not in body and "<img src=x" not in body
        doc = parse(response)
        assert not doc.xpath("//@*[starts-with(name(), 'on')]")  # no event handler anywhere
        assert doc.xpath("//main//input[@name='q']/@value") == [query]
        assert not doc.xpath("//script") and not doc.xpath("//main//img")


def test_snippets_keep_the_apis_escaping(sleep_client):
    response = sleep_client.get("/search?q=beware")
    body = response.get_data(as_text=True)
    api = sleep_client.get("/api/v1/search?q=beware").get_json()["hits"][0]["snippet"]
    assert api in body  # the API's snippet, byte for byte
    assert "&lt;script&gt;" in api and "<mark>" in api
    assert "<script>alert" not in body and "<img src=x" not in body


def test_the_query_reaches_no_log_line(client, caplog):
    caplog.set_level(logging.DEBUG)
    query = "zebraquery private health words"
    for path in (f"/search?q={query}", f"/search?q={query}&page=0", f"/search?q={query}&topic=no"):
        client.get(path)
    assert "zebraquery" not in caplog.text
    assert all("zebraquery" not in str(r.args) for r in caplog.records)


# -- bad parameters: a 400 page, never a 500 ---------------------------------------------------


@pytest.mark.parametrize(
    ("query_string", "field", "message"),
    [
        ({"q": "x" * 1001}, "q", "at most 1000 characters"),
        ({"q": "dbt\x01"}, "q", "control characters"),
        ({"q": "dbt", "page": "0"}, "page", "from 1 to 1001"),
        ({"q": "dbt", "page": "1002"}, "page", "from 1 to 1001"),
        ({"q": "dbt", "page": "two"}, "page", "whole number"),
        ({"q": "dbt", "page": ""}, "page", "whole number"),
        ({"q": "dbt", "topic": "nope"}, "topic", "There is no topic “nope”"),
        ({"q": "dbt", "topic": ""}, "topic", "Choose a topic"),
        ({"q": "dbt", "article": "Not A Slug!"}, "article", "not the name of an article"),
        ({"q": "dbt", "article": "no-such-article"}, "article", "There is no article"),
    ],
)
def test_a_bad_parameter_is_a_400_page_that_says_what_is_wrong(
    client, query_string, field, message
):
    response = client.get("/search", query_string=query_string)
    assert response.status_code == 400
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    doc = parse(response)
    form = doc.xpath("//main//form[@role='search']")[0]
    if field == "q":
        box = form.xpath(".//input[@name='q']")[0]
        assert box.get("aria-invalid") == "true"
        problem = doc.xpath(f"//*[@id='{box.get('aria-describedby')}']")[0]
        assert problem.getparent() is form, "the message is next to the search box"
    else:
        problem = doc.xpath(f"//div{having_class('problem-box')}")[0]
        assert position(doc, form) < position(doc, problem)
    assert message in text(problem)
    # Ways forward: topics and articles to browse.
    assert doc.xpath("//section[@aria-labelledby='browse-topics']")


@pytest.mark.parametrize(
    "raw",
    [
        "q=%ff",  # not UTF-8 (the app's own 400)
        "q=a&q=b&page=2&page=x",
        "page=99999999999999999999",
        "page=-1",
        "page=1.5",
        "topic=%00",
        "article=%2e%2e",
        "q=%0a%0d%09",
        "q=" + "%F0%9F%98%80" * 600,
        "cachebuster=1&q=dbt",
    ],
)
def test_odd_parameters_never_fail(client, raw):
    response = client.get("/search?" + raw)
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:500]


# -- article pages ---------------------------------------------------------------------------


def json_ld(doc) -> dict:
    scripts = doc.xpath("//script[@type='application/ld+json']")
    assert len(scripts) == 1
    return json.loads(scripts[0].text)


def test_article_page_landing_details(sleep_client):
    response = sleep_client.get("/articles/sleep-1")
    doc = parse(response)
    assert doc.xpath("//link[@rel='canonical']/@href") == ["http://localhost/articles/sleep-1"]
    assert doc.xpath("//meta[@name='description']/@content") == ["Part 1 about sleep."]
    crumbs = doc.xpath("//nav[@aria-label='Breadcrumb']//li")
    assert [text(c) for c in crumbs] == ["Home", "Articles", "Sleep and recovery, part 1"]
    assert crumbs[0].xpath("./a/@href") == ["/"]
    assert crumbs[1].xpath("./a/@href") == ["/search"]
    assert crumbs[2].xpath(".//*[@aria-current='page']")
    review = text(doc.xpath("//p[@class='review']")[0])
    assert "Last reviewed 01 September 2025 by Dr Ada Example" in review
    data = json_ld(doc)
    assert data == {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": "Sleep and recovery, part 1",
        "description": "Part 1 about sleep.",
        "url": "http://localhost/articles/sleep-1",
        "inLanguage": "en",
        "datePublished": "2024-01-15",
        "lastReviewed": "2025-09-01",
        "reviewedBy": "Dr Ada Example",
        "author": [{"@type": "Person", "name": "Sam Writer"}],
        "publisher": {"@type": "Organization", "name": "Knowledge base"},
    }
    # The header: the site's name, and a search box that goes to the results page.
    header = doc.xpath("//header")[0]
    assert text(header.xpath(".//a")[0]) == "Knowledge base"
    assert header.xpath(".//form[@role='search'][@action='/search']//input[@name='q']")


def test_the_canonical_url_is_the_articles_own_url_when_it_has_one(sleep_client):
    doc = parse(sleep_client.get("/articles/sleep-2"))
    assert doc.xpath("//link[@rel='canonical']/@href") == ["https://clinic.example/sleep-2"]
    data = json_ld(doc)
    assert data["url"] == "https://clinic.example/sleep-2"
    assert "lastReviewed" not in data and "reviewedBy" not in data
    assert "Not reviewed yet." in text(doc.xpath("//p[@class='review']")[0])


def test_json_ld_cannot_break_out_of_its_script_element(sleep_client):
    body = sleep_client.get("/articles/hostile").get_data(as_text=True)
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S).group(1)
    assert "<" not in raw and ">" not in raw and "&" not in raw
    data = json.loads(raw)
    assert data["name"] == "Insomnia </script><script>alert(1)</script> & more"
    assert data["description"] == 'A "summary" with </script> & <b>markup</b>.'
    doc = parse(sleep_client.get("/articles/hostile"))
    assert len(doc.xpath("//script")) == 1  # only the JSON-LD


def test_absolute_urls_honour_kb_public_url(sleep_index):
    client = branded_client(sleep_index, KB_PUBLIC_URL="https://kb.clinic.example")
    doc = parse(client.get("/articles/sleep-1"))
    assert doc.xpath("//link[@rel='canonical']/@href") == [
        "https://kb.clinic.example/articles/sleep-1"
    ]
    assert "Sitemap: https://kb.clinic.example/sitemap.xml" in client.get("/robots.txt").text
    locs = [
        e.text
        for e in ET.fromstring(client.get("/sitemap.xml").data).iter()
        if e.tag.endswith("loc")
    ]
    assert all(loc.startswith("https://kb.clinic.example/articles/") for loc in locs)


def test_an_unknown_article_is_a_404_page_that_helps(client):
    response = client.get("/articles/no-such-thing")
    assert response.status_code == 404
    doc = parse(response)
    assert "could not find" in text(doc.xpath("//h1")[0])
    assert doc.xpath(f"//a[@href='/articles/{BPD}']")
    assert doc.xpath("//main//form[@role='search']")


# -- branding: KB_SITE_* --------------------------------------------------------------------


def test_branding_and_csp_for_another_origin(index_dir):
    client = branded_client(
        index_dir,
        KB_SITE_NAME="Riverside Clinic",
        KB_SITE_URL="https://riverside.example/",
        KB_SITE_LOGO="https://cdn.riverside.example/logo.svg",
        KB_SITE_STYLESHEET="https://static.riverside.example:8443/kb.css",
        KB_PUBLIC_URL="https://kb.riverside.example",
    )
    for path in (f"/articles/{BPD}", "/search?q=dbt", "/"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["img-src"] == "'self' data: https://cdn.riverside.example"
        assert directives["style-src"] == "'self' https://static.riverside.example:8443"
        assert directives["script-src"] == "'self'" and directives["default-src"] == "'none'"
        doc = parse(response)
        brand = doc.xpath("//header//a")[0]
        assert brand.get("href") == "https://riverside.example/"
        assert brand.xpath(".//img/@src") == ["https://cdn.riverside.example/logo.svg"]
        assert brand.xpath(".//img/@alt") == ["Riverside Clinic"]
        sheets = doc.xpath("//link[@rel='stylesheet']/@href")
        assert sheets[-1] == "https://static.riverside.example:8443/kb.css"
        assert sheets[0] == "/static/kb-pages.css"
    doc = parse(client.get(f"/articles/{BPD}"))
    assert doc.xpath("//title")[0].text.endswith("– Riverside Clinic")
    assert doc.xpath("//nav[@aria-label='Breadcrumb']//a/@href")[0] == "https://riverside.example/"
    assert json_ld(doc)["publisher"] == {
        "@type": "Organization",
        "name": "Riverside Clinic",
        "url": "https://riverside.example/",
        "logo": {"@type": "ImageObject", "url": "https://cdn.riverside.example/logo.svg"},
    }
    assert client.get("/robots.txt").headers.get("Content-Security-Policy") is None


def test_branding_on_kbs_own_origin_keeps_the_csp(index_dir):
    client = branded_client(
        index_dir, KB_SITE_LOGO="/static/logo.svg", KB_SITE_STYLESHEET="/static/clinic.css"
    )
    response = client.get(f"/articles/{BPD}")
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    doc = parse(response)
    assert doc.xpath("//header//img/@src") == ["/static/logo.svg"]
    assert json_ld(doc)["publisher"]["logo"]["url"] == "http://localhost/static/logo.svg"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("KB_SITE_NAME", ""),
        ("KB_SITE_URL", "javascript:alert(1)"),
        ("KB_SITE_URL", "clinic.example"),
        ("KB_SITE_LOGO", "//cdn.example/logo.svg"),
        ("KB_SITE_LOGO", "ftp://cdn.example/logo.svg"),
        ("KB_SITE_LOGO", "https://cdn.example/a logo.svg"),
        ("KB_SITE_STYLESHEET", "https://evil.example;script-src *"),
        ("KB_SITE_STYLESHEET", "https://user@cdn.example/kb.css"),
        ("KB_SITE_STYLESHEET", "https://cdn.example:port/kb.css"),
        ("KB_SITE_STYLESHEET", 'https://cdn.example/"><script>'),
    ],
)
def test_bad_site_settings_are_refused_one_line_each(key, value):
    with pytest.raises(ConfigError) as caught:
        load_settings({key: value}, environ={})
    assert list(caught.value.problems) == [key]
    assert len(caught.value.lines) == 1 and caught.value.lines[0].startswith(f"{key}: ")


def test_several_bad_site_settings_are_all_named():
    environ = {"KB_SITE_LOGO": "nope", "KB_SITE_STYLESHEET": "also nope", "KB_SITE_NAME": ""}
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ)
    assert sorted(caught.value.problems) == ["KB_SITE_LOGO", "KB_SITE_NAME", "KB_SITE_STYLESHEET"]
    assert len(caught.value.lines) == 3


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("KB_SITE_NAME", "Riverside Clinic"),
        ("KB_SITE_URL", ""),
        ("KB_SITE_URL", "https://riverside.example/"),
        ("KB_SITE_URL", "/"),
        ("KB_SITE_LOGO", "https://cdn.example:8443/logo.svg?v=2"),
        ("KB_SITE_LOGO", "/static/logo.png"),
        ("KB_SITE_STYLESHEET", "http://127.0.0.1:8000/kb.css"),
    ],
)
def test_good_site_settings_are_accepted(key, value):
    assert load_settings({key: value}, environ={})[key] == value


def test_site_settings_defaults():
    settings = load_settings(environ={})
    assert settings["KB_SITE_NAME"] == "Knowledge base"
    assert (
        settings["KB_SITE_URL"] == settings["KB_SITE_LOGO"] == settings["KB_SITE_STYLESHEET"] == ""
    )


# -- robots.txt and sitemap.xml -----------------------------------------------------------------


def test_robots_txt(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = [line for line in response.text.splitlines() if not line.startswith("#")]
    assert lines == [
        "User-agent: *",
        "Allow: /articles/",
        "Disallow: /search",
        "Disallow: /api/",
        "Sitemap: http://localhost/sitemap.xml",
    ]


def test_sitemap_lists_every_article_with_its_date(sleep_client, sleep_index):
    response = sleep_client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    entries = {
        u.find("s:loc", ns).text: getattr(u.find("s:lastmod", ns), "text", None)
        for u in root.findall("s:url", ns)
    }
    slugs = ["hostile"] + [f"sleep-{a}" for a in range(1, 6)]
    assert sorted(entries) == sorted(f"http://localhost/articles/{s}" for s in slugs)
    assert entries["http://localhost/articles/sleep-1"] == "2025-09-01"  # reviewed
    assert entries["http://localhost/articles/sleep-2"] == "2024-03-01"  # published
    assert entries["http://localhost/articles/sleep-3"] is None
    for value in entries.values():
        if value:
            date.fromisoformat(value)


@pytest.mark.parametrize(
    ("raw", "status", "message"),
    [
        ("q=%ff", 400, "could not be read"),  # not UTF-8
        ("q=" + "%F0%9F%98%80" * 700, 414, "too long"),  # longer than KB_MAX_URL_LENGTH
    ],
)
def test_a_query_string_refused_before_the_view_is_still_a_page(client, raw, status, message):
    response = client.get("/search?" + raw)
    assert response.status_code == status
    doc = parse(response)
    assert message in text(doc.xpath("//*[@id='q-problem']")[0])
    # Elsewhere the API's error body, as before.
    assert client.get("/api/v1/search?" + raw).mimetype == "application/json"
