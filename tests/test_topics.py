"""kb.topics: the taxonomy as data, deterministic topic assignment, expansion groups."""

from __future__ import annotations

import pytest

from kb.models import Section
from kb.topics import TaxonomyError, assign_topics, load_taxonomy, parse_taxonomy

REQUIRED_TOPICS = {
    "mentalization",
    "medication",
    "dbt",
    "mindfulness",
    "distress-tolerance",
    "emotion-regulation",
    "interpersonal-effectiveness",
    "schema-therapy",
    "tfp",
    "trauma-focused",
    "family-involvement",
    "crisis-safety",
    "self-harm",
    "telehealth",
    "therapeutic-relationship",
    "co-occurring",
    "progress-relapse",
    "psychoeducation",
    "cultural-sensitivity",
}


def section(title: str, text: str) -> Section:
    return Section(
        id="a:x",
        article="a",
        anchor="x",
        title=title,
        level=2,
        breadcrumb=(title,),
        position=0,
        text=text,
        word_count=len(text.split()),
        line=1,
    )


def test_taxonomy_has_every_required_topic():
    taxonomy = load_taxonomy()
    assert REQUIRED_TOPICS <= set(taxonomy.by_id)
    for topic in taxonomy.topics:
        assert topic.label and topic.expressions
    assert {t.id for t in taxonomy.topics if t.parent == "dbt"} == {
        "mindfulness",
        "distress-tolerance",
        "emotion-regulation",
        "interpersonal-effectiveness",
    }
    assert taxonomy.spellings["mentalisation"] == "mentalization"
    assert "MBT" in taxonomy.by_id["mentalization"].abbreviations


def test_expansion_groups_join_abbreviations_and_synonyms():
    groups = load_taxonomy().expansion_groups()
    assert any({"MBT", "mentalization"} <= set(g) for g in groups)
    assert any({"meds", "pills", "medication"} <= set(g) for g in groups)
    assert any({"teletherapy", "telehealth"} <= set(g) for g in groups)
    assert any({"BPD", "borderline personality disorder"} <= set(g) for g in groups)


def _section_containing(articles, phrase):
    return next(s for a in articles for s in a.sections if phrase in s.text)


@pytest.mark.parametrize(
    ("phrase", "topic"),
    [
        ("Mentalization-Based Therapy", "mentalization"),
        ("There is no pill that cures", "medication"),
        ("Teletherapy, hybrid sessions", "telehealth"),
        ("I have sat with parents, partners", "family-involvement"),
        ("Cultural sensitivity", "cultural-sensitivity"),
    ],
)
def test_seed_passages_get_their_topic(shipped_articles, phrase, topic):
    sect = (
        _section_containing(shipped_articles, phrase.split(",")[0])
        if topic != "cultural-sensitivity"
        else next(
            s for a in shipped_articles for s in a.sections if "Cultural sensitivity" in s.title
        )
    )
    assert topic in sect.topics


def test_assignment_is_deterministic_and_needs_more_than_a_passing_cue():
    text = "We talked about the family over the holidays."
    assert assign_topics(section("Progress", text)) == assign_topics(section("Progress", text))
    assert "family-involvement" not in assign_topics(section("Progress", text))
    assert "family-involvement" in assign_topics(section("Family", text))  # heading counts double


def test_strong_terms_assign_on_one_mention_in_british_spelling():
    assert "mentalization" in assign_topics(section("Options", "We offer mentalisation work."))


@pytest.mark.parametrize(
    "data",
    [
        {"topics": [{"label": "no id"}]},
        {"topics": [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}]},
        {"topics": [{"id": "a", "label": "A", "parent": "zz"}]},
        {"topics": [{"id": "a", "label": "A", "terms": "not a list"}]},
        {"topics": [{"id": "a", "label": "A", "colour": "red"}]},
    ],
)
def test_bad_taxonomy_is_refused(data):
    with pytest.raises(TaxonomyError):
        parse_taxonomy(data)


def test_lay_terms_need_a_reviewer_and_never_assign_topics():
    base = {"id": "telehealth", "label": "Telehealth", "terms": ["telehealth"]}
    with pytest.raises(TaxonomyError, match="reviewed_by"):
        parse_taxonomy({"topics": [{**base, "lay_terms": ["zoom"]}]})
    taxonomy = parse_taxonomy({"topics": [{**base, "lay_terms": ["zoom"], "reviewed_by": "me"}]})
    assert assign_topics(section("Calls", "We meet on zoom every week."), taxonomy) == ()
    assert any("zoom" in group for group in taxonomy.expansion_groups())


def test_multi_word_lay_terms_keep_their_meaning_after_stop_words():
    """ "from home" would shrink to "home" and expand every query about home life."""
    from kb.analysis import analyze

    taxonomy = load_taxonomy()
    lay = [(t.id, e) for t in taxonomy.topics for e in t.lay_terms]
    lay += [("lay_synonym_groups", e) for g in taxonomy.lay_synonym_groups for e in g]
    assert len(lay) > 100
    for where, expression in lay:
        if len(expression.split()) > 1:
            assert len(analyze(expression)) >= 2, (where, expression)


def test_lay_synonym_groups_need_a_reviewer_and_expand_queries():
    groups = {"groups": [["primary care", "GP", "family doctor"]]}
    with pytest.raises(TaxonomyError, match="reviewed_by"):
        parse_taxonomy({"lay_synonym_groups": groups})
    with pytest.raises(TaxonomyError, match="mapping"):
        parse_taxonomy({"lay_synonym_groups": [["primary care", "GP"]]})
    with pytest.raises(TaxonomyError, match=r"groups\[0\]"):
        parse_taxonomy({"lay_synonym_groups": {"reviewed_by": "me", "groups": ["GP"]}})
    taxonomy = parse_taxonomy({"lay_synonym_groups": {**groups, "reviewed_by": "me"}})
    assert taxonomy.lay_reviewed_by == "me"
    assert ("primary care", "GP", "family doctor") in taxonomy.expansion_groups()


def test_a_lay_word_finds_the_clinical_wording(kb):
    """ "GP" is in no article; the shipped taxonomy's lay groups expand it to "primary care"."""
    results = kb.search("my GP")
    assert results.hits[0].section.id.endswith(
        "outcomes-and-ongoing-practice-cultivate-healthier-interdependent-lives"
    )
    assert any(
        e.typed == "GP" and e.term == "primary care" for e in results.interpretation.expansions
    )
    assert "<mark>primary</mark> <mark>care</mark>" in results.hits[0].snippet


def test_topics_agree_with_the_judged_topics(shipped_articles):
    """tests/data/judged_topics.yaml: every topic a section is about is assigned (recall 1.0),
    and at least 90% of the assigned topics are ones the section is about or mentions."""
    from pathlib import Path

    import yaml

    from kb.topics import tag_articles

    judged = yaml.safe_load(
        (Path(__file__).parent / "data" / "judged_topics.yaml").read_text(encoding="utf-8")
    )["sections"]
    assigned = {
        s.id: set(s.topics)
        for a in tag_articles(shipped_articles, load_taxonomy())
        for s in a.sections
    }
    assert set(judged) == set(assigned)
    missed, fair, given = [], 0, 0
    for section_id, judgment in judged.items():
        about = {t["topic"] for t in judgment.get("about") or []}
        fine = about | set(judgment.get("mentions") or [])
        missed += [(section_id, t) for t in about - assigned[section_id]]
        fair += len(assigned[section_id] & fine)
        given += len(assigned[section_id])
    assert not missed
    assert fair / given >= 0.9


def test_a_hyphenated_name_assigns_its_topic(shipped_articles):
    """ "Transference-Focused Psychotherapy" is named in one section: TFP is browsable."""
    from kb.topics import tag_articles

    tagged = tag_articles(shipped_articles, load_taxonomy())
    assert [s.anchor for a in tagged for s in a.sections if "tfp" in s.topics] == [
        "other-therapies-can-fit-different-patterns"
    ]


def test_british_spellings_come_from_a_maintained_list_with_reviewed_exceptions():
    from kb.analysis import analyze

    assert analyze("traumatised") == analyze("traumatized")  # a breame pair
    assert analyze("mentalisation") == analyze("mentalization")  # the taxonomy's own
    assert analyze("tyre") != analyze("tire")  # an exception: another word
    assert len(load_taxonomy().spellings) > 1000


def test_an_unknown_spelling_list_is_refused():
    with pytest.raises(TaxonomyError, match="spelling_list"):
        parse_taxonomy({"topics": [], "spelling_list": "my-list"})
