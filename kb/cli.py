"""The `kb` command: a thin click layer over kb's library functions."""

from __future__ import annotations

import io
import sys

import click

from kb.cli_output import VIEWS, check_fields, emit, output_options


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


# --- lookups (kb.client / in-process API; formatting in kb.cli_output) ---
#
# Every lookup is one kb.client call. Without --url the client's requests go through the
# Flask app in this process (kb.cli_local), so local and remote answers are the same
# JSON by construction; this block only chooses the source and formats what comes back.


_HINTS = {
    "section_not_found": "find section ids with `kb search QUERY`",
    "article_not_found": "list article slugs with `kb articles`",
    "topic_not_found": "list topic ids with `kb topics`",
    "invalid_parameter": "see `kb {command} --help`",
    "connection_error": "is `kb serve` running there? Check --url or KB_URL",
    "timeout": "the server may be overloaded; try again",
}


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

    view = VIEWS[command]
    check_fields(view, fmt, fields)
    try:
        body = call(_client(index_dir, url))
    except KBError as exc:
        raise click.ClickException(_error_line(exc, command, url)) from None
    emit(body, view, fmt, fields)


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
