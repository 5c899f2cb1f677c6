"""kb.safety: crisis queries get a notice, ordinary ones do not."""

from __future__ import annotations

import pytest

from kb.safety import CrisisSettings, crisis_notices, is_crisis_query


@pytest.mark.parametrize(
    "query",
    [
        "suicide",
        "Suicidal thoughts",
        "I want to kill myself",
        "self-harm",
        "self harm",
        "selfharm",
        "self-harming teenager",
        "cutting myself",
        "overdose",
        "crisis plan",
        "my son is in crisis",
        "I want to die",
        "thinking about ending my life",
        "KILLING MYSELF",
    ],
)
def test_crisis_phrasings_are_detected(query):
    assert is_crisis_query(query)


@pytest.mark.parametrize(
    "query",
    [
        "mentalization",
        "medication side effects",
        "family therapy",
        "safe place",
        "DBT skills",
        "harmony at home",
        "cutting down on coffee",
    ],
)
def test_ordinary_queries_are_not_crisis(query):
    assert not is_crisis_query(query)


def test_default_notice_is_neutral():
    (notice,) = crisis_notices("suicide")
    assert notice.kind == "crisis"
    assert "local emergency number" in notice.message
    assert notice.resources == ()


def test_clinic_configures_its_own_resources():
    settings = CrisisSettings(
        title="Help now",
        message="Call us.",
        resources=({"name": "Clinic line", "phone": "555-0100"},),
    )
    (notice,) = crisis_notices("self harm", settings)
    assert (notice.title, notice.message) == ("Help now", "Call us.")
    assert notice.resources[0]["phone"] == "555-0100"
