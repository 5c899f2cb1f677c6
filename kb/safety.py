"""Crisis detection: a query about self-harm, suicide or a crisis gets a notice with resources.

People type these words when they, or someone close to them, may be in danger. The notice
is shown whatever the results are. Its text is configuration (a clinic sets its own
numbers); the default is a neutral message that is right everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from kb.analysis import analyze, analyzer_for, contains_sequence, phrase_variants
from kb.config import DEFAULT_CRISIS_MESSAGE as DEFAULT_MESSAGE
from kb.config import DEFAULT_CRISIS_TITLE as DEFAULT_TITLE
from kb.models import Notice
from kb.taxonomy import load_taxonomy

# Phrases matched after analysis (stemmed, case and hyphen insensitive), so "self-harm",
# "self harming", "selfharm", "Suicidal thoughts" and "killing myself" all match.
CRISIS_PHRASES = (
    "suicide",
    "suicidal",
    "kill myself",
    "killing myself",
    "kill herself",
    "kill himself",
    "kill themselves",
    "end my life",
    "end it all",
    "want to die",
    "wanting to die",
    "better off dead",
    "self-harm",
    "self-injury",
    "self-injure",
    "hurt myself",
    "hurting myself",
    "harm myself",
    "cut myself",
    "cutting myself",
    "overdose",
    "overdosed",
    "crisis",
    "emergency",
    "in danger",
    "not safe",
    "unsafe",
    "take my life",
    "no reason to live",
)


@dataclass(frozen=True)
class CrisisSettings:
    title: str = DEFAULT_TITLE
    message: str = DEFAULT_MESSAGE
    resources: tuple[dict, ...] = ()  # e.g. {"name": "Clinic crisis line", "phone": "..."}


@lru_cache(maxsize=1)
def _analyzer():
    # Stopwords kept: "not safe" must not shrink to "safe".
    return analyzer_for(load_taxonomy(), stopwords=False)


@lru_cache(maxsize=1)
def _crisis_term_sequences() -> tuple[tuple[str, ...], ...]:
    return tuple(v for phrase in CRISIS_PHRASES for v in phrase_variants(phrase, _analyzer()))


def is_crisis_query(query: str) -> bool:
    terms = analyze(query, _analyzer())
    return any(contains_sequence(terms, phrase) for phrase in _crisis_term_sequences())


def crisis_notices(query: str, settings: CrisisSettings | None = None) -> tuple[Notice, ...]:
    if not is_crisis_query(query):
        return ()
    settings = settings or CrisisSettings()
    return (
        Notice(
            kind="crisis",
            title=settings.title,
            message=settings.message,
            resources=tuple(settings.resources),
        ),
    )
