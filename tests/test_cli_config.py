"""The `kb` command and its settings: bad values stop it with one `Error:` line each, and
`kb serve` takes its settings from kb.config, checks its port first and names real URLs."""

from __future__ import annotations

import json
import socket

import pytest

from kb.cli import main

BAD = {"KB_RATE_LIMIT": "lots", "KB_PROXY_COUNT": "-1"}
BAD_LINES = [
    "Error: KB_RATE_LIMIT: cannot parse 'lots'; expected limits like "
    "'20 per second;600 per minute' (empty: no limit)",
    "Error: KB_PROXY_COUNT: must be 0 or more, got -1",
]


def invoke(runner, args, env):
    return runner.invoke(main, args, env={"KB_URL": None, **env})


@pytest.mark.parametrize(
    "args",
    [
        ["get", "/api/v1/health"],
        ["articles"],
        ["search", "therapy"],
        ["build", "--corpus", "nowhere"],
        ["serve", "--no-build", "--port", "0"],
    ],
)
def test_bad_settings_stop_the_command_with_one_line_each(runner, index_dir, args):
    result = invoke(runner, [*args, "--index", str(index_dir)], BAD)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == BAD_LINES
    assert result.stdout == ""
    assert isinstance(result.exception, SystemExit)  # no traceback


def test_an_option_default_checks_only_its_own_setting(runner, index_dir, live_server):
    """Asking a server needs no server settings: a bad KB_RATE_LIMIT does not stop it."""
    result = invoke(runner, ["articles", "--url", live_server], BAD)
    assert result.exit_code == 0, result.output
    result = invoke(runner, ["articles"], {"KB_INDEX_DIR": ""})
    assert result.exit_code == 1
    assert result.stderr == "Error: KB_INDEX_DIR: must not be empty\n"


def test_kb_get_uses_the_settings_from_the_environment(runner, index_dir):
    env = {"KB_CORS_ORIGINS": '["https://clinic.example"]'}
    result = invoke(runner, ["get", "/api/v1/health", "--index", str(index_dir)], env)
    assert result.exit_code == 0 and json.loads(result.stdout)["status"] == "ok"


# --- kb serve ---------------------------------------------------------------------------------


@pytest.fixture
def taken_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_serve_on_a_taken_port_fails_before_saying_it_serves(runner, index_dir, taken_port):
    args = ["serve", "--index", str(index_dir), "--no-build", "--port", str(taken_port)]
    result = invoke(runner, args, {})
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: cannot listen on 127.0.0.1:{taken_port}: port {taken_port} is in use; "
        "stop that program or choose another --port\n"
    )


def test_serve_checks_the_port_before_building(runner, tmp_path, taken_port, make_article):
    make_article("a.md", "Some text about sleep.\n")
    index = tmp_path / "index"
    args = ["serve", "--corpus", str(make_article.corpus), "--index", str(index)]
    result = invoke(runner, [*args, "--port", str(taken_port)], {})
    assert result.exit_code == 1 and "in use" in result.stderr
    assert not index.exists()


def test_serve_hands_its_settings_to_the_app_and_names_real_urls(runner, index_dir, monkeypatch):
    """No KB_INDEX_DIR is written to the environment; the banner's URLs answer 200."""
    import os

    from werkzeug.serving import BaseWSGIServer

    served = {}

    def serve_forever(server, poll_interval=0.5):
        served["app"] = server.app
        served["port"] = server.port
        server.server_close()

    monkeypatch.setattr(BaseWSGIServer, "serve_forever", serve_forever)
    monkeypatch.delenv("KB_INDEX_DIR", raising=False)
    args = ["serve", "--index", str(index_dir), "--no-build", "--port", "0"]
    result = invoke(runner, args, {"KB_RATE_LIMIT": "1 per hour"})
    assert result.exit_code == 0, result.output
    assert "KB_INDEX_DIR" not in os.environ
    app = served["app"]
    assert app.config["KB_INDEX_DIR"] == str(index_dir)
    assert app.config["KB_RATE_LIMIT"] == "1 per hour"  # from the environment, via kb.config
    base = f"http://127.0.0.1:{served['port']}"
    banner = result.stdout.splitlines()
    assert banner[0] == (
        f"kb: serving {base}/  (API docs: {base}/api/v1/docs, OpenAPI: {base}/api/v1/openapi.json)"
    )
    client = app.test_client()
    for path in ("/", "/api/v1/docs", "/api/v1/openapi.json"):
        assert client.get(path).status_code == 200, path
