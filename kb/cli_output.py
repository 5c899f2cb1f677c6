"""How the `kb` lookup commands show the API's JSON: as it is, one row per line, or tables.

kb.cli chooses where an answer comes from; this module only formats what comes back.
"""

from __future__ import annotations

import click


class View:
    """How a command's JSON is shown: where its rows are, their schema, the table columns."""

    def __init__(
        self,
        schema: str,
        columns: tuple[str, ...],
        rows: str | None = None,
        extra: tuple[str, ...] = (),
        terminal_columns: tuple[str, ...] = (),
    ):
        self.schema = schema  # class name in kb.api.schemas: the fields --fields may pick
        self.columns = columns  # default --table columns
        self.rows = rows  # key of the list of rows in the body; None: the body is one row
        self.extra = extra  # table-only columns computed here (search's rank)
        # Columns of the table on a terminal, where rich fits them to its width.
        self.terminal_columns = terminal_columns or columns

    def fields(self) -> list[str]:
        from kb.api import schemas

        return list(getattr(schemas, self.schema)().fields)

    def row_list(self, body: dict) -> list[dict]:
        return body[self.rows] if self.rows else [body]


VIEWS = {
    "search": View(
        "HitSchema",
        ("rank", "title", "article", "id"),
        "hits",
        ("rank",),
        terminal_columns=("rank", "title", "snippet", "id"),
    ),
    "section": View(
        "SectionSchema",
        (
            "id",
            "title",
            "article_title",
            "breadcrumb",
            "topics",
            "previous",
            "next",
            "related",
            "url",
            "text",
        ),
    ),
    "related": View("SectionRefSchema", ("id", "title", "article"), "related"),
    "articles": View(
        "ArticleSummarySchema", ("slug", "title", "section_count", "topics"), "articles"
    ),
    "article": View(
        "ArticleSchema",
        (
            "slug",
            "title",
            "summary",
            "source",
            "published",
            "url",
            "section_count",
            "topics",
            "toc",
        ),
    ),
    "topics": View("TopicSchema", ("id", "label", "parent", "section_count"), "topics"),
    "topic": View(
        "TopicDetailSchema",
        ("id", "label", "parent", "abbreviations", "synonyms", "section_count", "sections"),
    ),
    "suggest": View("SuggestionSchema", ("text", "kind", "section_id"), "suggestions"),
}


def _split_fields(ctx, param, value):
    """--fields a,b -> ["a", "b"] (None when not given)."""
    if value is None:
        return None
    fields = [name.strip() for name in value.split(",") if name.strip()]
    if not fields:
        raise click.BadParameter("name at least one field", ctx=ctx, param=param)
    return fields


def output_options(command):
    """--json (default), --table, --nl, --csv and --fields, shared by every lookup command."""
    options = [
        click.option(
            "--json",
            "fmt",
            flag_value="json",
            default=True,
            help="The API's JSON, indented by 2 (default).",
        ),
        click.option("--table", "fmt", flag_value="table", help="Aligned columns, for people."),
        click.option(
            "--nl",
            "fmt",
            flag_value="nl",
            help="Newline-delimited JSON: one row per line, for pipes.",
        ),
        click.option(
            "--csv",
            "fmt",
            flag_value="csv",
            help="CSV with a header row (UTF-8; lists joined by '; ', snippets as plain text).",
        ),
        click.option(
            "--fields",
            metavar="A,B",
            callback=_split_fields,
            help="Only these fields of each row (e.g. id,title).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def check_fields(view: View, fmt: str, fields: list[str] | None) -> None:
    """Unknown --fields names are a usage error (exit 2), reported before any request."""
    known = view.fields() + (list(view.extra) if fmt in ("table", "csv") else [])
    unknown = [name for name in fields or () if name not in known]
    if unknown:
        raise click.BadParameter(
            f"no field {unknown[0]!r}; choose from {', '.join(known)}", param_hint="--fields"
        )


def emit(body: dict, view: View, fmt: str, fields: list[str] | None) -> None:
    """Print the API's JSON: as it is (indent 2), one row per line, or as a table.

    Indenting always, even in pipes, keeps the output identical wherever it goes; --nl is
    the compact form for pipes.
    """
    import json

    if fmt == "table":
        _emit_table(body, view, fields)
        return
    if fmt == "csv":
        _emit_csv(body, view, fields)
        return
    rows = [_pick(row, fields) for row in view.row_list(body)] if fields else None
    if fmt == "nl":
        for row in rows or view.row_list(body):
            click.echo(json.dumps(row, ensure_ascii=False))
    elif rows is None:
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        click.echo(json.dumps(rows if view.rows else rows[0], indent=2, ensure_ascii=False))


def _pick(row: dict, fields: list[str]) -> dict:
    """The row with only `fields`, in the order the user gave them."""
    return {name: row.get(name) for name in fields}


def _cell(value) -> str:
    """A value as table text: lists comma-joined, refs by id, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return str(value.get("id", value.get("value", value)))
    if isinstance(value, list):
        return ", ".join(_cell(item) for item in value) or "-"
    return str(value)


def plain_snippet(snippet: str) -> str:
    """A hit's HTML snippet as plain text (its <mark> tags dropped, entities decoded)."""
    import html
    import re

    return html.unescape(re.sub(r"</?mark>", "", snippet))


def _csv_cell(name: str, value) -> str:
    if name == "snippet" and isinstance(value, str):
        return plain_snippet(value)
    if isinstance(value, list):
        return "; ".join(_cell(item) for item in value)
    return "" if value is None else _cell(value)


def _emit_csv(body: dict, view: View, fields: list[str] | None) -> None:
    """Rows as CSV: a header row, then one line per row, in a stable column order."""
    import csv
    import io

    rows = view.row_list(body)
    if view.extra:
        rows = [{"rank": body.get("offset", 0) + i + 1, **row} for i, row in enumerate(rows)]
    columns = fields or ([*view.extra, *view.fields()] if view.rows else view.fields())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(name, row.get(name)) for name in columns])
    click.echo(out.getvalue(), nl=False)


def _terminal() -> bool:
    import sys

    return sys.stdout.isatty()


def _emit_table(body: dict, view: View, fields: list[str] | None) -> None:
    """Rows as columns (search adds rank, notices and a footer); one object as records.

    On a terminal the columns are drawn by rich, fitted to the terminal's width (long
    titles wrap, a search shows each hit's snippet with the matched words in bold); in a
    pipe they stay plain aligned text.
    """
    terminal = _terminal()
    columns = fields or list(view.terminal_columns if terminal else view.columns)
    if view.rows is None:
        _emit_record(body, columns)
        return
    rows = view.row_list(body)
    if view.extra:  # search: rank is the hit's position in the whole result list
        rows = [{"rank": body["offset"] + i + 1, **row} for i, row in enumerate(rows)]
    if view.rows == "hits":
        _emit_search_notes(body)
    if terminal:
        _emit_rich_table(rows, columns)
    else:
        _emit_columns(rows, columns)
    if view.rows == "hits":
        click.echo(_hits_footer(body["offset"], len(rows), body["total"]))


def _hits_footer(offset: int, shown: int, total: int) -> str:
    """Which hits the table shows, so people know there are more pages."""
    if shown:
        return f"{offset + 1}-{offset + shown} of {total} hits"
    return f"no hits at offset {offset} ({total} in all)" if total else "no hits"


def _emit_columns(rows: list[dict], columns: list[str]) -> None:
    """Left-aligned columns under a bold header; the last column is not padded."""
    cells = [[_cell(row.get(name)) for name in columns] for row in rows]
    widths = [max([len(name)] + [len(line[i]) for line in cells]) for i, name in enumerate(columns)]

    def line(values):
        padded = [v.ljust(w) for v, w in zip(values[:-1], widths, strict=False)]
        return "  ".join(padded + values[-1:])

    click.echo(click.style(line([name.upper() for name in columns]), bold=True))
    for values in cells:
        click.echo(line(values))


def _emit_rich_table(rows: list[dict], columns: list[str]) -> None:
    """The rows as a rich table fitted to the terminal; snippets with <mark> words in bold."""
    import html
    import re

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False, header_style="bold", expand=True)
    ratios = {"snippet": 4, "id": 3, "title": 2}
    for name in columns:
        table.add_column(
            name.upper(),
            overflow="fold",
            no_wrap=name in ("rank", "section_count"),
            ratio=ratios.get(name, 1) if name not in ("rank", "section_count") else None,
            justify="right" if name in ("rank", "section_count", "score") else "left",
        )
    for row in rows:
        cells = []
        for name in columns:
            value = row.get(name)
            if name == "snippet" and isinstance(value, str):
                text = Text()
                for i, part in enumerate(re.split(r"</?mark>", value)):
                    text.append(html.unescape(part), style="bold" if i % 2 else "")
                cells.append(text)
            else:
                cells.append(Text(_cell(value)))
        table.add_row(*cells)
    Console().print(table)


def _emit_record(record: dict, fields: list[str]) -> None:
    """One object as `field  value` lines; lists of refs and multi-line text indented below."""
    width = max(len(name) for name in fields)
    for name in fields:
        value = record.get(name)
        label = click.style(name.ljust(width), bold=True)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            click.echo(click.style(name, bold=True))
            for ref in value:
                click.echo(f"  {_cell(ref)}  {ref.get('title', '')}".rstrip())
        elif isinstance(value, str) and "\n" in value:
            click.echo(click.style(name, bold=True))
            for text_line in value.strip("\n").splitlines():
                click.echo(f"  {text_line}".rstrip())
        else:
            click.echo(f"{label}  {_cell(value)}")


def _emit_search_notes(body: dict) -> None:
    """Crisis notices first (they matter most), then the spelling correction."""
    for notice in body["notices"]:
        click.echo(click.style(f"{notice['title']}: {notice['message']}", fg="yellow", bold=True))
        for resource in notice["resources"]:
            parts = [resource.get(k) for k in ("name", "phone", "url", "text")]
            click.echo("  " + "  ".join(p for p in parts if p))
    if body["did_you_mean"]:
        verb = "Showing results for" if body["corrected"] else "Did you mean"
        click.echo(f"{verb}: {click.style(body['did_you_mean'], bold=True)}")
