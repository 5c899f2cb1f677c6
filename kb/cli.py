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


# --- import (kb.importer) ---------------------------------------------------


@main.group("import")
def import_group() -> None:
    """Import articles into the corpus as Markdown files (<corpus>/<slug>.md).

    Text pages are cleaned of site chrome by the rules in kb.importer.RULES.

    \b
    Example:
      kb import text seed.txt --slug bpd-treatment-in-real-sessions
    """


def _default_corpus_dir() -> str:
    import os

    return os.environ.get("KB_CORPUS_DIR", "corpus")


def _import_options(command):
    """PATH, --corpus and --replace, shared by every `kb import` command."""
    command = click.option(
        "--replace", is_flag=True, help="Overwrite an article that already exists."
    )(command)
    command = click.option(
        "--corpus",
        "corpus_dir",
        metavar="DIR",
        default=_default_corpus_dir,
        show_default="$KB_CORPUS_DIR or corpus",
        help="Corpus directory to write into.",
    )(command)
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
    "Markdown file, with or without front matter",
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
    from kb import importer

    def run() -> int:
        if not click.get_text_stream("stdout").isatty():
            return importer.import_jsonl(path, corpus_dir, replace=replace)
        with open(path, "rb") as lines:
            total = sum(1 for line in lines if line.strip())
        with click.progressbar(length=total, label="Importing") as bar:
            return importer.import_jsonl(path, corpus_dir, replace=replace, progress=bar.update)

    count = _call_importer(run)
    click.echo(f"Imported {count} articles into {corpus_dir}")


# --- check / build (kb.corpus, kb.index) ------------------------------------


def _corpus_option(func):
    return click.option(
        "--corpus", "corpus_dir", envvar="KB_CORPUS_DIR", default="corpus", show_default=True,
        type=click.Path(file_okay=False), help="Directory of Markdown articles.",
    )(func)


def _index_option(func):
    return click.option(
        "--index", "index_dir", envvar="KB_INDEX_DIR", default="index", show_default=True,
        type=click.Path(file_okay=False), help="Directory of index builds.",
    )(func)


def _load_corpus_or_fail(corpus_dir: str):
    from kb.corpus import CorpusError, load_corpus

    try:
        return load_corpus(corpus_dir)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@_corpus_option
def check(corpus_dir: str) -> None:
    """Validate the corpus and summarise its articles, sections and topics.

    \b
    Example:
      kb check --corpus corpus/
    """
    articles = _load_corpus_or_fail(corpus_dir)
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
    from kb.corpus import corpus_digest
    from kb.index import build_index

    articles = _load_corpus_or_fail(corpus_dir)
    digest = corpus_digest(corpus_dir)
    # click draws the bar only when stderr is a terminal.
    with click.progressbar(length=len(articles), label="Indexing articles",
                           file=sys.stderr if show_progress else io.StringIO()) as bar:
        build = build_index(articles, index_dir, progress=bar.update, corpus_digest=digest)
    sections = sum(len(a.sections) for a in articles)
    return f"built {build.name}: {len(articles)} articles, {sections} sections -> {index_dir}"


@main.command()
@_corpus_option
@_index_option
def build(corpus_dir: str, index_dir: str) -> None:
    """Build the search index from the corpus, atomically.

    The new index is written beside the live one and switched in only when complete; a
    corpus error stops the build with `path:line: message` and leaves the live index alone.

    \b
    Example:
      kb build --corpus corpus/ --index index/
    """
    click.echo(build_from_corpus(corpus_dir, index_dir, show_progress=sys.stderr.isatty()))


@main.command()
@_corpus_option
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
    import os

    from kb.corpus import corpus_digest
    from kb.index import build_is_current
    from kb.serving import run_development_server

    if not no_build and not build_is_current(index_dir, corpus_digest(corpus_dir)):
        click.echo(build_from_corpus(corpus_dir, index_dir, show_progress=False))
    os.environ["KB_INDEX_DIR"] = index_dir
    run_development_server(host, port)
