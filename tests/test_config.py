"""kb.config: defaults, KB_* environment variables, and the test dict, in that order."""

from __future__ import annotations

import pytest

from kb.config import (
    ConfigError,
    client_url,
    defaults,
    from_environment,
    load_settings,
    setting,
    taxonomy_path,
)


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


# --- validation at start-up -------------------------------------------------------------------


def test_every_bad_value_is_one_line_naming_its_setting():
    environ = {
        "KB_RATE_LIMIT": "lots",
        "KB_PROXY_COUNT": "-1",
        "KB_MAX_URL_LENGTH": "0",
        "KB_LOG_QUERIES": "maybe",
        "KB_INDEX_DIR": "fine",
    }
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ)
    assert isinstance(caught.value, ValueError)
    lines = str(caught.value).splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [
        "KB_LOG_QUERIES",
        "KB_RATE_LIMIT",
        "KB_PROXY_COUNT",
        "KB_MAX_URL_LENGTH",
    ]
    assert lines[1].startswith("KB_RATE_LIMIT: cannot parse 'lots'")
    assert lines[2] == "KB_PROXY_COUNT: must be 0 or more, got -1"
    assert set(caught.value.problems) == {line.split(":", 1)[0] for line in lines}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("KB_RATE_LIMIT", "20 per fortnight"),
        ("KB_RATE_LIMIT", "lots"),
        ("KB_RATE_LIMIT_STORAGE", "nowhere"),
        ("KB_PROXY_COUNT", -1),
        ("KB_PROXY_COUNT", "1"),
        ("KB_PROXY_COUNT", 1.5),
        ("KB_MAX_URL_LENGTH", 0),
        ("KB_MAX_BODY_BYTES", -5),
        ("KB_LOG_QUERIES", "sometimes"),
        ("KB_INDEX_DIR", ""),
        ("KB_CRISIS_TITLE", ""),
        ("KB_TAXONOMY", "/no/such/taxonomy.yaml"),
        ("KB_CORS_ORIGINS", "https://clinic.example"),
        ("KB_CORS_ORIGINS", ["clinic.example"]),
        ("KB_CORS_ORIGINS", ["ftp://clinic.example"]),
        ("KB_CORS_ORIGINS", ["https://clinic.example/path"]),
        ("KB_CRISIS_RESOURCES", [{"phone": "555-0100"}]),
        ("KB_CRISIS_RESOURCES", [{"name": "Clinic line"}]),
        ("KB_CRISIS_RESOURCES", [{"name": "Clinic line", "phone": 5550100}]),
        ("KB_CRISIS_RESOURCES", [{"name": "Clinic line", "phon": "555-0100"}]),
        ("KB_CRISIS_RESOURCES", [{"name": "Clinic line", "url": "javascript:alert(1)"}]),
        ("KB_CRISIS_RESOURCES", ["Clinic line 555-0100"]),
    ],
)
def test_bad_values_are_refused(key, value):
    with pytest.raises(ConfigError) as caught:
        load_settings({key: value}, environ={})
    assert str(caught.value).startswith(f"{key}: ")
    assert len(str(caught.value).splitlines()) == 1


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("KB_RATE_LIMIT", ""),
        ("KB_RATE_LIMIT", "5/second, 100/minute"),
        ("KB_RATE_LIMIT_STORAGE", "redis://cache:6379"),
        ("KB_CORS_ORIGINS", ["https://clinic.example", "http://127.0.0.1:8080"]),
        ("KB_CRISIS_RESOURCES", [{"name": "Text line", "sms": "741741"}]),
        ("KB_CRISIS_RESOURCES", [{"name": "Web", "url": "https://clinic.example/crisis"}]),
        ("KB_CRISIS_RESOURCES", [{"name": "Line", "phone": "555-0100", "text": "24/7"}]),
    ],
)
def test_good_values_are_accepted(key, value):
    assert load_settings({key: value}, environ={})[key] == value


def test_environment_values_that_are_not_json_are_judged_by_type():
    settings = load_settings(environ={"KB_LOG_QUERIES": "yes", "KB_PROXY_COUNT": "2"})
    assert settings["KB_LOG_QUERIES"] is True and settings["KB_PROXY_COUNT"] == 2


def test_undecodable_and_invalid_values_are_reported_together():
    environ = {"KB_CORS_ORIGINS": "https://clinic.example", "KB_RATE_LIMIT": "lots"}
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ)
    assert list(caught.value.problems) == ["KB_CORS_ORIGINS", "KB_RATE_LIMIT"]


def test_an_override_replaces_a_bad_environment_value():
    settings = load_settings({"KB_RATE_LIMIT": ""}, environ={"KB_RATE_LIMIT": "lots"})
    assert settings["KB_RATE_LIMIT"] == ""


def test_other_keys_pass_through_unchecked():
    assert load_settings({"TESTING": True}, environ={})["TESTING"] is True


def test_one_setting_is_checked_on_its_own():
    environ = {"KB_INDEX_DIR": "/srv/kb/index", "KB_RATE_LIMIT": "lots"}
    assert setting("KB_INDEX_DIR", environ) == "/srv/kb/index"
    assert setting("KB_CORPUS_DIR", environ) == "corpus"
    with pytest.raises(ConfigError, match="^KB_RATE_LIMIT: "):
        setting("KB_RATE_LIMIT", environ)


def test_taxonomy_path(tmp_path):
    assert taxonomy_path(defaults()) is None
    taxonomy = tmp_path / "taxonomy.yaml"
    taxonomy.write_text("topics: []\n", encoding="utf-8")
    settings = load_settings({"KB_TAXONOMY": str(taxonomy)}, environ={})
    assert taxonomy_path(settings) == taxonomy


def test_client_url():
    assert client_url({}) is None
    assert client_url({"KB_URL": ""}) is None
    assert client_url({"KB_URL": "http://127.0.0.1:5000"}) == "http://127.0.0.1:5000"


def test_the_crisis_defaults_are_the_notice_defaults():
    from kb.safety import CrisisSettings

    assert defaults()["KB_CRISIS_TITLE"] == CrisisSettings().title
    assert defaults()["KB_CRISIS_MESSAGE"] == CrisisSettings().message


def test_create_app_refuses_a_bad_rate_limit_at_start_up(tmp_path):
    """Once a 500 on every request; now the app does not start."""
    from kb.api import create_app

    with pytest.raises(ConfigError, match="^KB_RATE_LIMIT: cannot parse 'lots'"):
        create_app({"KB_INDEX_DIR": str(tmp_path), "KB_RATE_LIMIT": "lots"})
    with pytest.raises(ConfigError, match="^KB_PROXY_COUNT: "):
        create_app(settings={**defaults(), "KB_PROXY_COUNT": -1})


def test_create_app_takes_settings_instead_of_the_environment(monkeypatch, index_dir):
    from kb.api import create_app

    monkeypatch.setenv("KB_RATE_LIMIT", "lots")  # not read: the settings are given
    settings = {**defaults(), "KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": ""}
    app = create_app(settings=settings)
    assert app.config["KB_INDEX_DIR"] == str(index_dir)
    assert app.test_client().get("/api/v1/health").status_code == 200
