"""The docs of the command line and the Python client cannot fall behind the code.

README.md's "Command line" section must name every `kb` command (subcommands of groups
included) with its help summary, and its "Python client" section every public KBClient
method.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import pytest

from kb.cli import main
from kb.client import KBClient, KBError

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md"]
LOOKUPS = [
    "search",
    "section",
    "related",
    "articles",
    "article",
    "topics",
    "topic",
    "suggest",
    "get",
]


def markdown_section(path: Path, heading: str) -> str:
    """The text under `## heading` up to the next level-2 heading outside a code fence."""
    lines, inside, fenced = [], False, False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            inside = line[3:].strip() == heading
            continue
        if inside:
            lines.append(line)
    assert lines, f"{path.name} has no '## {heading}' section"
    return "\n".join(lines)


def all_commands(group: click.Group = main, prefix: str = "kb"):
    """(`kb import text`, command) for every command, walking into groups."""
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from all_commands(command, path)


def public_methods() -> list[str]:
    return sorted(
        name
        for name in vars(KBClient)
        if not name.startswith("_") and callable(getattr(KBClient, name))
    )


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_command_is_documented_with_its_summary(doc):
    text = markdown_section(doc, "Command line")
    for path, command in all_commands():
        summary = command.get_short_help_str(limit=500)
        assert any(path in line and summary in line for line in text.splitlines()), (
            f"{doc.name}: no line with `{path}` and its summary {summary!r}"
        )


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_exit_codes_formats_and_completion_are_documented(doc):
    text = markdown_section(doc, "Command line")
    for needle in (
        "--table",
        "--nl",
        "--fields",
        "--url",
        "KB_URL",
        "_KB_COMPLETE=bash_source",
        "| 0 |",
        "| 1 |",
        "| 2 |",
    ):
        assert needle in text, f"{doc.name}: {needle!r} is not documented"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_client_method_and_exception_is_documented(doc):
    text = markdown_section(doc, "Python client")
    for name in public_methods():
        assert f"{name}(" in text, f"{doc.name}: KBClient.{name} is not documented"
    for error in [KBError, *KBError.__subclasses__(), *_grandchildren(KBError)]:
        assert error.__name__ in text, f"{doc.name}: {error.__name__} is not documented"


def _grandchildren(cls):
    return [grand for child in cls.__subclasses__() for grand in child.__subclasses__()]


def test_every_public_client_method_has_a_docstring():
    for name in public_methods():
        assert getattr(KBClient, name).__doc__, f"KBClient.{name} has no docstring"


def help_examples(command: str) -> list[list[str]]:
    """The `kb ...` example lines of a command's --help, as argument lists."""
    text = main.commands[command].help
    return [
        shlex.split(line.strip())[1:]
        for line in text.splitlines()
        if line.strip().startswith("kb ")
    ]


@pytest.mark.parametrize("command", LOOKUPS)
def test_help_examples_work(runner, index_dir, live_server, command):
    examples = help_examples(command)
    assert examples, f"kb {command} --help has no example"
    for args in examples:
        if "--url" in args:
            args[args.index("--url") + 1] = live_server
        else:
            args += ["--index", str(index_dir)]
        result = runner.invoke(main, args, env={"KB_URL": None})
        assert result.exit_code == 0, (args, result.output)
