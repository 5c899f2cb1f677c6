"""The `kb` lookup commands: search, section, related, articles, article, topics, topic,
suggest and get, in-process over the local index or through kb.client with --url."""

from __future__ import annotations

import click

from kb.cli_options import cli_settings, index_option
from kb.cli_output import VIEWS, check_fields, emit, output_options

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
    return index_option(command)


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

    return in_process_client(index_dir, cli_settings())


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


@click.command("search")
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


@click.command("section")
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


@click.command("related")
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


@click.command("articles")
@source_options
@output_options
def articles_command(index_dir, url, fmt, fields):
    """List every article, in slug order.

    \b
    Example:
      kb articles --table
    """
    _lookup("articles", lambda c: c.articles(), index_dir, url, fmt, fields)


@click.command("article")
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


@click.command("topics")
@source_options
@output_options
def topics_command(index_dir, url, fmt, fields):
    """List the topic taxonomy with section counts.

    \b
    Example:
      kb topics --table --fields id,label,section_count
    """
    _lookup("topics", lambda c: c.topics(), index_dir, url, fmt, fields)


@click.command("topic")
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


@click.command("suggest")
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


@click.command("get")
@click.argument("path")
@index_option
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

    app = create_app(settings={**cli_settings(), "KB_INDEX_DIR": index_dir})
    response = app.test_client().get(path if path.startswith("/") else "/" + path)
    if response.is_json:
        click.echo(json.dumps(response.get_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(response.get_data(as_text=True))
    if not 200 <= response.status_code < 300:
        click.echo(f"Error: HTTP {response.status}", err=True)
        click.get_current_context().exit(1)


LOOKUP_COMMANDS = (
    search_command,
    section_command,
    related_command,
    articles_command,
    article_command,
    topics_command,
    topic_command,
    suggest_command,
    get_command,
)
