"""kb.analysis: one tokenizer for index, queries and topics."""

from __future__ import annotations

import pytest

from kb.analysis import analyze, make_analyzer


@pytest.mark.parametrize("text", ["self-harm", "self harm", "Self-Harm", "selfharm"])
def test_hyphenated_forms_meet(text):
    forms = set(analyze(text))
    assert {"selfharm"} <= forms or {"self", "harm"} <= forms


def test_hyphenated_word_gives_parts_and_joined_form():
    assert analyze("self-harm") == ["self", "selfharm", "harm"]


@pytest.mark.parametrize(
    ("british", "american"),
    [("behaviour", "behavior"), ("mentalisation", "mentalization"), ("counselling", "counseling")],
)
def test_british_spellings_analyze_like_american(british, american):
    assert analyze(british) == analyze(american)


def test_mentalization_is_not_stemmed_to_mental():
    assert analyze("mentalization") == analyze("mentalizing") == ["mentaliz"]
    assert analyze("mental") != analyze("mentalization")


def test_possessives_and_stopwords_are_dropped():
    assert analyze("the client's plan") == ["client", "plan"]


def test_first_person_question_words_are_stopwords():
    assert analyze("What can I do about my daughter's anger?") == ["daughter", "anger"]


@pytest.mark.parametrize("word", ["no", "down", "more", "who", "again"])
def test_words_that_carry_meaning_in_health_questions_are_kept(word):
    assert analyze(word)


def test_character_offsets_point_into_the_original_text():
    text = "A self-harm plan"
    tokens = [(t.text, t.startchar, t.endchar) for t in make_analyzer(stem=False)(text, chars=True)]
    assert ("self", 2, 6) in tokens and ("harm", 7, 11) in tokens
    assert ("selfharm", 2, 11) in tokens


def test_positioned_terms_equal_the_analyzer_on_tricky_and_shipped_text(shipped_articles):
    from kb.analysis import PositionedTerms, default_analyzer

    analyzer = default_analyzer()
    terms_of = PositionedTerms(analyzer)
    texts = [
        "the cat sat",
        "the the state-of-the-art care",
        "The-End of it, and-the rest",
        "I'm self-harming — don't; patient's carers' co-occurring",
        "",
        "the and of",
        "Behaviour-Therapy behaviour therapy BEHAVIOUR",
    ]
    texts += [t for a in shipped_articles for s in a.sections for t in (s.title, s.text)]
    for _ in range(2):  # remembered words give the same answer as new ones
        for text in texts:
            expected = [(t.text, t.pos) for t in analyzer(text, positions=True)]
            assert terms_of(text) == expected, text
            sentences: list[int] = []  # counting terms per sentence changes nothing else
            assert terms_of(text, sentences) == expected, text
            assert sum(sentences) == len(expected) and 0 not in sentences


def test_a_sections_vocabulary_from_its_analysis_equals_the_vocabulary_analyzer(
    shipped_articles,
):
    from kb.analysis import (
        PositionedTerms,
        VocabularyWords,
        default_analyzer,
        vocabulary_analyzer,
        vocabulary_words,
    )
    from kb.taxonomy import load_taxonomy

    spellings = load_taxonomy().spellings
    assert spellings.get("behaviour") == "behavior"  # British spellings are mapped
    terms_of = PositionedTerms(default_analyzer())
    words_of = VocabularyWords(spellings)
    reference = vocabulary_analyzer(spellings)
    pairs = [
        ("Self-harm and state-of-the-art care", "The Behaviour-Therapy; I'm co-occurring."),
        ("", "the and of"),
    ]
    pairs += [(s.title, s.text) for a in shipped_articles for s in a.sections]
    for _ in range(2):  # words worked out before give the same answer
        for title, text in pairs:
            seen: set[str] = set()
            terms_of(title, [], seen)
            terms_of(text, [], seen)
            expected = {t.text for t in reference(f"{title}\n{text}")}
            assert words_of(seen) == expected == vocabulary_words(f"{title}\n{text}", spellings)
    seen = set()
    terms_of("Self-harm", None, seen)  # a title: no sentences asked for
    assert seen == {"Self-harm"} and words_of(seen) == {"self", "harm", "self-harm"}


def test_simple_word_analysis_equals_the_analyzer(shipped_articles):
    from kb.analysis import (
        WORD_RE,
        default_analyzer,
        is_simple_word,
        make_analyzer,
        simple_word_analysis,
    )

    analyzer = default_analyzer()
    fast = simple_word_analysis(analyzer)
    words = {"The", "THE", "I", "a", "Behaviour", "mentalisation", "Mentalization", "ii", "ß"}
    for article in shipped_articles:
        for section in article.sections:
            words.update(WORD_RE.findall(f"{section.title} {section.text}"))
    simple = [w for w in words if is_simple_word(w)]
    assert len(simple) > 1000
    for word in simple:
        for removestops in (True, False):
            expected = tuple(
                (t.text, t.stopped) for t in analyzer(word, removestops=removestops, mode="query")
            )
            assert fast(word, removestops) == expected, (word, removestops)
    # Another make-up (no stemming) is not second-guessed: the analyzer itself is used.
    assert simple_word_analysis(make_analyzer(stem=False)) is None
