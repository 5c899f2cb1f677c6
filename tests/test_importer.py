"""Tests for kb.importer and `kb import`.

Golden files: tests/data/importer/<name>.{txt,html,markdown} -> <name>.md, compared whole.
Regenerate them with `KB_UPDATE_GOLDEN=1 pytest tests/test_importer.py`, then read the diff.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import date
from pathlib import Path

import pytest
import yaml

from kb import importer
from kb.cli import main
from kb.importer import (
    RULES,
    ArticleExists,
    DuplicateSlug,
    ImportedArticle,
    ImporterError,
    import_html,
    import_jsonl,
    import_markdown,
    import_text,
    iter_jsonl,
    make_slug,
    write_article,
)

DATA = Path(__file__).parent / "data" / "importer"
KINDS = {".txt": "text", ".html": "html", ".markdown": "markdown"}
GOLDEN_INPUTS = sorted(p for p in DATA.iterdir() if p.suffix in KINDS)
SEEDS = ("000_83ceb8d948c4f91d.txt", "004_62bccea0c903684b.txt")
UPDATE = os.environ.get("KB_UPDATE_GOLDEN") == "1"


def _import(path: Path) -> ImportedArticle:
    return importer.import_file(KINDS[path.suffix], path)


def _front_matter(markdown: str) -> dict:
    return yaml.safe_load(markdown.split("---\n")[1])


# --- golden files ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", GOLDEN_INPUTS, ids=lambda p: p.name)
def test_golden(source):
    expected = source.with_suffix(".md")
    produced = _import(source).to_markdown()
    if UPDATE:
        expected.write_text(produced, encoding="utf-8")
    assert produced == expected.read_text(encoding="utf-8")


@pytest.mark.parametrize("source", GOLDEN_INPUTS, ids=lambda p: p.name)
def test_golden_output_is_a_valid_corpus_file(source):
    from kb.corpus import parse_article

    article = parse_article(source.with_suffix(".md").read_text(encoding="utf-8"))
    assert article.sections


def test_every_rule_has_a_golden_pair_and_is_documented():
    for rule in RULES:
        inputs = [p for p in GOLDEN_INPUTS if p.stem == f"rule-{rule.name}"]
        assert inputs, f"no golden input for rule {rule.name!r}"
        assert f"``{rule.name}``" in importer.__doc__
        assert rule.description


def test_golden_files_end_with_one_newline():
    for source in GOLDEN_INPUTS:
        text = source.with_suffix(".md").read_text(encoding="utf-8")
        assert text.endswith("\n") and not text.endswith("\n\n"), source.name


# --- the two seeds --------------------------------------------------------------------------

# Where each seed's article starts and stops, and lines inside it that are page furniture.
SEED_ARTICLE = {
    SEEDS[0]: ("How I Think About", "Scroll to Top"),
    SEEDS[1]: ("Effective psychotherapeutic", "Related Articles"),
}
SEED_FURNITURE = re.compile(r"^(ADVERTISEMENT|Facebook X Reddit Pinterest Email|Published .*)$")


def _seed_sentences(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    start, stop = SEED_ARTICLE[name]
    article = text[text.index(start) : text.index(stop)]
    lines = [line.strip() for line in article.splitlines()]
    kept = [line for line in lines if line and not SEED_FURNITURE.match(line)]
    return [s for line in kept for s in re.split(r"(?<=[.!?])\s+", line)]


@pytest.mark.parametrize("name", SEEDS)
def test_every_sentence_of_a_seed_survives(name):
    produced = _import(DATA / name).to_markdown()
    sentences = _seed_sentences(name)
    assert len(sentences) > 60
    for sentence in sentences:
        # Headings and titles lose their closing period; nothing else may change.
        assert sentence.rstrip(".") in produced, sentence


@pytest.mark.parametrize("name", SEEDS)
def test_seed_junk_is_gone(name):
    produced = _import(DATA / name).to_markdown()
    for junk in (
        "Southern Belle",
        "Our mission",
        "ADVERTISEMENT",
        "Facebook X",
        "Scroll to Top",
        "Related Articles",
        "Psychiatry\n",
        "July 25, 2025",
        "\n-\n",
        "\u00a0",
    ):
        assert junk not in produced


def test_seed_000_structure():
    article = _import(DATA / SEEDS[0])
    assert article.title == (
        "How I Think About Borderline Personality Disorder Treatment in Real Sessions"
    )
    assert article.published is None
    assert article.summary.startswith("I work as a therapist in a small outpatient clinic")
    assert article.body_markdown.startswith("I work as a therapist")  # the intro stays too
    assert re.findall(r"^## (.+)$", article.body_markdown, re.M) == [
        "Why the Treatment Relationship Carries So Much Weight",
        "DBT Is Often the Starting Point, Not the Whole Answer",
        "Other Therapies Can Fit Different Patterns",
        "Family Involvement Can Help, If It Does Not Become Blame",
        "Progress Usually Looks Messier Than People Expect",
    ]


def test_seed_004_structure():
    article = _import(DATA / SEEDS[1])
    assert article.title.startswith("Effective psychotherapeutic approaches")
    assert not article.title.endswith(".")
    assert article.summary.startswith("This evergreen article surveys")
    assert article.published == date(2025, 8, 8)
    assert "This evergreen article" not in article.body_markdown  # the standfirst is the summary
    headings = re.findall(r"^## (.+)$", article.body_markdown, re.M)
    assert headings[0] == "Integrating psychodynamic insight with concrete skills yields synergy"
    assert len(headings) == 4


def test_glued_scroll_to_top_is_cut_from_the_last_line():
    raw = (DATA / SEEDS[0]).read_text(encoding="utf-8").replace("decision.\n\n", "decision.")
    assert raw.endswith("decision.Scroll to Top")
    assert import_text(raw, "x.txt").body_markdown.endswith("no longer makes every decision.")


# The one edit made by hand after import: the second seed's subheads sat one section above
# the text they name; each was reworded to name its own text, keeping its id ({#...}).
REWORDED_HEADINGS = {
    "psychotherapy-for-personality-disorders": {
        "Integrating psychodynamic insight with concrete skills yields synergy": (
            "Skills training and cognitive work build new ways of responding "
            "{#integrating-psychodynamic-insight-with-concrete-skills-yields-synergy}"
        ),
        "Telehealth and in-person care expand access to transformative therapy": (
            "Integrating psychodynamic insight with concrete skills yields synergy "
            "{#telehealth-and-in-person-care-expand-access-to-transformative-therapy}"
        ),
        "Cultural sensitivity and individualized pacing support lasting change": (
            "Telehealth and in-person care expand access to transformative therapy "
            "{#cultural-sensitivity-and-individualized-pacing-support-lasting-change}"
        ),
        "Outcomes and ongoing practice cultivate healthier, interdependent lives": (
            "Cultural sensitivity, individualized pacing and ongoing practice support lasting "
            "change {#outcomes-and-ongoing-practice-cultivate-healthier-interdependent-lives}"
        ),
    }
}


def test_shipped_corpus_matches_the_importer():
    """corpus/ holds the seeds as the importer writes them, under shorter slugs."""
    corpus = Path(__file__).parent.parent / "corpus"
    for name, slug in zip(
        SEEDS,
        ("bpd-treatment-in-real-sessions", "psychotherapy-for-personality-disorders"),
        strict=True,
    ):
        expected = import_text((DATA / name).read_text(encoding="utf-8"), name, slug=slug)
        imported = expected.to_markdown()
        for old, new in REWORDED_HEADINGS.get(slug, {}).items():
            assert f"\n## {old}\n" in imported
            imported = imported.replace(f"\n## {old}\n", f"\n## {new}\n")
        assert (corpus / f"{slug}.md").read_text(encoding="utf-8") == imported


# --- text rules in isolation -------------------------------------------------------------------


def test_short_sentence_paragraph_is_not_a_heading_without_long_neighbours():
    para = "This paragraph is long enough to count as real article text for the importer " * 2
    raw = f"Title Of The Page\n{para}\nRest helps. So does routine.\n{para}\nShort ending.\n"
    body = import_text(raw, "x.txt").body_markdown
    assert "## " not in body


def test_page_without_title_line_gets_one_from_its_text():
    raw = "Grief can arrive in waves that come and go for many months after a loss, " * 3
    article = import_text(raw, "x.txt")
    assert article.title == "Grief can arrive in waves that come and…"
    assert article.body_markdown == raw.strip()


def test_byline_is_not_taken_for_the_title():
    para = "Clinicians often begin with a careful history that covers sleep, mood and work. " * 2
    article = import_text(f"Real Title Here\nBy Jane Doe\n{para}\n{para}", "x.txt")
    assert article.title == "Real Title Here"
    assert article.body_markdown.startswith("By Jane Doe")


def test_markdown_like_text_is_escaped():
    para = "A line that starts with a hash sign must not turn into a heading in the corpus. " * 2
    article = import_text(f"Title Of The Page\n{para}\n# 1 tip\n{para}\n---\n{para}", "x.txt")
    assert "\n\\# 1 tip\n" in article.body_markdown
    assert "\n\\---\n" in article.body_markdown


def test_empty_page_is_an_error():
    with pytest.raises(ImporterError):
        import_text("\n \nADVERTISEMENT\n", "x.txt")


# --- HTML and Markdown ----------------------------------------------------------------------


def test_html_drops_chrome_and_keeps_structure():
    article = import_html((DATA / "page.html").read_text(encoding="utf-8"), "page.html")
    assert article.title == "Grief After a Loss by Suicide"
    assert article.published == date(2025, 3, 14)
    assert article.url == "https://example.org/articles/grief-after-suicide"
    body = article.body_markdown
    for chrome in (
        "Home",
        "About us",
        "newsletter",
        "Subscribe",
        "analytics",
        "font-family",
        "rights reserved",
        "ADVERTISEMENT",
        "anniversaries",
    ):
        assert chrome not in body
    assert "### Children and teenagers" in body
    assert "\n- Guilt, even when nothing could have been done.\n" in body  # a list stays a list
    assert "By the clinical team" not in body  # the byline
    assert "suited to their age. Avoiding" in body  # <br> inside a paragraph


def test_html_without_main_uses_body_and_title_tag():
    html = "<html><head><title>Fallback</title></head><body><p>Only text here.</p></body></html>"
    article = import_html(html, "x.html")
    assert (article.title, article.body_markdown, article.summary) == (
        "Fallback",
        "Only text here.",
        "Only text here.",
    )


def test_html_role_main_wins():
    html = (
        '<body><div><p>Sidebar teaser</p></div><div role="main"><h1>T</h1><p>Text.</p>'
        "<h2>Part</h2><p>More.</p></div></body>"
    )
    assert import_html(html, "x.html").body_markdown == "Text.\n\n## Part\n\nMore."


def test_markdown_with_front_matter():
    text = (DATA / "notes-front-matter.markdown").read_text(encoding="utf-8")
    article = import_markdown(text, "notes.md")
    assert article.title == "Starting Antidepressants: What to Expect"
    assert article.published == date(2024, 11, 2)
    assert article.url == "https://example.org/antidepressants"
    assert "# Starting" not in article.body_markdown  # the title is not repeated
    assert "# not a heading" in article.body_markdown  # code fence kept as is
    assert "topics" not in _front_matter(article.to_markdown())


def test_markdown_without_front_matter_takes_first_h1():
    article = import_markdown("# My Title\n\nFirst paragraph. Second.\n\n# Next\n\nMore.\n", "m.md")
    assert article.title == "My Title"
    assert article.summary == "First paragraph. Second."
    assert article.body_markdown == "First paragraph. Second.\n\n## Next\n\nMore."


def test_markdown_slug_from_front_matter_and_argument():
    text = "---\ntitle: T\nslug: from-front-matter\n---\n\nText.\n"
    assert import_markdown(text, "m.md").slug == "from-front-matter"
    assert import_markdown(text, "m.md", slug="given").slug == "given"


# --- JSONL ----------------------------------------------------------------------------------


def test_iter_jsonl_reads_beir_records():
    articles = list(iter_jsonl(DATA / "small.jsonl"))
    assert [a.slug for a in articles] == ["med-10", "4983", "2"]
    med = articles[0]
    assert med.title == "Statin Use and Breast Cancer Survival: A Nationwide Cohort Study"
    assert med.source == "small.jsonl:MED-10"
    assert med.summary.startswith("Recent studies have suggested") and med.summary.endswith(
        "recurrence."
    )
    assert med.body_markdown.startswith("Recent studies") and med.published is None
    assert articles[1].title == "Alterations of the architecture of cerebral white matter…"
    assert articles[2].body_markdown.startswith("\\# hash")


def test_iter_jsonl_streams_line_by_line(tmp_path):
    path = tmp_path / "corpus.jsonl"
    good = json.dumps({"_id": "a", "title": "A", "text": "Text."})
    path.write_text(f"{good}\nnot json\n", encoding="utf-8")
    articles = iter_jsonl(path)
    assert next(articles).slug == "a"  # yielded before the bad line is even read
    with pytest.raises(ImporterError, match=r"corpus.jsonl:2: invalid JSON"):
        next(articles)


def test_import_jsonl_5000_lines_quickly(tmp_path):
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for n in range(5000):
            text = f"Record {n} describes a finding. It has a second sentence too."
            out.write(json.dumps({"_id": f"DOC-{n}", "title": f"Title {n}", "text": text}) + "\n")
    steps = []
    started = time.perf_counter()
    count = import_jsonl(path, tmp_path / "corpus", progress=steps.append)
    assert time.perf_counter() - started < 20
    assert count == 5000 == len(steps) == len(list((tmp_path / "corpus").glob("*.md")))
    assert (tmp_path / "corpus" / "doc-4999.md").exists()


def test_import_jsonl_refuses_duplicate_slugs_before_writing(tmp_path):
    path = tmp_path / "dup.jsonl"
    lines = [{"_id": "MED-10", "text": "One."}, {"_id": "med_10", "text": "Two."}]
    path.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    with pytest.raises(DuplicateSlug, match="med-10"):
        import_jsonl(path, tmp_path / "corpus", replace=True)
    assert not (tmp_path / "corpus").exists()


def test_import_jsonl_refuses_existing_articles_unless_replace(tmp_path):
    corpus = tmp_path / "corpus"
    assert import_jsonl(DATA / "small.jsonl", corpus) == 3
    with pytest.raises(ArticleExists):
        import_jsonl(DATA / "small.jsonl", corpus)
    assert import_jsonl(DATA / "small.jsonl", corpus, replace=True) == 3


# --- slugs and writing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("MED-10", "med-10"),
        ("How I Think About BPD", "how-i-think-about-bpd"),
        ("Don’t Panic: Anxiety & You", "dont-panic-anxiety-you"),
        ("Café au lait spots", "cafe-au-lait-spots"),
        ("  --  ", ""),
        (
            "Effective psychotherapeutic approaches for treating personality disorders and "
            "improving interpersonal functioning",
            "effective-psychotherapeutic-approaches-for-treating-personality-disorders",
        ),
    ],
)
def test_make_slug(text, slug):
    assert make_slug(text) == slug


def test_make_slug_is_short_and_valid():
    slug = make_slug("word " * 100)
    assert len(slug) <= 80 and re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug)
    assert make_slug("x" * 200) == "x" * 80


def test_invalid_slug_is_refused():
    with pytest.raises(ImporterError, match="invalid slug"):
        import_text("Title\nSome text here.", "x.txt", slug="Not Valid")


def _article(**changes) -> ImportedArticle:
    fields = dict(
        title="T: a colon",
        slug="t",
        source="s.txt",
        summary="S.",
        published=None,
        body_markdown="Body.",
    )
    return ImportedArticle(**{**fields, **changes})


def test_to_markdown_front_matter_round_trips():
    text = _article(published=date(2025, 8, 8)).to_markdown()
    assert text.startswith("---\n") and text.endswith("\n---\n\nBody.\n")
    assert _front_matter(text) == {
        "title": "T: a colon",
        "slug": "t",
        "source": "s.txt",
        "summary": "S.",
        "published": date(2025, 8, 8),
    }


def test_write_article_refuses_to_overwrite(tmp_path):
    path = write_article(_article(), tmp_path)
    assert path == tmp_path / "t.md"
    with pytest.raises(ArticleExists, match="already exists"):
        write_article(_article(summary="Changed."), tmp_path)
    assert "S." in path.read_text(encoding="utf-8")
    write_article(_article(summary="Changed."), tmp_path, replace=True)
    assert "Changed." in path.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.md"]  # no temp files left


# --- CLI ------------------------------------------------------------------------------------


def test_cli_import_text_with_slug(runner, tmp_path):
    corpus = tmp_path / "corpus"
    seed = str(DATA / SEEDS[0])
    result = runner.invoke(main, ["import", "text", seed, "--corpus", str(corpus), "--slug", "bpd"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Wrote {corpus / 'bpd.md'}"
    assert _front_matter((corpus / "bpd.md").read_text(encoding="utf-8"))["slug"] == "bpd"


def test_cli_refuses_existing_slug_without_replace(runner, tmp_path):
    args = ["import", "text", str(DATA / "rule-title.txt"), "--corpus", str(tmp_path)]
    assert runner.invoke(main, args).exit_code == 0
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert "already exists (use --replace to overwrite it)" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert runner.invoke(main, [*args, "--replace"]).exit_code == 0


def test_cli_missing_file(runner, tmp_path):
    result = runner.invoke(main, ["import", "html", str(tmp_path / "nope.html")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_cli_corpus_dir_from_environment(runner, tmp_path):
    env = {"KB_CORPUS_DIR": str(tmp_path / "envcorpus")}
    args = ["import", "markdown", str(DATA / "notes-plain.markdown")]
    result = runner.invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "envcorpus" / "breathing-exercises-for-anxious-moments.md").exists()


def test_cli_import_jsonl(runner, tmp_path):
    result = runner.invoke(
        main, ["import", "jsonl", str(DATA / "small.jsonl"), "--corpus", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Imported 3 articles into {tmp_path}"  # no progress bar
    assert (tmp_path / "med-10.md").exists()


def test_cli_jsonl_error_is_one_line(runner, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "no id"}\n', encoding="utf-8")
    result = runner.invoke(main, ["import", "jsonl", str(bad), "--corpus", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == 'Error: bad.jsonl:1: expected an object with an "_id"\n'


@pytest.mark.parametrize("command", ["", "text", "html", "markdown", "jsonl"])
def test_cli_help_has_an_example(runner, command):
    result = runner.invoke(main, ["import", *command.split(), "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "kb import" in result.output


def test_jsonl_skip_invalid_imports_the_good_records_and_says_why(runner, tmp_path):
    source = tmp_path / "mixed.jsonl"
    source.write_text(
        '{"_id": "a1", "title": "A", "text": "Alpha text here."}\n'
        '{"_id": "a2", "title": "B", "text": ""}\n'
        "not json\n"
        '{"_id": "a3", "title": "C", "text": "Gamma text."}\n',
        encoding="utf-8",
    )
    corpus = tmp_path / "corpus"
    strict = runner.invoke(main, ["import", "jsonl", str(source), "--corpus", str(corpus)])
    assert strict.exit_code == 1 and "mixed.jsonl:2: record 'a2' has no text" in strict.output
    assert not corpus.exists()  # nothing written
    result = runner.invoke(
        main, ["import", "jsonl", str(source), "--corpus", str(corpus), "--skip-invalid"]
    )
    assert result.exit_code == 0, result.output
    assert "Imported 2 articles" in result.output
    assert "Skipped 2 invalid record(s):" in result.output
    assert "mixed.jsonl:3: invalid JSON" in result.output
    assert sorted(p.name for p in corpus.glob("*.md")) == ["a1.md", "a3.md"]
