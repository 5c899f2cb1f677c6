"""The lookup commands of `kb` (search, section, related, articles, article, topics, topic,
suggest, get): in-process over --index and remote over --url, every output format, exit codes
and one-line errors with hints."""

from __future__ import annotations

import json
import socket

import pytest

from kb.cli import main
from kb.cli_local import in_process_client

# The shipped section that introduces Mentalization-Based Therapy.
MBT_ID = "bpd-treatment-in-real-sessions:other-therapies-can-fit-different-patterns"


@pytest.fixture(scope="module")
def ids(index_dir):
    """Real ids from the shipped corpus, so the tests follow it as it grows."""
    client = in_process_client(str(index_dir))
    section = client.search("therapy", limit=1)["hits"][0]
    topic = next(t for t in client.topics()["topics"] if t["section_count"])
    return {"section": section["id"], "article": section["article"], "topic": topic["id"]}


def commands(ids) -> dict[str, tuple[list[str], str | None]]:
    """Each lookup command with arguments that find something, and its JSON row key."""
    return {
        "search": (["search", "therapy", "--limit", "5"], "hits"),
        "section": (["section", ids["section"]], None),
        "related": (["related", ids["section"]], "related"),
        "articles": (["articles"], "articles"),
        "article": (["article", ids["article"]], None),
        "topics": (["topics"], "topics"),
        "topic": (["topic", ids["topic"]], None),
        "suggest": (["suggest", "ment"], "suggestions"),
    }


COMMANDS = ["search", "section", "related", "articles", "article", "topics", "topic", "suggest"]


def run(runner, args, source, env=None):
    """Invoke kb with `source` (["--index", dir] or ["--url", url]); stderr kept apart.

    KB_URL from the caller's shell is cleared so that --index really means in-process.
    """
    result = runner.invoke(main, [*args, *source], env={"KB_URL": None, **(env or {})})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


@pytest.fixture
def local(index_dir):
    return ["--index", str(index_dir)]


@pytest.fixture
def remote(live_server):
    return ["--url", live_server]


# --- the same JSON in-process and over HTTP -------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_local_and_remote_print_the_same_json(runner, ids, local, remote, command):
    args, _rows = commands(ids)[command]
    here, there = run(runner, args, local), run(runner, args, remote)
    assert here.exit_code == there.exit_code == 0, here.stderr + there.stderr
    # Links are absolute, so only the host differs: in-process requests come from localhost.
    there_text = there.stdout.replace(remote[1], "http://localhost")
    assert json.loads(here.stdout) == json.loads(there_text)
    assert here.stdout == there_text


@pytest.mark.parametrize("command", COMMANDS)
def test_json_is_the_api_body(runner, client, ids, local, command):
    args, _rows = commands(ids)[command]
    result = run(runner, args, local)
    assert result.exit_code == 0
    assert result.stdout.startswith("{\n  ")  # indented by 2, always
    path = {
        "search": "/api/v1/search?q=therapy&limit=5",
        "section": f"/api/v1/sections/{ids['section']}",
        "related": f"/api/v1/sections/{ids['section']}/related",
        "articles": "/api/v1/articles",
        "article": f"/api/v1/articles/{ids['article']}",
        "topics": "/api/v1/topics",
        "topic": f"/api/v1/topics/{ids['topic']}",
        "suggest": "/api/v1/suggest?q=ment",
    }[command]
    assert json.loads(result.stdout) == client.get(path).get_json()


# --- output formats -------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["local", "remote"])
@pytest.mark.parametrize("command", COMMANDS)
def test_nl_prints_one_row_per_line(runner, ids, request, source, command):
    args, rows = commands(ids)[command]
    source_args = request.getfixturevalue(source)
    body = json.loads(run(runner, args, source_args).stdout)
    result = run(runner, [*args, "--nl"], source_args)
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == (body[rows] if rows else [body])


@pytest.mark.parametrize("command", COMMANDS)
def test_fields_pick_fields_of_each_row(runner, ids, local, command):
    args, rows = commands(ids)[command]
    picked = {
        "search": "id,title",
        "section": "id,title",
        "related": "id,title",
        "articles": "slug,title",
        "article": "slug,title",
        "topics": "id,label",
        "topic": "id,label",
        "suggest": "text,kind",
    }[command].split(",")
    body = json.loads(run(runner, args, local).stdout)
    expected = [{k: row[k] for k in picked} for row in (body[rows] if rows else [body])]

    as_json = json.loads(run(runner, [*args, "--fields", ",".join(picked)], local).stdout)
    assert as_json == (expected if rows else expected[0])
    as_nl = run(runner, [*args, "--nl", "--fields", ",".join(picked)], local).stdout
    assert [json.loads(line) for line in as_nl.splitlines()] == expected
    assert all(list(row) == picked for row in expected)


@pytest.mark.parametrize("command", COMMANDS)
def test_table_is_plain_text_with_the_rows(runner, ids, local, command):
    args, rows = commands(ids)[command]
    body = json.loads(run(runner, args, local).stdout)
    result = run(runner, [*args, "--table"], local)
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout  # colour only on a terminal
    assert not result.stdout.lstrip().startswith("{")
    key = {"articles": "slug", "article": "slug", "suggest": "text"}.get(command, "id")
    for row in body[rows] if rows else [body]:
        assert row[key] in result.stdout


def test_search_table_columns(runner, local):
    result = run(runner, ["search", "therapy", "--table", "--limit", "3", "--offset", "1"], local)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["RANK", "TITLE", "ARTICLE", "ID"]
    assert lines[1].startswith("2 ")  # rank counts from the offset
    assert lines[-1].startswith("2-4 of ")


def test_table_fields_choose_the_columns(runner, local):
    result = run(runner, ["topics", "--table", "--fields", "id,section_count"], local)
    assert result.stdout.splitlines()[0].split() == ["ID", "SECTION_COUNT"]


def test_search_mentalization_table_shows_mbt_first(runner, local):
    result = run(runner, ["search", "mentalization", "--table"], local)
    assert result.exit_code == 0
    first_hit = result.stdout.splitlines()[1]
    assert first_hit.startswith("1 ")
    assert MBT_ID in first_hit, result.stdout


def test_search_table_shows_did_you_mean(runner, local):
    result = run(runner, ["search", "medicaton", "--table"], local)
    assert "medication" in result.stdout.splitlines()[0]


def test_search_table_shows_crisis_notices_first(runner, local):
    result = run(runner, ["search", "suicide", "--table"], local)
    body = json.loads(run(runner, ["search", "suicide"], local).stdout)
    assert body["notices"], "crisis queries must carry a notice"
    assert result.stdout.startswith(body["notices"][0]["title"])


def test_search_medicaton_over_url_suggests_medication(runner, remote):
    result = run(runner, ["search", "medicaton"], remote)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["did_you_mean"] == "medication"


def test_kb_url_environment_variable_selects_the_server(runner, live_server, tmp_path):
    env = {"KB_URL": live_server, "KB_INDEX_DIR": str(tmp_path)}  # no index there
    result = run(runner, ["articles"], [], env=env)
    assert result.exit_code == 0 and json.loads(result.stdout)["articles"]


def test_kb_index_dir_environment_variable_selects_the_index(runner, index_dir):
    result = run(runner, ["articles"], [], env={"KB_INDEX_DIR": str(index_dir)})
    assert result.exit_code == 0 and json.loads(result.stdout)["articles"]


# --- errors: one line on stderr, a hint, exit 1 (2 for usage) -------------------------------


@pytest.mark.parametrize("source", ["local", "remote"])
@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (
            ["section", "nope:missing"],
            "Error: no section 'nope:missing'",
            "Hint: find section ids with `kb search",
        ),
        (
            ["related", "nope:missing"],
            "Error: no section 'nope:missing'",
            "Hint: find section ids with `kb search",
        ),
        (
            ["article", "no-such-article"],
            "Error: no article 'no-such-article'",
            "Hint: list article slugs with `kb articles`",
        ),
        (
            ["topic", "no-such-topic"],
            "Error: no topic 'no-such-topic'",
            "Hint: list topic ids with `kb topics`",
        ),
        (
            ["search", "therapy", "--limit", "99"],
            "Error: invalid parameter: limit",
            "Hint: see `kb search --help`",
        ),
        (["suggest", "m"], "Error: invalid parameter: q", "Hint: see `kb suggest --help`"),
    ],
)
def test_user_errors_are_one_line_with_a_hint(runner, request, source, args, message, hint):
    result = run(runner, args, request.getfixturevalue(source))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(message) and hint in result.stderr
    assert "/api/v1" not in result.stderr  # the API's own hint is replaced by a kb command


def test_missing_index_says_to_build(runner, tmp_path):
    result = run(runner, ["search", "therapy"], ["--index", str(tmp_path / "index")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: no index in {tmp_path / 'index'}: run `kb build`")
    assert "Traceback" not in result.output


def test_unreachable_server_is_one_clear_line(runner, monkeypatch):
    monkeypatch.setattr("kb.client.time.sleep", lambda seconds: None)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    result = run(runner, ["articles"], ["--url", url])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot connect to kb at {url}")
    assert "Hint:" in result.stderr and result.stderr.count("\n") == 1


def test_a_url_without_scheme_is_a_usage_error(runner):
    result = run(runner, ["articles"], ["--url", "localhost:5000"])
    assert result.exit_code == 2 and "--url" in result.stderr


@pytest.mark.parametrize(
    ("args", "footer"),
    [
        (["search", "zzzqqqxxx"], "no hits"),
        (["search", "therapy", "--offset", "5000"], "no hits at offset 5000 ("),
    ],
)
def test_search_table_without_hits_says_so(runner, local, args, footer):
    result = run(runner, [*args, "--table"], local)
    assert result.exit_code == 0 and result.stdout.splitlines()[-1].startswith(footer)


def test_unknown_field_is_a_usage_error(runner, local):
    result = run(runner, ["search", "therapy", "--fields", "id,nonsense"], local)
    assert result.exit_code == 2
    assert "no field 'nonsense'" in result.stderr and "title" in result.stderr


def test_rank_is_a_field_of_the_search_table_only(runner, local):
    assert (
        run(runner, ["search", "therapy", "--table", "--fields", "rank,id"], local).exit_code == 0
    )
    assert run(runner, ["search", "therapy", "--fields", "rank"], local).exit_code == 2


def test_missing_argument_is_a_usage_error(runner, local):
    assert run(runner, ["section"], local).exit_code == 2


# --- kb get -----------------------------------------------------------------------------------


def test_get_prints_the_response_body(runner, local, client):
    result = run(runner, ["get", "/api/v1/health"], local)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == client.get("/api/v1/health").get_json()


def test_get_passes_the_query_string(runner, local):
    result = run(runner, ["get", "/api/v1/search?q=therapy&limit=2"], local)
    body = json.loads(result.stdout)
    assert result.exit_code == 0 and body["limit"] == 2 and len(body["hits"]) <= 2


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/sections/nope:missing", 404, "section_not_found"),
        ("/api/v1/search?q=therapy&limit=0", 422, "invalid_parameter"),
        ("/api/v1/nothing-here", 404, "not_found"),
    ],
)
def test_get_exits_1_on_an_error_and_prints_its_body(runner, local, path, status, code):
    result = run(runner, ["get", path], local)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == code
    assert result.stderr.startswith(f"Error: HTTP {status}")


def test_get_without_an_index_is_the_apis_503(runner, tmp_path):
    result = run(runner, ["get", "/api/v1/health"], ["--index", str(tmp_path)])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "index_unavailable"


# --- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [*COMMANDS, "get"])
def test_every_lookup_has_help_with_an_example(runner, command):
    result = runner.invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout and f"kb {command} " in result.stdout


@pytest.mark.parametrize("width", [80, 160])
def test_table_on_a_terminal_fits_its_width_and_shows_snippets(runner, local, monkeypatch, width):
    monkeypatch.setattr("kb.cli_output._terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", str(width))
    result = run(runner, ["search", "my daughter self harms", "--table", "--limit", "3"], local)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("If you are in danger now")  # the crisis notice stays first
    table = [line for line in lines[1:] if line[:1] in "┏┃┡│└"]
    assert table and all(len(line) <= width for line in table)
    assert "SNIPPET" in table[1] and "<mark>" not in result.stdout
    assert lines[-1] == "1-3 of 7 hits" or lines[-1].startswith("1-3 of ")


def test_csv_has_a_header_and_one_row_per_hit(runner, local):
    import csv
    import io

    result = run(runner, ["search", "mentalization", "--csv", "--limit", "3"], local)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["rank"] == "1" and rows[0]["id"] == MBT_ID
    assert "<mark>" not in rows[0]["snippet"] and "Mentalization" in rows[0]["snippet"]
    assert list(rows[0])[:3] == ["rank", "id", "article"]
    picked = run(runner, ["search", "mentalization", "--csv", "--fields", "id,score"], local)
    assert picked.stdout.splitlines()[0] == "id,score"
