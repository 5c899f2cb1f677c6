"""kb.search: plain-text queries, ranking, expansion, typos, snippets, facets, suggestions."""

from __future__ import annotations

import gc
import weakref

import pytest

from kb.corpus import load_corpus
from kb.index import build_index
from kb.models import Hit, SearchResults, Section, Suggestion
from kb.search import InvalidQuery, KnowledgeBase, LiveKnowledgeBase, markdown_to_plain
from kb.search.live import freeze_heap

MBT = "bpd-treatment-in-real-sessions:other-therapies-can-fit-different-patterns"
TELEHEALTH_HEADING = (
    "psychotherapy-for-personality-disorders:"
    "telehealth-and-in-person-care-expand-access-to-transformative-therapy"
)
FAMILY = "bpd-treatment-in-real-sessions:family-involvement-can-help-if-it-does-not-become-blame"
TELETHERAPY_TEXT = (
    "psychotherapy-for-personality-disorders:"
    "cultural-sensitivity-and-individualized-pacing-support-lasting-change"
)


def ids(results: SearchResults) -> list[str]:
    return [hit.section.id for hit in results.hits]


@pytest.mark.parametrize(
    "query",
    [
        "mentalization",
        "MBT",
        "mentalisation",
        "Mentalization-Based Therapy",
        "mbt",
        "what is mentalisation based therapy",
    ],
)
def test_mentalization_queries_find_the_mbt_section_first(kb, query):
    assert ids(kb.search(query))[0] == MBT


@pytest.mark.parametrize("query", ["medication", "meds", "pills", "medicine"])
def test_medication_synonyms_find_the_medication_passage_first(kb, query):
    assert ids(kb.search(query))[0] == MBT  # the medication paragraph lives in that section


@pytest.mark.parametrize("query", ["teletherapy", "telehealth", "tele-health"])
def test_teletherapy_and_telehealth_meet(kb, query):
    # The Telehealth heading now sits over the teletherapy text (its id kept, see corpus).
    assert ids(kb.search(query))[0] == TELETHERAPY_TEXT


@pytest.mark.parametrize("query", ["online", "can I do therapy online"])
def test_a_word_in_no_section_leans_fully_on_its_synonyms(kb, query):
    # "online" is a telehealth synonym that the articles never use: its expansion is all
    # the evidence there is, so it must outweigh the generic word "therapy".
    assert ids(kb.search(query))[0] in {TELEHEALTH_HEADING, TELETHERAPY_TEXT}


def test_a_typed_word_present_in_the_corpus_keeps_expansions_as_hints(kb):
    parsed = kb.parse("telehealth")
    expansion_boosts = {c.boost for c in parsed.query.subqueries[1:]}
    assert expansion_boosts == {kb.ranking.expansion_weight}


@pytest.mark.parametrize("query", ["daughter", "my daughter has BPD what can parents do"])
def test_relatives_find_the_family_section(kb, query):
    assert FAMILY in ids(kb.search(query))[:3]


def test_bpd_expands_to_borderline_personality_disorder(kb):
    results = kb.search("BPD")
    assert results.total > 0
    assert all(h.section.article == "bpd-treatment-in-real-sessions" for h in results.hits[:3])


@pytest.mark.parametrize("query", ["self-harm", "self harm", "selfharm"])
def test_hyphenation_variants_agree(kb, query):
    assert ids(kb.search(query))[0] == ids(kb.search("self-harm"))[0]
    assert kb.search(query).total > 0


def test_two_words_joined_for_one_query_are_not_remembered(kb):
    """ "dbt relapse" also looks for "dbtrelapse" ("self harm" finds "selfharm"); a word made
    up for one query must not take room in the analysis memo a server keeps for words."""
    memo = kb.queries.analyzer
    assert kb.search("self harm").total > 0
    assert kb.search("zebraquux lantern").total >= 0
    made_up = "zebraquuxlantern"
    assert made_up not in kb.queries._frequencies._values
    assert made_up not in memo._terms
    assert all(made_up not in table for table in memo._words.values())
    assert made_up not in memo._simple.stems
    assert "lantern" in memo._terms  # typed words are remembered


def test_misspelling_is_corrected_with_did_you_mean(kb):
    results = kb.search("medicaton")
    assert results.corrected and results.did_you_mean == "medication"
    assert ids(results)[0] == MBT


def test_correct_words_are_left_alone(kb):
    results = kb.search("medication")
    assert results.did_you_mean is None and not results.corrected


def test_unknown_short_words_are_not_forced_into_corrections(kb):
    assert kb.search("kill myself").did_you_mean is None


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "title:DBT", "DBT AND", "* OR (", "a:b:c", "((((", "NOT", "\\", "'", "~2^3"],
)
def test_plain_text_never_raises(kb, query):
    results = kb.search(query)
    assert isinstance(results, SearchResults)


def test_query_syntax_is_text_by_default_and_advanced_on_request(kb):
    assert (
        kb.search("DBT AND telehealth", syntax="advanced").total
        <= kb.search("DBT AND telehealth").total
    )
    assert kb.search('"phone coaching"', syntax="advanced").total >= 1


def test_snippets_mark_matches_and_escape_the_rest(kb):
    hit = kb.search("phone coaching policy").hits[0]
    assert "<mark>" in hit.snippet and "</mark>" in hit.snippet
    stripped = hit.snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped


def test_html_in_articles_and_queries_is_escaped(tmp_path, make_article):
    make_article("x.md", "Beware <script>alert(1)</script> & <b>bold</b> claims about DBT.\n")
    build_index(load_corpus(make_article.corpus), tmp_path / "index")
    kb = LiveKnowledgeBase(tmp_path / "index").get()
    for query in ["<script>alert(1)</script> DBT", "script", "bold"]:
        snippet = kb.search(query).hits[0].snippet
        assert "<script>" not in snippet and "<b>" not in snippet
        assert "&lt;script&gt;" in snippet or "&lt;b&gt;" in snippet


def test_a_frozen_heap_still_frees_the_build_a_switch_replaced(tmp_path, make_article):
    """A server freezes its heap once its build is open (fewer objects for each full
    garbage collection to walk); a switch to a new build must still free the old one,
    reference cycles included, and leave the heap frozen."""
    make_article("x.md", "## One\n\nDialectical behavior therapy teaches skills.\n")
    index = tmp_path / "index"
    build_index(load_corpus(make_article.corpus), index)
    live = LiveKnowledgeBase(index)
    try:
        old = weakref.ref(live.get())
        freeze_heap()
        assert gc.get_freeze_count() > 0
        make_article("y.md", "## Two\n\nSleep hygiene helps.\n")
        build_index(load_corpus(make_article.corpus), index)
        assert live.get().search("sleep").total == 1
        assert old() is None
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_filters_and_facets(kb):
    everything = kb.search("skills")
    assert everything.total >= 3
    topic_counts = {f.value: f.count for f in everything.topic_facets}
    article_counts = {f.value: f.count for f in everything.article_facets}
    assert sum(article_counts.values()) == everything.total
    dbt_only = kb.search("skills", topic="dbt")
    assert dbt_only.total == topic_counts["dbt"]
    assert all("dbt" in h.section.topics for h in dbt_only.hits)
    one_article = kb.search("skills", article="bpd-treatment-in-real-sessions")
    assert one_article.total == article_counts["bpd-treatment-in-real-sessions"]


def test_unknown_filters_are_refused(kb):
    from kb.search import ArticleNotFound

    with pytest.raises(InvalidQuery):
        kb.search("skills", topic="nonsense")
    with pytest.raises(ArticleNotFound):
        kb.search("skills", article="no-such-article")


def test_pagination_walks_the_whole_result_set(kb):
    total = kb.search("therapy", limit=50).total
    seen = []
    for offset in range(0, total, 3):
        page = kb.search("therapy", limit=3, offset=offset)
        assert page.total == total
        seen.extend(ids(page))
    assert len(seen) == total == len(set(seen))
    assert kb.search("therapy", offset=total).hits == ()


@pytest.mark.parametrize("query", ["I want to kill myself", "self harm", "suicidal", "crisis"])
def test_crisis_queries_carry_a_notice(kb, query):
    assert [n.kind for n in kb.search(query).notices] == ["crisis"]


def test_ordinary_queries_carry_no_notice(kb):
    assert kb.search("mentalization").notices == ()


def test_results_are_kb_models(kb):
    results = kb.search("dbt")
    assert all(isinstance(h, Hit) and isinstance(h.section, Section) for h in results.hits)
    assert all(isinstance(s, Suggestion) for s in kb.suggest("dbt"))


def test_empty_and_stopword_queries_return_nothing(kb):
    assert kb.search("   ").total == 0
    assert kb.search("the and of").total == 0


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("me", "Medication"),
        ("ment", "Mentalization-based therapy"),
        ("dbt", "DBT"),
        ("fam", "Family Involvement Can Help, If It Does Not Become Blame"),
    ],
)
def test_suggestions_complete_titles_topics_and_terms(kb, prefix, expected):
    texts = [s.text for s in kb.suggest(prefix)]
    assert expected in texts


def test_suggestions_complete_the_last_word(kb):
    texts = [s.text for s in kb.suggest("phone coa")]
    assert "phone coaching" in texts


def test_suggestions_offer_hyphenated_words_as_written(kb):
    texts = [s.text for s in kb.suggest("mentalization")]
    assert "mentalization-based" in texts
    assert "mentalizationbased" not in texts
    assert not [t for t in (s.text for s in kb.suggest("self")) if t.startswith("selfh")]


def test_suggestions_need_two_characters(kb):
    assert kb.suggest("m") == ()


def test_related_sections_exclude_the_section_itself(kb):
    related = kb.related(MBT, limit=3)
    assert 0 < len(related) <= 3
    assert MBT not in [s.id for s in related]


def test_related_of_unknown_section(kb):
    from kb.search import SectionNotFound

    with pytest.raises(SectionNotFound):
        kb.related("nope:nope")


def test_knowledge_base_opens_one_build(index_dir):
    from kb.index import current_build

    assert KnowledgeBase(current_build(index_dir)).section_count() == 11


# -- ranking internals (benchmarks/): feedback, rank(), the results cache ---------------------


@pytest.mark.parametrize("query", ["teletherapy", "skills", "family crisis plan", "meds"])
def test_feedback_reranks_but_adds_no_results(index_dir, query):
    from dataclasses import replace

    from kb.index import current_build
    from kb.search import RankingSettings

    build = current_build(index_dir)
    with_feedback = KnowledgeBase(build).search(query, limit=50)
    without = KnowledgeBase(build, ranking=replace(RankingSettings(), feedback_docs=0)).search(
        query, limit=50
    )
    assert RankingSettings().feedback_docs > 0
    assert with_feedback.total == without.total
    assert set(ids(with_feedback)) == set(ids(without))
    assert with_feedback.topic_facets == without.topic_facets


@pytest.mark.parametrize("query", ["therapy", "what is mentalisation based therapy", "DBT"])
def test_rank_is_search_ranking(kb, query):
    ranked = kb.rank(query, limit=10)
    results = kb.search(query, limit=10)
    assert [section_id for section_id, _ in ranked] == ids(results)
    assert [round(score, 4) for _, score in ranked] == [h.score for h in results.hits]


def test_repeated_searches_are_answered_from_the_cache_per_filter(kb):
    first = kb.search("phone coaching", limit=3, offset=1)
    assert kb.search("phone  coaching", limit=3, offset=1) is first
    unfiltered = kb.search("skills")
    filtered = kb.search("skills", topic="dbt")
    assert filtered is not unfiltered and filtered.total <= unfiltered.total
    assert all("dbt" in h.section.topics for h in filtered.hits)


@pytest.mark.parametrize(
    "markdown, plain",
    [
        ("**bold**, __strong__, *em*, _em_ and `code`", "bold, strong, em, em and code"),
        ("[a link](https://clinic.example/x) and ![an image](i.png)", "a link and an image"),
        ("- first *item*\n> quoted", "first item quoted"),
        # Lone or in-word delimiters are text, not markup.
        ("window.__state and snake_case_name", "window.__state and snake_case_name"),
        ("5 * 3 * 2", "5 * 3 * 2"),
    ],
)
def test_snippet_text_drops_markdown_markup_only(markdown, plain):
    assert markdown_to_plain(markdown) == plain


# -- patients' words: honest corrections, what kb did to the query, honest highlights ------


@pytest.mark.parametrize(
    "query", ["harm reduction", "killer whale", "I don't want to be alive anymore"]
)
def test_real_english_words_are_never_rewritten(kb, query):
    results = kb.search(query)
    assert not results.corrected
    assert results.did_you_mean is None
    assert all(not c.applied for c in results.interpretation.corrections)


def test_a_word_that_is_not_english_is_still_corrected(kb):
    results = kb.search("medicaton")
    assert results.corrected and results.did_you_mean == "medication"
    (correction,) = results.interpretation.corrections
    assert (correction.word, correction.replacement, correction.applied) == (
        "medicaton",
        "medication",
        True,
    )


def test_the_interpretation_names_expansions_and_ignored_words(kb):
    results = kb.search("how do my meds work")
    expansions = {(e.typed, e.term.lower()) for e in results.interpretation.expansions}
    assert ("meds", "medication") in expansions
    assert {"how", "do", "my"} <= set(results.interpretation.ignored)
    assert results.interpretation.dropped == ()


def test_lay_terms_expand_queries_to_the_clinical_words(kb):
    assert ids(kb.search("can I see my therapist over zoom"))[0] == TELETHERAPY_TEXT


def test_a_long_pasted_message_keeps_its_most_informative_words(kb):
    filler = " ".join(f"word{i}" for i in range(60))
    text = f"{filler} mentalization"
    results = kb.search(text)
    dropped = results.interpretation.dropped
    assert len(dropped) == 61 - 32
    assert "mentalization" not in dropped
    assert ids(results)[0] == MBT


def test_highlights_never_mark_a_lone_word_of_a_multi_word_synonym(kb):
    # "daughter" expands to the family topic, whose synonyms include "loved one": the
    # snippet may mark "loved one" together, never "one" alone.
    for hit in kb.search("my daughter self harms").hits:
        assert "<mark>one</mark>" not in hit.snippet.replace("<mark>loved</mark> <mark>one", "")


def test_only_typed_words_and_their_synonyms_are_highlighted(kb):
    """Never a pseudo-relevance-feedback term ("relational", "sessions" were marked once)."""
    parsed = kb.parse("my daughter self harms")
    allowed = set(parsed.highlight_terms) | {t for p in parsed.highlight_phrases for t in p}
    marked = {m for h in kb.search("my daughter self harms").hits for m in _marks(h)}
    assert marked
    for word in marked:
        assert {t.text for t in kb.analyzer(word)} <= allowed, word
    assert not {"relational", "one", "sessions"} & {m.lower() for m in marked}


def _marks(hit: Hit) -> list[str]:
    import re

    return re.findall(r"<mark>([^<]+)</mark>", hit.snippet)


def test_a_lay_term_finds_the_clinical_passage(kb):
    assert ids(kb.search("are happy pills any use"))[0] == MBT  # the medication paragraph


def test_facets_list_the_20_articles_with_most_hits_and_count_them_all(tmp_path, make_article):
    from kb.api import create_app
    from kb.search.facets import FACET_LIMIT

    for n in range(FACET_LIMIT + 5):
        make_article(f"a{n:02d}.md", "Skills group. " + "Skills practice. " * (n % 3) + "\n")
    build_index(load_corpus(make_article.corpus), tmp_path / "index")
    kb = KnowledgeBase(next((tmp_path / "index" / "builds").iterdir()))
    results = kb.search("skills", limit=5)
    assert results.total == FACET_LIMIT + 5 and results.article_total == FACET_LIMIT + 5
    counts = [f.count for f in results.article_facets]
    assert len(counts) == FACET_LIMIT and counts == sorted(counts, reverse=True)
    app = create_app({"KB_INDEX_DIR": str(tmp_path / "index"), "KB_RATE_LIMIT": ""})
    body = app.test_client().get("/api/v1/search?q=skills").get_json()
    assert len(body["facets"]["articles"]) == FACET_LIMIT
    page = app.test_client().get("/search?q=skills").get_data(as_text=True)
    assert "in 25 articles" in page


# -- re-ranking by the best sentence ----------------------------------------------------------


class _OneIdf:
    """A stand-in ranker whose every term has idf 1."""

    class searcher:  # noqa: N801 - mimics the attribute of kb.search.ranking.Ranker
        @staticmethod
        def idf(field, term):
            return 1.0


def _sentence_match(sections: list[Section]):
    from kb.analysis import default_analyzer
    from kb.search.memo import MemoAnalyzer
    from kb.search.ranking import SectionAnalysis, SentenceMatch

    analyzer = MemoAnalyzer(default_analyzer())
    return SentenceMatch(SectionAnalysis(analyzer, lambda docnum: sections[docnum]))


def _section(slug: str, text: str) -> Section:
    return Section(
        id=f"a:{slug}",
        article="a",
        anchor=slug,
        title="Notes",
        level=2,
        breadcrumb=("Notes",),
        position=0,
        text=text,
        word_count=len(text.split()),
        line=1,
    )


def test_sentence_match_prefers_the_section_that_says_it_in_one_sentence(kb):
    from dataclasses import replace

    import numpy as np

    from kb.search.ranking import Scores

    together = _section("together", "Sleep is hard. Panic and sleep loss came together at night.")
    apart = _section("apart", "Panic is common. Many people lose sleep. Night is long.")
    match = _sentence_match([apart, together])
    query = kb.parse("panic sleep night").query
    scores = Scores(np.array([0, 1]), np.array([5.0, 5.0]))
    match.rerank(_OneIdf, query, scores, kb.ranking)
    got = scores.as_dict()
    assert got[1] > got[0] > 5.0  # both gain; the one sentence holding all three most
    assert set(got) == {0, 1}  # nothing added
    off = Scores(np.array([0, 1]), np.array([5.0, 5.0]))
    match.rerank(_OneIdf, query, off, replace(kb.ranking, sentence_weight=0))
    assert off.as_dict() == {0: 5.0, 1: 5.0}


def test_sentence_match_weighs_synonyms_below_typed_words(kb):
    from kb.search.ranking import body_term_weights

    weights = body_term_weights(kb.parse("therapist sessions").query)
    assert weights["therapist"] == weights["session"] == 1.0
    assert weights["clinician"] == kb.ranking.expansion_weight


def test_memo_remembers_until_its_bound_then_computes_each_time():
    from kb.search import cache

    memo = cache.Memo(2)
    computed = []

    def value(key):
        computed.append(key)
        return key * 10

    results = [memo.get_or_compute(k, lambda k=k: value(k)) for k in (1, 2, 3, 3, 1, 2)]
    assert results == [10, 20, 30, 30, 10, 20]
    assert computed == [1, 2, 3, 3]  # 3 came after the bound: computed every time
    assert len(memo) == 2


def test_lru_evicts_the_least_recently_used_by_size():
    from kb.search import cache

    lru = cache.LRU(5, getsizeof=len)
    lru.put("a", "xx")
    lru.put("b", "xx")
    assert lru.get("a") == "xx"  # a is now the most recently used
    lru.put("c", "xx")  # 6 > 5: b, the least recently used, goes
    assert lru.get("b") is None and lru.get("a") == "xx" and lru.get("c") == "xx"
    assert lru.currsize == 4 and len(lru) == 2
    lru.put("a", "x")  # a replaced: its old size is given back
    assert lru.currsize == 3
    lru.put("huge", "x" * 6)  # larger than the whole cache: not kept, nothing evicted
    assert lru.get("huge", "missing") == "missing" and len(lru) == 2
    lru.put("d", "xxxx")  # 7 > 5: c goes (a was stored since), which is enough
    assert lru.get("c") is None and lru.get("a") == "x" and lru.get("d") == "xxxx"
    assert lru.currsize == 5
    lru.put("e", "xx")  # 7 > 5: a goes, then d
    assert lru.get("a") is None and lru.get("d") is None and lru.currsize == 2
    lru.clear()
    assert len(lru) == 0 and lru.currsize == 0


def test_lru_counts_entries_without_a_size():
    from kb.search import cache

    lru = cache.LRU(2)
    for key in "abc":
        lru.put(key, key.upper())
    assert [lru.get(k) for k in "abc"] == [None, "B", "C"] and lru.currsize == 2


def test_joined_pairs_are_cached_least_recently_used_first(kb):
    """A joined pair is looked up again the next time two words meet, from a bounded
    cache of its own (real pairs such as "self harm" recur; the rest are evicted)."""
    from kb.search import cache

    kb.search("self harm")
    joined = kb.queries._joined
    assert joined.cache_info().maxsize == cache.JOINED
    hits = joined.cache_info().hits
    kb.search("self harm coping")  # a new query, the same first pair
    assert joined.cache_info().hits == hits + 1


def test_spelling_corrections_are_remembered_per_word_and_distance(kb):
    corrector = kb.queries.corrector
    first = corrector.closest_word("medicaton", max_distance=1)
    assert first is not None and first[0] == "medication"
    assert corrector.closest_word("medicaton", max_distance=1) == first
    assert ("medicaton", 1) in corrector._closest._values
