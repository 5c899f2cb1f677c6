"""kb.config: defaults, KB_* environment variables, and the test dict, in that order."""

from __future__ import annotations

import pytest

from kb.config import defaults, from_environment, load_settings


def test_environment_values_are_json_decoded_unless_the_default_is_text():
    env = {
        "KB_CORS_ORIGINS": '["https://clinic.example"]',
        "KB_LOG_QUERIES": "true",
        "KB_INDEX_DIR": "/srv/kb/index",
        "KB_PROXY_COUNT": "1",
        "UNRELATED": "x",
    }
    assert from_environment(env) == {
        "KB_CORS_ORIGINS": ["https://clinic.example"],
        "KB_LOG_QUERIES": True,
        "KB_INDEX_DIR": "/srv/kb/index",
        "KB_PROXY_COUNT": 1,
    }


def test_bad_json_names_the_setting():
    with pytest.raises(ValueError, match="KB_CORS_ORIGINS"):
        from_environment({"KB_CORS_ORIGINS": "https://clinic.example"})


def test_precedence(monkeypatch):
    monkeypatch.setenv("KB_INDEX_DIR", "from-env")
    assert load_settings()["KB_INDEX_DIR"] == "from-env"
    assert load_settings({"KB_INDEX_DIR": "from-test"})["KB_INDEX_DIR"] == "from-test"
    monkeypatch.delenv("KB_INDEX_DIR")
    assert load_settings()["KB_INDEX_DIR"] == defaults()["KB_INDEX_DIR"] == "index"


def test_private_by_default():
    settings = defaults()
    assert settings["KB_LOG_QUERIES"] is False
    assert settings["KB_CORS_ORIGINS"] == []
