"""Writing imported articles into the corpus atomically; importing a whole JSONL file."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from kb.importer.blocks import ArticleExists, DuplicateSlug, ImportedArticle
from kb.importer.readers import iter_jsonl

# --- writing ------------------------------------------------------------------------------------


def article_path(corpus_dir: str | Path, slug: str) -> Path:
    return Path(corpus_dir) / f"{slug}.md"


def write_article(article: ImportedArticle, corpus_dir: str | Path, replace: bool = False) -> Path:
    """Write ``<corpus_dir>/<slug>.md`` atomically; refuse to overwrite unless ``replace``.

    The text goes to a temporary file in the same directory first and is then renamed, so
    a reader (or an index build) never sees half a file.
    """
    path = article_path(corpus_dir, article.slug)
    if not replace and path.exists():
        raise ArticleExists(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{article.slug}.{secrets.token_hex(6)}.tmp")
    # os.open rather than mkstemp: the file gets the usual permissions (0666 minus umask).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(article.to_markdown())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _check_jsonl(
    path: Path, corpus_dir: str | Path, replace: bool, skipped: list | None = None
) -> int:
    """First pass: every record valid (unless skipped), every slug unique in the file and
    (unless replace) new to the corpus.

    Checking before writing means a bad file leaves the corpus untouched, and it streams
    like the write pass, holding only the slugs.
    """
    seen: dict[str, str] = {}
    for article in iter_jsonl(path, skipped):
        if article.slug in seen:
            raise DuplicateSlug(
                f"{article.source} and {seen[article.slug]} both give slug {article.slug!r}"
            )
        seen[article.slug] = article.source
        if not replace and article_path(corpus_dir, article.slug).exists():
            raise ArticleExists(article_path(corpus_dir, article.slug))
    return len(seen)


def import_jsonl(
    path: str | Path,
    corpus_dir: str | Path,
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
    skipped: list | None = None,
) -> int:
    """Import every record of a BEIR JSONL file; return how many articles were written.

    The file is streamed twice (check, then write), never held in memory. ``progress`` is
    called with 1 after each article, the signature of click's ``ProgressBar.update``.
    Without ``skipped``, the first bad record stops the import before anything is written;
    with it, bad records are skipped and their errors (``name:line: why``) appended.
    """
    path = Path(path)
    _check_jsonl(path, corpus_dir, replace, skipped)
    count = 0
    for article in iter_jsonl(path, [] if skipped is not None else None):
        write_article(article, corpus_dir, replace=True)
        count += 1
        if progress:
            progress(1)
    return count
