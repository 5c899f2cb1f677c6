"""kb.markdown: one CommonMark toolkit for sections, plain text, HTML, slugs and dates."""

from __future__ import annotations

from datetime import date

import pytest

from kb.corpus import load_corpus, split_sections
from kb.markdown import headings, parse_date, slugify, split_front_matter, to_html, to_plain


def test_setext_headings_are_sections():
    sections = split_sections(
        "Intro.\n\nFirst part\n==========\n\nA.\n\nSecond\n------\n\nB.\n", "a", "A"
    )
    assert [(s.anchor, s.level, s.text) for s in sections] == [
        ("introduction", 1, "Intro."),
        ("first-part", 1, "A."),
        ("second", 2, "B."),
    ]


def test_a_fence_of_one_kind_holds_the_other_and_hashes():
    body = "## Real\n\n~~~\n```\n# not a heading\n~~~\n\nAfter the fence.\n"
    (section,) = split_sections(body, "a", "A")
    assert "# not a heading" in section.text and "After the fence." in section.text


def test_headings_in_quotes_and_lists_are_not_sections():
    assert [h.title for h in headings("> ## quoted\n\n- ## in a list\n\n## Real\n\nText.")] == [
        "Real"
    ]


def test_heading_lines_are_reported():
    (first, second) = headings("# One\n\nText.\n\nTwo\n===\n")
    assert (first.start, first.end, second.start, second.end) == (0, 1, 4, 6)


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        (
            "Why the Treatment Relationship Carries So Much Weight",
            "why-the-treatment-relationship-carries-so-much-weight",
        ),
        ("Setbacks & relapse!", "setbacks-relapse"),
        ("Thérapie de groupe", "therapie-de-groupe"),
        ("Ψυχοθεραπεία", "psukhotherapeia"),
        ("Психотерапия", "psikhoterapiia"),
        ("心理治疗", "xin-li-zhi-liao"),
    ],
)
def test_slugs_keep_todays_rule_and_transliterate_only_when_it_gives_nothing(title, slug):
    assert slugify(title) == slug


def test_the_shipped_section_ids_are_unchanged(shipped_articles):
    assert [s.id for a in shipped_articles for s in a.sections] == [
        "bpd-treatment-in-real-sessions:introduction",
        "bpd-treatment-in-real-sessions:why-the-treatment-relationship-carries-so-much-weight",
        "bpd-treatment-in-real-sessions:dbt-is-often-the-starting-point-not-the-whole-answer",
        "bpd-treatment-in-real-sessions:other-therapies-can-fit-different-patterns",
        "bpd-treatment-in-real-sessions:family-involvement-can-help-if-it-does-not-become-blame",
        "bpd-treatment-in-real-sessions:progress-usually-looks-messier-than-people-expect",
        "psychotherapy-for-personality-disorders:introduction",
        "psychotherapy-for-personality-disorders:"
        "integrating-psychodynamic-insight-with-concrete-skills-yields-synergy",
        "psychotherapy-for-personality-disorders:"
        "telehealth-and-in-person-care-expand-access-to-transformative-therapy",
        "psychotherapy-for-personality-disorders:"
        "cultural-sensitivity-and-individualized-pacing-support-lasting-change",
        "psychotherapy-for-personality-disorders:"
        "outcomes-and-ongoing-practice-cultivate-healthier-interdependent-lives",
    ]


def test_a_greek_title_gives_an_article_a_usable_section_id(make_article):
    make_article("greek.md", "## Ψυχοθεραπεία\n\nΚείμενο.\n")
    (article,) = load_corpus(make_article.corpus)
    assert article.sections[0].anchor == "psukhotherapeia"


def test_plain_text_and_html():
    text = "Some *emphasis*, a [link](https://x.example) and `code`.\n\n- one\n- two"
    assert to_plain(text) == "Some emphasis, a link and code. one two"
    assert "<script>" not in to_html("<script>alert(1)</script>")
    assert "&lt;script&gt;" in to_html("<script>alert(1)</script>")


def test_front_matter_is_split_with_its_body_line():
    assert split_front_matter("---\ntitle: T\n---\nBody\n") == ("title: T", "Body\n", 4)
    assert split_front_matter("No front matter") is None
    with pytest.raises(ValueError, match="not closed"):
        split_front_matter("---\ntitle: T\n")


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("August 08, 2025", date(2025, 8, 8)),
        ("8 Aug 2025", date(2025, 8, 8)),
        ("14 March 2024", date(2024, 3, 14)),
        ("2025-06-03T09:00:00", date(2025, 6, 3)),
        ("not a date", None),
    ],
)
def test_dates_written_the_usual_web_ways(text, when):
    assert parse_date(text) == when
