"""The `kb` command: a thin click layer over kb's library functions."""

from __future__ import annotations

import io
import sys

import click


@click.group()
@click.version_option(package_name="kb")
def main() -> None:
    """kb: a searchable knowledge base of clinical articles.

    \b
    Example:
      kb check && kb build && kb serve
    """


# --- settings (kb.config) --------------------------------------------------
#
# kb.config reads the KB_* environment variables; commands read settings only through it.
# A command that needs every setting (build, serve, in-process lookups, get) checks them all
# once; an option default checks only its own. Bad values are one `Error:` line each.


class _ConfigProblem(click.ClickException):
    """Bad settings: `Error: KEY: why` on stderr for each bad value, then exit 1."""

    def __init__(self, error):
        super().__init__(str(error))
        self.lines = error.lines

    def show(self, file=None) -> None:
        for line in self.lines:
            click.echo(f"Error: {line}", file=file, err=file is None)


def _settings() -> dict:
    """Every setting, checked once per `kb` run; a bad value stops the command."""
    from kb.config import ConfigError, load_settings

    meta = click.get_current_context().find_root().meta
    if "kb.settings" not in meta:
        try:
            meta["kb.settings"] = load_settings()
        except ConfigError as exc:
            raise _ConfigProblem(exc) from None
    return meta["kb.settings"]


def _setting_default(key: str):
    """An option's default: setting `key` from kb.config, checked on its own."""

    def default():
        from kb.config import ConfigError, setting

        try:
            return setting(key)
        except ConfigError as exc:
            raise _ConfigProblem(exc) from None

    return default


def _corpus_option(help: str):
    """--corpus DIR, for every command that reads or writes the corpus."""
    return click.option(
        "--corpus",
        "corpus_dir",
        metavar="DIR",
        default=_setting_default("KB_CORPUS_DIR"),
        show_default="$KB_CORPUS_DIR or corpus",
        type=click.Path(file_okay=False),
        help=help,
    )


def _index_option(func):
    return click.option(
        "--index",
        "index_dir",
        metavar="DIR",
        default=_setting_default("KB_INDEX_DIR"),
        show_default="$KB_INDEX_DIR or index",
        type=click.Path(file_okay=False),
        help="Directory of index builds.",
    )(func)


# --- import (kb.importer) ---------------------------------------------------


@main.group("import")
def import_group() -> None:
    """Import articles into the corpus as Markdown files (<corpus>/<slug>.md).

    Text pages are cleaned of site chrome by the rules in kb.importer.RULES.

    \b
    Example:
      kb import text seed.txt --slug bpd-treatment-in-real-sessions
    """


def _import_options(command):
    """PATH, --corpus and --replace, shared by every `kb import` command."""
    command = click.option(
        "--replace", is_flag=True, help="Overwrite an article that already exists."
    )(command)
    command = _corpus_option("Corpus directory to write into.")(command)
    return click.argument("path", type=click.Path(exists=True, dir_okay=False))(command)


def _call_importer(action):
    """Run an importer call, turning its errors into one-line messages for the user."""
    from kb.importer import ArticleExists, ImporterError

    try:
        return action()
    except ArticleExists as exc:
        raise click.ClickException(
            f"{exc.path} already exists (use --replace to overwrite it)"
        ) from None
    except ImporterError as exc:
        raise click.ClickException(str(exc)) from None
    except UnicodeDecodeError:
        raise click.ClickException("the file is not UTF-8 text") from None


def _file_command(kind: str, what: str, example: str):
    """`kb import text|html|markdown`: one file, one article."""

    @import_group.command(
        kind,
        help=f"Import one {what} as an article.\n\n\b\nExample:\n  {example}",
    )
    @_import_options
    @click.option("--slug", help="File name and id of the article (default: from its title).")
    def command(path: str, corpus_dir: str, replace: bool, slug: str | None) -> None:
        from kb import importer

        def run():
            article = importer.import_file(kind, path, slug=slug)
            return importer.write_article(article, corpus_dir, replace=replace)

        click.echo(f"Wrote {_call_importer(run)}")

    return command


_file_command(
    "text",
    "page copied as plain text (banner, share buttons, ads and related articles are dropped)",
    "kb import text seed.txt --slug bpd-treatment-in-real-sessions",
)
_file_command(
    "html",
    "HTML page (nav, header, footer, aside, form, script and style are dropped)",
    "kb import html page.html --corpus corpus",
)
_file_command(
    "markdown",
    "Markdown file (front matter optional)",
    "kb import markdown notes.md --replace",
)


@import_group.command("jsonl")
@_import_options
def import_jsonl_command(path: str, corpus_dir: str, replace: bool) -> None:
    """Import a BEIR corpus.jsonl: one article per line, {"_id", "title", "text"}.

    Slugs come from _id ("MED-10" -> med-10). The whole file is checked before anything
    is written, so a duplicate or existing slug leaves the corpus untouched.

    \b
    Example:
      kb import jsonl datasets/scifact/corpus.jsonl --corpus /tmp/scifact
    """
    import sys

    from kb import importer

    def run() -> int:
        if not sys.stdout.isatty():
            return importer.import_jsonl(path, corpus_dir, replace=replace)
        with open(path, "rb") as lines:
            total = sum(1 for line in lines if line.strip())
        with click.progressbar(length=total, label="Importing") as bar:
            return importer.import_jsonl(path, corpus_dir, replace=replace, progress=bar.update)

    count = _call_importer(run)
    click.echo(f"Imported {count} articles into {corpus_dir}")


# --- check / build (kb.corpus, kb.index) ------------------------------------


def _taxonomy():
    """The taxonomy this run builds with: KB_TAXONOMY, else the packaged one."""
    from kb.config import taxonomy_path
    from kb.taxonomy import TaxonomyError, load_taxonomy

    path = taxonomy_path(_settings())
    try:
        return load_taxonomy(path)
    except (OSError, TaxonomyError) as exc:
        raise click.ClickException(f"{path}: {exc}") from None


def _load_corpus_or_fail(corpus_dir: str, taxonomy):
    """The corpus, validated and tagged with topics (the build step), or a path:line error."""
    from kb.corpus import CorpusError, load_corpus
    from kb.topics import tag_articles

    try:
        return tag_articles(load_corpus(corpus_dir, taxonomy), taxonomy)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None


def _build_digest(corpus_dir: str, taxonomy) -> str:
    """What a build is made from: the corpus files and the taxonomy data."""
    import hashlib
    import json

    from kb.corpus import corpus_digest

    data = json.dumps(taxonomy.data, sort_keys=True, default=str).encode()
    return hashlib.sha256(corpus_digest(corpus_dir).encode() + b"\0" + data).hexdigest()


@main.command()
@_corpus_option("Directory of Markdown articles.")
def check(corpus_dir: str) -> None:
    """Validate the corpus and summarise its articles, sections and topics.

    \b
    Example:
      kb check --corpus corpus/
    """
    articles = _load_corpus_or_fail(corpus_dir, _taxonomy())
    sections = 0
    for article in articles:
        click.echo(f"{article.slug}  ({len(article.sections)} sections)  {article.title}")
        for section in article.sections:
            topics = ", ".join(section.topics) or "-"
            click.echo(f"  {section.id}  [{topics}]")
        sections += len(article.sections)
    click.echo(f"ok: {len(articles)} articles, {sections} sections in {corpus_dir}")


def build_from_corpus(corpus_dir: str, index_dir: str, show_progress: bool) -> str:
    """Validate the corpus, then build and switch in a new index. Returns a summary line."""
    from kb.index import build_index

    taxonomy = _taxonomy()
    articles = _load_corpus_or_fail(corpus_dir, taxonomy)
    digest = _build_digest(corpus_dir, taxonomy)
    # click draws the bar only when stderr is a terminal.
    with click.progressbar(
        length=len(articles),
        label="Indexing articles",
        file=sys.stderr if show_progress else io.StringIO(),
    ) as bar:
        build = build_index(
            articles, index_dir, progress=bar.update, corpus_digest=digest, taxonomy=taxonomy
        )
    sections = sum(len(a.sections) for a in articles)
    return f"built {build.name}: {len(articles)} articles, {sections} sections -> {index_dir}"


@main.command()
@_corpus_option("Directory of Markdown articles.")
@_index_option
def build(corpus_dir: str, index_dir: str) -> None:
    """Build the search index from the corpus, atomically.

    The new index is written beside the live one and switched in only when complete; a
    corpus error stops the build with `path:line: message` and leaves the live index alone.

    \b
    Example:
      kb build --corpus corpus/ --index index/
    """
    _settings()
    click.echo(build_from_corpus(corpus_dir, index_dir, show_progress=sys.stderr.isatty()))


@main.command()
@_corpus_option("Directory of Markdown articles.")
@_index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-build", is_flag=True, help="Serve the existing index even if stale.")
def serve(corpus_dir: str, index_dir: str, host: str, port: int, no_build: bool) -> None:
    """Serve the API with the development server, building the index first if needed.

    For production run gunicorn instead:  gunicorn -c gunicorn.conf.py wsgi:app

    \b
    Example:
      kb serve --port 8000
    """
    from kb.index import build_is_current
    from kb.serving import CannotListen, listen, run_development_server

    settings = {**_settings(), "KB_INDEX_DIR": index_dir}
    try:
        sock = listen(host, port)  # a taken port fails now, before building or printing
    except CannotListen as exc:
        raise click.ClickException(str(exc)) from None
    try:
        if not no_build and not build_is_current(index_dir, _build_digest(corpus_dir, _taxonomy())):
            click.echo(build_from_corpus(corpus_dir, index_dir, show_progress=False))
        run_development_server(host, port, settings, sock=sock)
    finally:
        sock.close()


# --- lookups (kb.client / in-process API) ---
#
# Every lookup is one kb.client call. Without --url the client's requests go through the
# Flask app in this process (kb.cli_local), so local and remote answers are the same
# JSON by construction; this block only chooses the source and formats what comes back.


class _View:
    """How a command's JSON is shown: where its rows are, their schema, the table columns."""

    def __init__(
        self,
        schema: str,
        columns: tuple[str, ...],
        rows: str | None = None,
        extra: tuple[str, ...] = (),
    ):
        self.schema = schema  # class name in kb.api.schemas: the fields --fields may pick
        self.columns = columns  # default --table columns
        self.rows = rows  # key of the list of rows in the body; None: the body is one row
        self.extra = extra  # table-only columns computed here (search's rank)

    def fields(self) -> list[str]:
        from kb.api import schemas

        return list(getattr(schemas, self.schema)().fields)

    def row_list(self, body: dict) -> list[dict]:
        return body[self.rows] if self.rows else [body]


_VIEWS = {
    "search": _View("HitSchema", ("rank", "title", "article", "id"), "hits", ("rank",)),
    "section": _View(
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
    "related": _View("SectionRefSchema", ("id", "title", "article"), "related"),
    "articles": _View(
        "ArticleSummarySchema", ("slug", "title", "section_count", "topics"), "articles"
    ),
    "article": _View(
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
    "topics": _View("TopicSchema", ("id", "label", "parent", "section_count"), "topics"),
    "topic": _View(
        "TopicDetailSchema",
        ("id", "label", "parent", "abbreviations", "synonyms", "section_count", "sections"),
    ),
    "suggest": _View("SuggestionSchema", ("text", "kind", "section_id"), "suggestions"),
}

_HINTS = {
    "section_not_found": "find section ids with `kb search QUERY`",
    "article_not_found": "list article slugs with `kb articles`",
    "topic_not_found": "list topic ids with `kb topics`",
    "invalid_parameter": "see `kb {command} --help`",
    "connection_error": "is `kb serve` running there? Check --url or KB_URL",
    "timeout": "the server may be overloaded; try again",
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
    """--json (default), --table, --nl and --fields, shared by every lookup command."""
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
            "--fields",
            metavar="A,B",
            callback=_split_fields,
            help="Only these fields of each row (e.g. id,title).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _client_url() -> str | None:
    from kb.config import client_url

    return client_url()


def source_options(command):
    """--index and --url: read the local index in-process, or ask a kb server."""
    command = click.option(
        "--url",
        default=_client_url,
        metavar="URL",
        help="Ask the kb server at URL (e.g. http://127.0.0.1:5000) instead of the index. "
        "[env: KB_URL]",
    )(command)
    return _index_option(command)


def _client(index_dir: str, url: str | None):
    """The KBClient for --url, else one that runs the API in-process over --index."""
    from kb.client import KBClient
    from kb.index import IndexNotFound, current_build

    if url:
        if not url.startswith(("http://", "https://")):
            raise click.BadParameter(
                f"{url!r} is not an http:// or https:// URL", param_hint="--url"
            )
        return KBClient(url)
    try:
        current_build(index_dir)
    except IndexNotFound as exc:
        raise click.ClickException(str(exc)) from None
    from kb.cli_local import in_process_client

    return in_process_client(index_dir, _settings())


def _error_line(exc, command: str, url: str | None) -> str:
    """One line for a failed lookup: what went wrong, then a hint when there is one.

    The API's own hints name API paths (kb.api.errors.API_HINTS, e.g. "find ids with
    /api/v1/search"); they are replaced by the matching `kb` command.
    """
    from kb.api.errors import API_HINTS
    from kb.client import ServerError

    api_hint = API_HINTS.get(exc.code)
    message = exc.message.removesuffix(f"; {api_hint}") if api_hint else exc.message
    if isinstance(exc, ServerError) and exc.status is not None and url:
        message = f"kb at {url} answered {exc.status} {exc.code}: {message}"
    hint = _HINTS.get(exc.code)
    return f"{message.rstrip('.')}. Hint: {hint.format(command=command)}" if hint else message


def _lookup(
    command: str, call, index_dir: str, url: str | None, fmt: str, fields: list[str] | None
) -> None:
    """Check --fields, make the call through kb.client, print its JSON as asked."""
    from kb.client import KBError

    view = _VIEWS[command]
    _check_fields(view, fmt, fields)
    try:
        body = call(_client(index_dir, url))
    except KBError as exc:
        raise click.ClickException(_error_line(exc, command, url)) from None
    _emit(body, view, fmt, fields)


def _check_fields(view: _View, fmt: str, fields: list[str] | None) -> None:
    """Unknown --fields names are a usage error (exit 2), reported before any request."""
    known = view.fields() + (list(view.extra) if fmt == "table" else [])
    unknown = [name for name in fields or () if name not in known]
    if unknown:
        raise click.BadParameter(
            f"no field {unknown[0]!r}; choose from {', '.join(known)}", param_hint="--fields"
        )


def _emit(body: dict, view: _View, fmt: str, fields: list[str] | None) -> None:
    """Print the API's JSON: as it is (indent 2), one row per line, or as a table.

    Indenting always, even in pipes, keeps the output identical wherever it goes; --nl is
    the compact form for pipes.
    """
    import json

    if fmt == "table":
        _emit_table(body, view, fields)
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


def _emit_table(body: dict, view: _View, fields: list[str] | None) -> None:
    """Rows as columns (search adds rank, notices and a footer); one object as records."""
    columns = fields or list(view.columns)
    if view.rows is None:
        _emit_record(body, columns)
        return
    rows = view.row_list(body)
    if view.extra:  # search: rank is the hit's position in the whole result list
        rows = [{"rank": body["offset"] + i + 1, **row} for i, row in enumerate(rows)]
    if view.rows == "hits":
        _emit_search_notes(body)
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


@main.command("search")
@click.argument("query")
@click.option("--topic", metavar="ID", help="Only sections with this topic id.")
@click.option("--article", metavar="SLUG", help="Only sections of this article.")
@click.option("--limit", type=int, default=10, show_default=True, help="Hits per page (1-50).")
@click.option("--offset", type=int, default=0, show_default=True, help="Hits to skip.")
@click.option(
    "--syntax",
    metavar="plain|advanced",
    help="`advanced` enables Whoosh query syntax (AND, OR, field:term).",
)
@source_options
@output_options
def search_command(query, topic, article, limit, offset, syntax, index_dir, url, fmt, fields):
    """Search sections; rows are hits, best first.

    \b
    Examples:
      kb search mentalization --table
      kb search "emotion regulation" --topic emotion-regulation --nl --fields id,title
      kb search medicaton --url http://127.0.0.1:5000
    """
    _lookup(
        "search",
        lambda c: c.search(
            query, limit=limit, offset=offset, topic=topic, article=article, syntax=syntax
        ),
        index_dir,
        url,
        fmt,
        fields,
    )


@main.command("section")
@click.argument("section_id", metavar="ID")
@source_options
@output_options
def section_command(section_id, index_dir, url, fmt, fields):
    """Show one section (id: <article-slug>:<anchor>) with its Markdown text.

    \b
    Example:
      kb section psychotherapy-for-personality-disorders:introduction --table
    """
    _lookup("section", lambda c: c.section(section_id), index_dir, url, fmt, fields)


@main.command("related")
@click.argument("section_id", metavar="ID")
@click.option("--limit", type=int, default=5, show_default=True, help="How many (1-20).")
@source_options
@output_options
def related_command(section_id, limit, index_dir, url, fmt, fields):
    """List the sections most like section ID ("more like this").

    \b
    Example:
      kb related psychotherapy-for-personality-disorders:introduction --limit 3 --table
    """
    _lookup("related", lambda c: c.related(section_id, limit=limit), index_dir, url, fmt, fields)


@main.command("articles")
@source_options
@output_options
def articles_command(index_dir, url, fmt, fields):
    """List every article, in slug order.

    \b
    Example:
      kb articles --table
    """
    _lookup("articles", lambda c: c.articles(), index_dir, url, fmt, fields)


@main.command("article")
@click.argument("slug")
@source_options
@output_options
def article_command(slug, index_dir, url, fmt, fields):
    """Show one article and its table of contents.

    \b
    Example:
      kb article psychotherapy-for-personality-disorders --table
    """
    _lookup("article", lambda c: c.article(slug), index_dir, url, fmt, fields)


@main.command("topics")
@source_options
@output_options
def topics_command(index_dir, url, fmt, fields):
    """List the topic taxonomy with section counts.

    \b
    Example:
      kb topics --table --fields id,label,section_count
    """
    _lookup("topics", lambda c: c.topics(), index_dir, url, fmt, fields)


@main.command("topic")
@click.argument("topic_id", metavar="ID")
@source_options
@output_options
def topic_command(topic_id, index_dir, url, fmt, fields):
    """Show one topic and the sections tagged with it.

    \b
    Example:
      kb topic mentalization --table
    """
    _lookup("topic", lambda c: c.topic(topic_id), index_dir, url, fmt, fields)


@main.command("suggest")
@click.argument("prefix")
@click.option("--limit", type=int, default=8, show_default=True, help="How many (1-20).")
@source_options
@output_options
def suggest_command(prefix, limit, index_dir, url, fmt, fields):
    """Complete PREFIX (2+ characters) to section titles, topics and words.

    \b
    Example:
      kb suggest menta --nl
    """
    _lookup("suggest", lambda c: c.suggest(prefix, limit=limit), index_dir, url, fmt, fields)


@main.command("get")
@click.argument("path")
@_index_option
def get_command(path, index_dir):
    """GET an API PATH in-process and print the response body (JSON indented by 2).

    Needs no server. Exits 0 on a 2xx answer and 1 otherwise (the error body is still
    printed, and the status on stderr).

    \b
    Examples:
      kb get /api/v1/health
      kb get "/api/v1/search?q=mentalization&limit=3"
    """
    import json

    from kb.api import create_app

    app = create_app(settings={**_settings(), "KB_INDEX_DIR": index_dir})
    response = app.test_client().get(path if path.startswith("/") else "/" + path)
    if response.is_json:
        click.echo(json.dumps(response.get_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(response.get_data(as_text=True))
    if not 200 <= response.status_code < 300:
        click.echo(f"Error: HTTP {response.status}", err=True)
        click.get_current_context().exit(1)
