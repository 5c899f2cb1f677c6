"""The `kb` command: a thin click layer over kb's library functions."""

from __future__ import annotations

import io
import sys

import click

from kb.cli_eval import eval_command
from kb.cli_lookups import LOOKUP_COMMANDS
from kb.cli_options import cli_settings, corpus_option, index_option


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


def _import_options(command):
    """PATH, --corpus and --replace, shared by every `kb import` command."""
    command = click.option(
        "--replace", is_flag=True, help="Overwrite an article that already exists."
    )(command)
    command = corpus_option("Corpus directory to write into.")(command)
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
    "HTML page (its main content, found by trafilatura: menus, banners, comments dropped)",
    "kb import html page.html --corpus corpus",
)
_file_command(
    "markdown",
    "Markdown file (front matter optional)",
    "kb import markdown notes.md --replace",
)


@import_group.command("jsonl")
@_import_options
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the good records; report how many were skipped and why.",
)
def import_jsonl_command(path: str, corpus_dir: str, replace: bool, skip_invalid: bool) -> None:
    """Import a BEIR corpus.jsonl: one article per line, {"_id", "title", "text"}.

    Slugs come from _id ("MED-10" -> med-10). The whole file is checked before anything
    is written, so a bad record, a duplicate or an existing slug leaves the corpus
    untouched (path:line names the first). With --skip-invalid, records with invalid JSON,
    no _id or no text are skipped and counted instead.

    \b
    Example:
      kb import jsonl datasets/scifact/corpus.jsonl --corpus /tmp/scifact
      kb import jsonl datasets/cranfield/corpus.jsonl --corpus /tmp/c --skip-invalid
    """
    import sys

    from kb import importer

    skipped: list | None = [] if skip_invalid else None

    def run() -> int:
        if not sys.stdout.isatty():
            return importer.import_jsonl(path, corpus_dir, replace=replace, skipped=skipped)
        with open(path, "rb") as lines:
            total = sum(1 for line in lines if line.strip())
        with click.progressbar(length=total, label="Importing") as bar:
            return importer.import_jsonl(
                path, corpus_dir, replace=replace, progress=bar.update, skipped=skipped
            )

    count = _call_importer(run)
    click.echo(f"Imported {count} articles into {corpus_dir}")
    if skipped:
        click.echo(f"Skipped {len(skipped)} invalid record(s):")
        for error in skipped[:5]:
            click.echo(f"  {error}")
        if len(skipped) > 5:
            click.echo(f"  ... and {len(skipped) - 5} more")


# --- check / build (kb.corpus, kb.index) ------------------------------------


def _taxonomy():
    """The taxonomy this run builds with: KB_TAXONOMY, else the packaged one."""
    from kb.config import taxonomy_path
    from kb.taxonomy import TaxonomyError, load_taxonomy

    path = taxonomy_path(cli_settings())
    try:
        return load_taxonomy(path)
    except (OSError, TaxonomyError) as exc:
        raise click.ClickException(f"{path}: {exc}") from None


def _load_corpus_or_fail(corpus_dir: str, taxonomy, *, tag: bool = True, progress=None):
    """The corpus, validated and (unless `tag` is False) tagged with topics, the build
    step; a bad file stops with its path:line error."""
    from kb.corpus import CorpusError, load_corpus
    from kb.topics import tag_articles

    try:
        articles = load_corpus(corpus_dir, taxonomy, progress=progress)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None
    return tag_articles(articles, taxonomy) if tag else articles


def _build_digest(corpus_dir: str, taxonomy, digests=None) -> str:
    """What a build is made from: the corpus files and the taxonomy data."""
    import hashlib

    from kb.corpus import corpus_digest
    from kb.index import taxonomy_digest

    corpus = corpus_digest(corpus_dir, digests)
    return hashlib.sha256(f"{corpus}\0{taxonomy_digest(taxonomy)}".encode()).hexdigest()


@main.command()
@corpus_option("Directory of Markdown articles.")
@click.option(
    "--strict", is_flag=True, help="Fail (exit 1) on warnings too: overdue reviews, headings."
)
@click.option(
    "--table",
    "as_table",
    is_flag=True,
    help="One row per section: words, reading grade (Flesch-Kincaid) and topics.",
)
def check(corpus_dir: str, strict: bool, as_table: bool) -> None:
    """Validate the corpus and summarise its articles, sections and topics.

    Errors (a file kb cannot read) stop with path:line and exit 1. Warnings (a review
    date that has passed, a heading that seems to name a neighbouring section's text) are
    printed as path:line and exit 0, unless --strict.

    \b
    Example:
      kb check --corpus corpus/
      kb check --table --strict
    """
    from datetime import date

    from kb.analysis import analyzer_for
    from kb.corpus import reading_grade
    from kb.lint import corpus_warnings

    taxonomy = _taxonomy()
    articles = _load_corpus_or_fail(corpus_dir, taxonomy)
    sections = 0
    for article in articles:
        click.echo(f"{article.slug}  ({len(article.sections)} sections)  {article.title}")
        click.echo(f"  {_review_line(article)}")
        if as_table:
            click.echo(f"  {'SECTION':60s} {'WORDS':>6s} {'GRADE':>6s}  TOPICS")
        for section in article.sections:
            topics = ", ".join(section.topics) or "-"
            if as_table:
                click.echo(
                    f"  {section.anchor[:60]:60s} {section.word_count:6d} "
                    f"{reading_grade(section.text):6.1f}  {topics}"
                )
            else:
                click.echo(f"  {section.id}  [{topics}]")
        sections += len(article.sections)
    warnings = corpus_warnings(articles, date.today(), analyzer_for(taxonomy))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    summary = f"{len(articles)} articles, {sections} sections in {corpus_dir}"
    if warnings and strict:
        raise click.ClickException(f"{len(warnings)} warning(s) with --strict: {summary}")
    suffix = f", {len(warnings)} warning(s)" if warnings else ""
    click.echo(f"ok: {summary}{suffix}")


def _review_line(article) -> str:
    """'reviewed 2025-09-01 by ..., next review due 2028-09-01' or 'not reviewed'."""
    if article.reviewed is None:
        text = "not reviewed"
    else:
        text = f"reviewed {article.reviewed.isoformat()}"
        if article.reviewed_by:
            text += f" by {article.reviewed_by}"
    if article.next_review is not None:
        text += f", next review due {article.next_review.isoformat()}"
    return text


class _Phases:
    """`kb build`'s progress on stderr from the first second: one line per phase with the
    time the previous one took, and on a terminal a bar while files are read and indexed."""

    def __init__(self, enabled: bool):
        import time

        self.enabled, self.clock = enabled, time.perf_counter
        self.name, self.started = "", self.clock()

    def __call__(self, name: str) -> None:
        self.end()
        self.name, self.started = name, self.clock()
        if self.enabled:
            click.echo(f"kb build: {name}...", err=True)

    def end(self) -> None:
        if self.enabled and self.name:
            click.echo(f"kb build: {self.name} took {self.clock() - self.started:.1f} s", err=True)
        self.name = ""

    def bar(self, length: int, label: str):
        """A click progress bar on a terminal (click draws none elsewhere)."""
        terminal = self.enabled and sys.stderr.isatty()
        return click.progressbar(
            length=length, label=label, file=sys.stderr if terminal else io.StringIO()
        )


def build_from_corpus(
    corpus_dir: str, index_dir: str, show_progress: bool, full: bool = False
) -> str:
    """Validate the corpus, then build and switch in a new index. Returns a summary line.

    Unless `full`, a build starts from the live one when it can (kb.index.previous_build):
    only files whose content digest changed are read and indexed again. With
    `show_progress`, each phase (reading, indexing, committing, writing the build) is
    reported on stderr as it starts and ends. The cyclic garbage collector is off
    meanwhile (kb.workers.collector_paused).
    """
    from kb.workers import collector_paused

    with collector_paused():
        return _build_from_corpus(corpus_dir, index_dir, show_progress, full)


def _build_from_corpus(corpus_dir: str, index_dir: str, show_progress: bool, full: bool) -> str:
    from kb.corpus import PARALLEL_MIN_FILES, CorpusError, file_count, file_digests, load_corpus
    from kb.index import build_index, previous_build
    from kb.workers import warm_up

    phases = _Phases(show_progress)
    taxonomy = _taxonomy()
    phases("reading the corpus")
    try:
        previous = None if full else previous_build(index_dir, taxonomy)
        if previous is None and file_count(corpus_dir) >= PARALLEL_MIN_FILES:
            warm_up()  # its processes will read and index: their fork server starts now
        stats: dict = {}
        known = previous.meta.get("stats") if previous else None
        digests = file_digests(corpus_dir, known if isinstance(known, dict) else None, stats)
        reuse = previous.reusable(digests) if previous else {}
        with phases.bar(len(digests), "Reading articles") as bar:
            articles = load_corpus(corpus_dir, taxonomy, progress=bar.update, reuse=reuse)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None
    with phases.bar(len(articles), "Indexing articles") as bar:
        build = build_index(
            articles,
            index_dir,
            progress=bar.update,
            corpus_digest=_build_digest(corpus_dir, taxonomy, digests),
            taxonomy=taxonomy,
            phase=phases,
            files=digests,
            stats=stats,
            previous=previous,
        )
    phases.end()
    sections = sum(len(a.sections) for a in articles)
    how = (
        f"updated {len(articles) - len(reuse)} of {len(articles)} articles"
        if previous
        else f"{len(articles)} articles"
    )
    return f"built {build.name}: {how}, {sections} sections -> {index_dir}"


@main.command()
@corpus_option("Directory of Markdown articles.")
@index_option
@click.option(
    "--full",
    is_flag=True,
    help="Index every article again instead of only the files that changed.",
)
def build(corpus_dir: str, index_dir: str, full: bool) -> None:
    """Build the search index from the corpus, atomically.

    The new index is written beside the live one and switched in only when complete; a
    corpus error stops the build with `path:line: message` and leaves the live index alone.
    Builds are incremental: files whose content digest is unchanged since the live build
    are neither read nor indexed again (a new taxonomy or kb version forces a full build).

    \b
    Example:
      kb build --corpus corpus/ --index index/
      kb build --full
    """
    cli_settings()
    click.echo(build_from_corpus(corpus_dir, index_dir, show_progress=True, full=full))


@main.command()
@corpus_option("Directory of Markdown articles.")
@index_option
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

    settings = {**cli_settings(), "KB_INDEX_DIR": index_dir}
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


@main.group("export")
def export_group() -> None:
    """Export the corpus in bulk, for notebooks, spreadsheets and reports."""


@export_group.command("sections")
@corpus_option("Directory of Markdown articles.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="JSON Lines (one object per line) or CSV with a header row.",
)
@click.option("--topic", metavar="ID", help="Only sections with this topic id.")
@click.option("--article", metavar="SLUG", help="Only sections of this article.")
def export_sections(corpus_dir: str, fmt: str, topic: str | None, article: str | None) -> None:
    """Every section with its article, topics, review dates, URL and text, to stdout.

    Streamed article by article (flat memory on any corpus size), UTF-8, columns always in
    the same order (see kb/export.py and README). Topics are assigned as a build would.

    \b
    Example:
      kb export sections --format csv > sections.csv
      kb export sections --topic medication --format jsonl
    """
    from kb.corpus import CorpusError
    from kb.export import iter_section_rows, write_rows

    taxonomy = _taxonomy()
    if topic is not None and topic not in taxonomy.by_id:
        raise click.BadParameter(f"unknown topic {topic!r}; see `kb topics`", param_hint="--topic")
    settings = cli_settings()
    rows = iter_section_rows(
        corpus_dir,
        taxonomy,
        topic=topic,
        article=article,
        public_url=settings.get("KB_PUBLIC_URL", ""),
    )
    out = sys.stdout
    if getattr(out, "encoding", "utf-8").lower().replace("-", "") != "utf8":
        out.reconfigure(encoding="utf-8")  # UTF-8 whatever the locale says
    try:
        count = write_rows(rows, out, fmt)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"exported {count} sections", err=True)


@main.command("widget-snippet")
@click.option(
    "--base-url",
    metavar="URL",
    help="Where clinics reach this kb (default: KB_PUBLIC_URL, else http://127.0.0.1:5000).",
)
def widget_snippet(base_url: str | None) -> None:
    """Print the tag that embeds the search widget, pinned to this release with SRI, and a
    <noscript> search form for visitors without JavaScript.

    The script URL names this exact version (/widget/<version>/kb-search.js, served as
    immutable) and `integrity` holds its SHA-384, so a browser refuses the file if it ever
    differs. For fixes within the major version without changing the tag, use
    /widget/v<major>/kb-search.js without `integrity`. The <noscript> form is plain HTML (a
    label, a search box and a button, no style) that sends the query to kb's results page,
    <base>/search.

    \b
    Example:
      kb widget-snippet --base-url https://kb.clinic.example
    """
    import base64
    import hashlib
    from html import escape
    from pathlib import Path

    from kb import __version__

    base = (base_url or cli_settings().get("KB_PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise click.BadParameter(f"{base!r} is not an http(s) URL", param_hint="--base-url")
    script = Path(__file__).parent / "static" / "widget" / "kb-search.js"
    digest = base64.b64encode(hashlib.sha384(script.read_bytes()).digest()).decode()
    attr = escape(base, quote=True)  # safe inside an attribute whatever the URL holds
    click.echo(
        f'<script src="{attr}/widget/{__version__}/kb-search.js"\n'
        f'        integrity="sha384-{digest}"\n'
        '        crossorigin="anonymous"\n'
        f'        data-kb-api="{attr}"></script>\n'
        "<noscript>\n"
        f'  <form role="search" method="get" action="{attr}/search">\n'
        '    <label>Search the knowledge base <input type="search" name="q"></label>\n'
        '    <button type="submit">Search</button>\n'
        "  </form>\n"
        "</noscript>"
    )


for _command in LOOKUP_COMMANDS:
    main.add_command(_command)
main.add_command(eval_command)
