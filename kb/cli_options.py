"""Options and settings every `kb` command shares (read through kb.config only)."""

from __future__ import annotations

import click

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


def cli_settings() -> dict:
    """Every setting, checked once per `kb` run; a bad value stops the command."""
    from kb.config import ConfigError, load_settings

    meta = click.get_current_context().find_root().meta
    if "kb.settings" not in meta:
        try:
            meta["kb.settings"] = load_settings()
        except ConfigError as exc:
            raise _ConfigProblem(exc) from None
    return meta["kb.settings"]


def setting_default(key: str):
    """An option's default: setting `key` from kb.config, checked on its own."""

    def default():
        from kb.config import ConfigError, setting

        try:
            return setting(key)
        except ConfigError as exc:
            raise _ConfigProblem(exc) from None

    return default


def corpus_option(help: str):
    """--corpus DIR, for every command that reads or writes the corpus."""
    return click.option(
        "--corpus",
        "corpus_dir",
        metavar="DIR",
        default=setting_default("KB_CORPUS_DIR"),
        show_default="$KB_CORPUS_DIR or corpus",
        type=click.Path(file_okay=False),
        help=help,
    )


def index_option(func):
    return click.option(
        "--index",
        "index_dir",
        metavar="DIR",
        default=setting_default("KB_INDEX_DIR"),
        show_default="$KB_INDEX_DIR or index",
        type=click.Path(file_okay=False),
        help="Directory of index builds.",
    )(func)
