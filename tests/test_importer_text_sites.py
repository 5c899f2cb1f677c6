"""`kb import text` on the plain-text copies of the site pages (tests/data/importer/sites/).

Each `<name>.txt` is the page selected, copied and pasted as text: chrome and all, list items
as "•"/"1." lines (a nested item one tab in) and table rows as tab-separated cells. The text
rules must recover what the `.expect.yaml` states (title, dates, headings), keep every listed
article sentence and drop every listed piece of chrome. `<name>.txt.md` is the golden text
import, compared whole (regenerate with `KB_UPDATE_GOLDEN=1`, then read the diff); it is
close to, not equal to, the HTML import `<name>.md`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kb.importer import import_file, import_text
from tests.test_importer_sites import check_title_dates_and_headings, expected, norm

SITES = Path(__file__).parent / "data" / "importer" / "sites"
PAGES = sorted(p.name.split(".")[0] for p in SITES.glob("*.expect.yaml"))
UPDATE = os.environ.get("KB_UPDATE_GOLDEN") == "1"


def imported(name: str):
    return import_file("text", SITES / f"{name}.txt")


def test_there_are_five_text_pages():
    assert PAGES == ["figures", "nhs", "squarespace", "table-lists", "wordpress"]
    assert all((SITES / f"{name}.txt").exists() for name in PAGES)


@pytest.mark.parametrize("name", PAGES)
def test_text_page_gives_its_golden_markdown(name):
    golden = SITES / f"{name}.txt.md"
    produced = imported(name).to_markdown()
    if UPDATE:
        golden.write_text(produced, encoding="utf-8")
    assert produced == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", PAGES)
def test_every_article_sentence_is_kept(name):
    article = imported(name)
    text = norm(f"{article.title}\n{article.summary}\n{article.body_markdown}")
    assert [s for s in expected(name)["keep"] if norm(s) not in text] == []


@pytest.mark.parametrize("name", PAGES)
def test_every_piece_of_chrome_is_dropped(name):
    article = imported(name)
    text = norm(f"{article.title}\n{article.summary}\n{article.body_markdown}")
    assert [s for s in expected(name)["drop"] if norm(s) in text] == []


@pytest.mark.parametrize("name", PAGES)
def test_title_dates_and_headings_are_recovered(name):
    check_title_dates_and_headings(imported(name), expected(name))


def test_lists_and_tables_become_markdown():
    body = imported("table-lists").body_markdown
    assert (
        "1. A short mindfulness exercise to help everyone arrive and settle.\n"
        "2. Homework review, where each member says briefly how the past week went with the"
        " skill. You will be asked:\n"
        "   - which skill you practised, and in what situation\n"
    ) in body
    assert "| Weeks | Module | Skills you will practise |\n| --- | --- | --- |\n" in body
    assert "\n- Attend every week, and let us know in advance if you cannot come.\n" in body
    assert "\n- have a racing or pounding heartbeat\n" in imported("nhs").body_markdown


# --- the new text rules on pages of their own ---------------------------------------------

PARA = "This paragraph is long enough to count as real article text for the importer here. " * 2


def _body(*lines: str) -> str:
    return import_text("\n\n".join(lines), "x.txt").body_markdown


def test_question_and_sentence_case_subheads_become_headings():
    body = _body("Title Of The Page", PARA, "Why does this happen?", PARA, "Keep a diary", PARA)
    assert "\n## Why does this happen?\n" in body and "\n## Keep a diary\n" in body


def test_a_colon_line_is_a_heading_only_when_its_list_follows_without_a_blank_line():
    raw = f"Title Of The Page\n\n{PARA}\n\nSee a GP if:\n• you feel worse\n• it lasts\n\n{PARA}"
    raw += "\n\nYou may notice:\n\n• a racing heart\n• sweating\n\n" + PARA
    body = import_text(raw, "x.txt").body_markdown
    assert "\n## See a GP if:\n" in body
    assert "\nYou may notice:\n\n- a racing heart\n- sweating\n" in body


def test_a_bare_byline_without_a_dateline_is_left_in():
    body = _body("Real Title Here", "By Jane Doe", PARA, PARA)
    assert body.startswith("By Jane Doe")


def test_an_end_marker_above_the_first_paragraph_does_not_end_the_article():
    body = _body("Home", "Subscribe to our newsletter", "Real Title Here", PARA, "Tags: x, y")
    assert body == PARA.strip()
