"""kb.corpus: front matter, sections by heading, and every validation error."""

from __future__ import annotations

from datetime import date

import pytest

from kb.corpus import (
    CorpusError,
    load_article,
    load_corpus,
    parse_article,
    reading_grade,
    slugify,
    split_sections,
)

GOOD_FRONT = "---\ntitle: T\nslug: t\nsource: s.txt\nsummary: S.\n---\n"


def test_shipped_corpus_loads(shipped_articles):
    assert len(shipped_articles) == 2
    for article in shipped_articles:
        assert article.sections
        assert article.source.endswith(".txt")
        assert all(s.word_count > 0 for s in article.sections)
        assert len({s.id for s in article.sections}) == len(article.sections)


def test_text_before_first_heading_is_the_introduction_section():
    article = parse_article(GOOD_FRONT + "Opening words.\n\n## First\n\nBody one.\n")
    intro, first = article.sections
    assert (intro.id, intro.anchor, intro.title, intro.level) == (
        "t:introduction",
        "introduction",
        "T",
        1,
    )
    assert intro.text == "Opening words."
    assert intro.breadcrumb == ("T",)
    assert (first.id, first.title, first.position, first.breadcrumb) == (
        "t:first",
        "First",
        1,
        ("First",),
    )


def test_no_introduction_when_the_body_starts_with_a_heading():
    article = parse_article(GOOD_FRONT + "## Only\n\nText here.\n")
    assert [s.anchor for s in article.sections] == ["only"]


def test_sections_carry_level_breadcrumb_position_and_word_count():
    body = "## Treatment\n\nIntro.\n\n### DBT skills\n\nOne two three.\n\n## Family\n\nFour five.\n"
    sections = split_sections(body, "a", "A")
    assert [(s.title, s.level, s.position) for s in sections] == [
        ("Treatment", 2, 0),
        ("DBT skills", 3, 1),
        ("Family", 2, 2),
    ]
    assert sections[1].breadcrumb == ("Treatment", "DBT skills")
    assert sections[2].breadcrumb == ("Family",)
    assert sections[1].word_count == 3


def test_anchors_are_url_safe_and_deduplicated():
    body = "## Setbacks & relapse!\n\nA.\n\n## Setbacks & relapse!\n\nB.\n\n## Introduction\n\nC.\n"
    anchors = [s.anchor for s in split_sections(body, "a", "A")]
    assert anchors == ["setbacks-relapse", "setbacks-relapse-1", "introduction-1"]


def test_heading_with_only_subsections_is_allowed():
    sections = split_sections("## Parent\n### Child\n\nText.\n", "a", "A")
    assert [s.title for s in sections] == ["Parent", "Child"]


def test_headings_inside_code_fences_are_text():
    sections = split_sections("## Real\n\n```\n# not a heading\n```\n", "a", "A")
    assert len(sections) == 1 and "# not a heading" in sections[0].text


def test_optional_front_matter():
    article = parse_article(
        "---\ntitle: T\nslug: t\nsource: s\nsummary: S\npublished: 2025-08-08\n"
        "url: https://clinic.example/t\ntopics: [medication]\n---\nText about DBT.\n"
    )
    assert article.published == date(2025, 8, 8)
    assert article.url == "https://clinic.example/t"
    assert article.sections[0].topics == ("medication",)  # the override replaces assignment


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("no front matter\n", 1, "missing front matter"),
        ("---\ntitle: T\n", 1, "not closed"),
        ("---\ntitle: [unclosed\n---\nx\n", 2, "invalid front matter"),
        ("---\ntitle: T\nslug: t\nsource: s\n---\nx\n", 1, "missing front-matter key 'summary'"),
        (
            GOOD_FRONT.replace("---\ntitle", "---\nauthor: me\ntitle", 1) + "x\n",
            2,
            "unknown front-matter key 'author'",
        ),
        (GOOD_FRONT.replace("slug: t", "slug: Not A Slug") + "x\n", 3, "slug 'Not A Slug'"),
        (
            GOOD_FRONT.replace("summary: S.", "summary: S.\npublished: 2025-13-40") + "x\n",
            6,
            "invalid date",
        ),
        (GOOD_FRONT.replace("summary: S.", "summary: S.\nurl: ftp://x") + "x\n", 6, "url must be"),
        (
            GOOD_FRONT.replace("summary: S.", "summary: S.\ntopics: [nonsense]") + "x\n",
            6,
            "unknown topic",
        ),
        (GOOD_FRONT.replace("title: T", "title: ''") + "x\n", 2, "'title' must be non-empty"),
        (GOOD_FRONT + "## Empty\n\n## Next\n\ntext\n", 7, "empty section 'Empty'"),
        (GOOD_FRONT + "Intro.\n\n##\n\ntext\n", 9, "heading has no text"),
        (GOOD_FRONT + "\n\n", 7, "article has no text"),
    ],
)
def test_validation_errors_report_path_and_line(tmp_path, text, line, message):
    path = tmp_path / "bad.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CorpusError) as raised:
        load_article(path)
    assert raised.value.line == line
    assert message in raised.value.message
    assert str(raised.value) == f"{path}:{line}: {raised.value.message}"


def test_undecodable_bytes_report_their_line(tmp_path):
    path = tmp_path / "latin1.md"
    path.write_bytes(GOOD_FRONT.encode() + b"line one\ncaf\xe9\n")
    with pytest.raises(CorpusError, match=r"latin1.md:8: not valid UTF-8"):
        load_article(path)


def test_duplicate_slugs_are_refused(make_article):
    make_article("a.md", "Text.\n", slug="same")
    make_article("b.md", "Text.\n", slug="same")
    with pytest.raises(CorpusError, match=r"b.md:\d+: duplicate slug 'same'"):
        load_corpus(make_article.corpus)


def test_missing_corpus_directory(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Mentalization-Based Therapy", "mentalization-based-therapy"),
        ("Café & crème", "cafe-creme"),
        ("  --  ", ""),
        ("MED-10", "med-10"),
    ],
)
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_a_nul_byte_is_refused_with_its_line_and_column(make_article):
    from kb.corpus import CorpusError, load_article

    path = make_article("nul.md", "Intro.\n\nA line with a \x00 in it.\n")
    with pytest.raises(CorpusError) as info:
        load_article(path)
    assert str(info.value).startswith(f"{path}:")
    assert "U+0000 at column 15" in str(info.value)
    line = info.value.line
    assert path.read_text(encoding="utf-8").split("\n")[line - 1].startswith("A line with")


def test_a_front_matter_key_given_twice_is_refused(make_article):
    from kb.corpus import CorpusError, load_article

    path = make_article.corpus / "twice.md"
    path.write_text(
        "---\ntitle: One\nslug: twice\nsource: x\nsummary: s\ntitle: Two\n---\n\nBody.\n",
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match=r"twice\.md:6: front matter key 'title' is given twice"):
        load_article(path)


def test_an_explicit_anchor_keeps_a_reworded_headings_id():
    body = "## A better heading {#old-heading}\n\nText.\n\n## Other\n\nMore.\n"
    first, second = split_sections(body, "a", "A")
    assert (first.anchor, first.title, first.id) == (
        "old-heading",
        "A better heading",
        "a:old-heading",
    )
    assert second.anchor == "other"


def test_an_explicit_anchor_used_twice_is_refused_with_its_line():
    body = "## One {#x}\n\nText.\n\n## Two {#x}\n\nMore.\n"
    with pytest.raises(CorpusError, match=r"<string>:5: anchor 'x' is used twice"):
        split_sections(body, "a", "A")


def test_the_reworded_shipped_headings_keep_their_ids(shipped_articles):
    """The second article's headings were reworded to name the text under them; the ids
    (and every link to them) stayed."""
    (article,) = [
        a for a in shipped_articles if a.slug == "psychotherapy-for-personality-disorders"
    ]
    by_anchor = {s.anchor: s for s in article.sections}
    teletherapy = by_anchor["cultural-sensitivity-and-individualized-pacing-support-lasting-change"]
    assert teletherapy.title.startswith("Telehealth")
    assert "Teletherapy" in teletherapy.text


def test_review_metadata_is_read_and_validated():
    article = parse_article(
        "---\ntitle: T\nslug: t\nsource: s\nsummary: S\nreviewed: 2025-09-01\n"
        "next_review: 2028-09-01\nreviewed_by: Dr A\nauthors: [Dr A, Dr B]\n"
        "audience: patients\ntags: [sleep, anxiety]\n---\nText.\n"
    )
    assert (article.reviewed, article.next_review) == (date(2025, 9, 1), date(2028, 9, 1))
    assert article.reviewed_by == "Dr A"
    assert (article.authors, article.audience, article.tags) == (
        ("Dr A", "Dr B"),
        ("patients",),
        ("sleep", "anxiety"),
    )
    assert reading_grade(article.sections[0].text) >= 0
    assert reading_grade("") == 0.0


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("reviewed: 2025-13-01\n", r"<string>:6: invalid date"),
        ("reviewed: 2025-09-01\nnext_review: 2024-01-01\n", r"<string>:7: next_review is before"),
        ("audience: everyone\n", r"<string>:6: unknown audience 'everyone'"),
        ("authors: [1, 2]\n", r"<string>:6: authors must be a text or a list"),
        ("reviewer: Dr A\n", r"<string>:6: unknown front-matter key 'reviewer'"),
    ],
)
def test_bad_review_metadata_stops_with_path_and_line(front, message):
    with pytest.raises(CorpusError, match=message):
        parse_article(f"---\ntitle: T\nslug: t\nsource: s\nsummary: S\n{front}---\nText.\n")


def test_file_digests_trust_an_unchanged_size_and_time_and_nothing_recent(tmp_path):
    import hashlib
    import os

    from kb.corpus import file_digests

    old, new = tmp_path / "old.md", tmp_path / "new.md"
    old.write_text("old text", encoding="utf-8")
    new.write_text("new text", encoding="utf-8")
    os.utime(old, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    stats: dict = {}
    digests = file_digests(tmp_path, stats=stats)
    assert set(digests) == {"old.md", "new.md"}
    assert set(stats) == {"old.md"}  # new.md was written just now: not trusted next time
    # Same size and time: the known digest is kept without reading the file...
    assert file_digests(tmp_path, {"old.md": (*stats["old.md"][:2], "known")})["old.md"] == "known"
    # ...another size or time means reading it again.
    old.write_text("old text, edited", encoding="utf-8")
    assert (
        file_digests(tmp_path, stats)["old.md"] == hashlib.sha256(b"old text, edited").hexdigest()
    )


def test_reading_in_several_processes_gives_the_same_articles(make_article):
    for i in range(12):
        make_article(f"a{i:02}.md", f"Intro {i}.\n\n## Part {i}\n\nText {i}.\n", slug=f"a{i:02}")
    serial = load_corpus(make_article.corpus, workers=1)
    parallel = load_corpus(make_article.corpus, workers=2)
    assert parallel == serial
    assert [a.slug for a in parallel] == [f"a{i:02}" for i in range(12)]


def test_reading_in_several_processes_reports_the_first_bad_file(make_article, monkeypatch):
    import kb.corpus

    monkeypatch.setattr(kb.corpus, "PARALLEL_RUN", 3)  # several runs, so each process has work
    for i in range(12):
        make_article(f"a{i:02}.md", f"Text {i}.\n", slug=f"a{i:02}")
    for bad in ("a05.md", "a10.md"):
        (make_article.corpus / bad).write_text(GOOD_FRONT + "Intro.\n\n##\n\ntext\n")
    with pytest.raises(CorpusError, match=r"a05.md:9: heading has no text"):
        load_corpus(make_article.corpus, workers=2)


def test_the_corpus_is_its_md_files_in_name_order(make_article):
    from kb.corpus import file_digests

    for name in ("b.md", "a.md", "c.md"):
        make_article(name, "Text.\n", slug=name[0])
    (make_article.corpus / "notes.txt").write_text("not an article", encoding="utf-8")
    (make_article.corpus / "drafts.md").mkdir()  # a directory, whatever its name
    (make_article.corpus / "drafts.md" / "d.md").write_text("in a subdirectory", encoding="utf-8")
    assert [a.slug for a in load_corpus(make_article.corpus)] == ["a", "b", "c"]
    assert list(file_digests(make_article.corpus)) == ["a.md", "b.md", "c.md"]
    paths = [a.path for a in load_corpus(make_article.corpus, workers=2)]
    assert paths == [str(make_article.corpus / n) for n in ("a.md", "b.md", "c.md")]
