"""`kb import html` on pages imitating real clinic sites (tests/data/importer/sites/).

Each page has a golden Markdown file (`<name>.md`, compared whole) and an `.expect.yaml`
written with the page: the title, dates and headings it states, sentences of the article
that must be kept (first and last paragraphs, list items, table cells, figure captions) and
pieces of chrome that must be dropped (cookie banners, menus, bylines, share lines,
newsletter boxes, comments, related posts, "Was this article helpful?", tags, footers).
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
import yaml

from kb.cli import main
from kb.importer import import_file

SITES = Path(__file__).parent / "data" / "importer" / "sites"
PAGES = sorted(p.name.split(".")[0] for p in SITES.glob("*.expect.yaml"))


def norm(text: str) -> str:
    return " ".join(html.unescape(text).replace("’", "'").replace("\\", "").split())


def expected(name: str) -> dict:
    return yaml.safe_load((SITES / f"{name}.expect.yaml").read_text(encoding="utf-8"))


def test_there_are_five_sites():
    assert PAGES == ["figures", "nhs", "squarespace", "table-lists", "wordpress"]


@pytest.mark.parametrize("name", PAGES)
def test_html_page_gives_its_golden_markdown(name):
    article = import_file("html", SITES / f"{name}.html")
    assert article.to_markdown() == (SITES / f"{name}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", PAGES)
def test_every_article_sentence_is_kept_and_every_piece_of_chrome_dropped(name):
    want = expected(name)
    article = import_file("html", SITES / f"{name}.html")
    text = norm(f"{article.title}\n{article.summary}\n{article.body_markdown}")
    assert [s for s in want["keep"] if norm(s) not in text] == []
    assert [s for s in want["drop"] if norm(s) in text] == []


def check_title_dates_and_headings(article, want: dict) -> None:
    """The imported article states the title, dates and headings the page's expect file
    lists (shared with tests/test_importer_text_sites.py)."""
    assert article.title == want["title"]
    for key in ("published", "reviewed", "next_review"):
        value = getattr(article, key)
        assert (value.isoformat() if value else None) == want[key], key
    headings = [
        line.lstrip("#").strip() for line in article.body_markdown.splitlines() if line[:1] == "#"
    ]
    assert [norm(h) for h in headings] == [norm(h) for h in want["headings"]]


@pytest.mark.parametrize("name", PAGES)
def test_title_dates_and_headings_are_recovered(name):
    check_title_dates_and_headings(import_file("html", SITES / f"{name}.html"), expected(name))


def test_kb_import_html_writes_a_corpus_file_kb_check_accepts(runner, tmp_path):
    corpus = tmp_path / "corpus"
    result = runner.invoke(
        main, ["import", "html", str(SITES / "nhs.html"), "--corpus", str(corpus)]
    )
    assert result.exit_code == 0, result.output
    (written,) = corpus.glob("*.md")
    assert "reviewed: 2024-03-14\nnext_review: 2027-03-14\n" in written.read_text(encoding="utf-8")
    check = runner.invoke(main, ["check", "--corpus", str(corpus)])
    assert check.exit_code == 0, check.output
    assert "reviewed 2024-03-14, next review due 2027-03-14" in check.output
