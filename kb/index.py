"""The Whoosh index: schema, atomic builds, and opening the current build.

Layout of an index directory:

    index/
      CURRENT            name of the live build, replaced atomically (os.replace)
      builds/<name>/     one complete Whoosh index + corpus.json + meta.json

A build is written into a fresh ``builds/<name>`` and only then named in ``CURRENT``, so a
running server never sees half an index, and a failed or killed build leaves the live one
alone. Servers compare ``CURRENT`` on each request and open a new build when it changes.
The corpus snapshot (corpus.json) travels with the build, so a server needs only index/.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema

from kb.analysis import make_analyzer, vocabulary_analyzer
from kb.models import Article, Section
from kb.taxonomy import Taxonomy, TaxonomyError, load_taxonomy, parse_taxonomy
from kb.topics import tag_articles

CURRENT_FILE = "CURRENT"
BUILDS_DIR = "builds"
SNAPSHOT_FILE = "corpus.json"
META_FILE = "meta.json"
TAXONOMY_FILE = "taxonomy.json"
KEEP_OLD_BUILDS = 2  # servers may still be reading the previous build for a moment
TITLE_BOOST = 2.0
BREADCRUMB_BOOST = 0.5


class IndexNotFound(Exception):
    """The index directory is missing, damaged or unreadable; str() says what to do."""


def make_schema(taxonomy: Taxonomy) -> Schema:
    """The Whoosh schema; its analyzers carry the taxonomy's spelling and stem tables.

    Whoosh stores the schema (analyzers included) in the index, so a server reads the
    analyzer of the build it opens and can never analyze queries differently.
    """
    analyzer = make_analyzer(taxonomy.spellings, taxonomy.stems)
    # Unstemmed words, for spelling correction and as-you-type completion.
    vocabulary = vocabulary_analyzer(taxonomy.spellings)
    return Schema(
        id=ID(unique=True, stored=True),
        article=ID(),
        topics=KEYWORD(commas=True, lowercase=False),
        title=TEXT(analyzer=analyzer, field_boost=TITLE_BOOST, phrase=True),
        breadcrumb=TEXT(analyzer=analyzer, field_boost=BREADCRUMB_BOOST, phrase=True),
        body=TEXT(analyzer=analyzer, phrase=True),
        position=NUMERIC(sortable=True),
        vocabulary=TEXT(analyzer=vocabulary, phrase=False),
    )


def section_document(section: Section, article: Article) -> dict:
    """The Whoosh document for one section (the article title joins the breadcrumb)."""
    parents = section.breadcrumb[:-1] if section.anchor != "introduction" else ()
    return {
        "id": section.id,
        "article": section.article,
        "topics": ",".join(section.topics),
        "title": section.title,
        "breadcrumb": " ".join((article.title, *parents)),
        "body": section.text,
        "position": section.position,
        "vocabulary": f"{section.title}\n{section.text}",
    }


def _json_default(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def build_index(
    articles: Iterable[Article],
    index_dir: str | Path,
    progress: Callable[[int], None] | None = None,
    corpus_digest: str | None = None,
    taxonomy: Taxonomy | None = None,
    phase: Callable[[str], None] | None = None,
) -> Path:
    """Write a complete new build, then switch CURRENT to it. Returns the build directory.

    The build step: sections are tagged with topics (kb.topics) from `taxonomy` (default:
    the packaged one), which is stored in the build beside the index and the corpus.
    `phase` is told each phase as it starts ("assigning topics", "indexing", "committing",
    "writing the build"); `progress` is called with 1 after each article indexed.
    """
    phase = phase or (lambda _name: None)
    taxonomy = taxonomy or load_taxonomy()
    phase("assigning topics")
    articles = tag_articles(articles, taxonomy)
    index_dir = Path(index_dir)
    builds = index_dir / BUILDS_DIR
    builds.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
    work = builds / f".tmp-{name}"
    work.mkdir()
    try:
        phase("indexing")
        ix = whoosh_index.create_in(str(work), make_schema(taxonomy))
        writer = ix.writer(limitmb=256)
        try:
            for article in articles:
                for section in article.sections:
                    writer.add_document(**section_document(section, article))
                if progress:
                    progress(1)
        except BaseException:
            writer.cancel()
            raise
        phase("committing")
        writer.commit()
        ix.close()
        phase("writing the build")
        snapshot = [asdict(a) for a in articles]
        (work / SNAPSHOT_FILE).write_text(
            json.dumps(snapshot, default=_json_default, ensure_ascii=False), encoding="utf-8"
        )
        (work / TAXONOMY_FILE).write_text(
            json.dumps(taxonomy.data, ensure_ascii=False, default=str), encoding="utf-8"
        )
        meta = {
            "build": name,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "articles": len(articles),
            "sections": sum(len(a.sections) for a in articles),
            "corpus_digest": corpus_digest,
        }
        (work / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
        final = builds / name
        os.replace(work, final)
        _write_current(index_dir, name)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _prune_old_builds(index_dir, keep=name)
    return final


def _write_current(index_dir: Path, name: str) -> None:
    tmp = index_dir / f".{CURRENT_FILE}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, index_dir / CURRENT_FILE)


def _prune_old_builds(index_dir: Path, keep: str) -> None:
    """Remove all but the newest few builds, and leftovers of killed builds older than an hour."""
    builds = index_dir / BUILDS_DIR
    finished = sorted(p for p in builds.iterdir() if not p.name.startswith("."))
    for old in [p for p in finished if p.name != keep][: -KEEP_OLD_BUILDS or None]:
        shutil.rmtree(old, ignore_errors=True)
    for leftover in builds.glob(".tmp-*"):
        if time.time() - leftover.stat().st_mtime > 3600:
            shutil.rmtree(leftover, ignore_errors=True)


def current_build(index_dir: str | Path) -> Path:
    """The live build directory; raises IndexNotFound with a hint when there is none."""
    index_dir = Path(index_dir)
    try:
        name = (index_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFound(f"no index in {index_dir}: run `kb build` to create it") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexNotFound(
            f"index pointer {index_dir / CURRENT_FILE} is unreadable ({exc}): "
            "run `kb build` to rebuild it"
        ) from None
    build = index_dir / BUILDS_DIR / name
    if not name or "/" in name or name.startswith(".") or not (build / META_FILE).is_file():
        raise IndexNotFound(
            f"index in {index_dir} is damaged (missing {name or 'build'}): "
            "run `kb build` to rebuild it"
        )
    return build


def read_build(build: Path) -> tuple[object, list[Article], dict]:
    """Open a build: the Whoosh index, the articles it was built from, and its metadata."""
    try:
        meta = json.loads((build / META_FILE).read_text(encoding="utf-8"))
        articles = articles_from_snapshot(
            json.loads((build / SNAPSHOT_FILE).read_text(encoding="utf-8"))
        )
        ix = whoosh_index.open_dir(str(build))
    except Exception as exc:  # noqa: BLE001 - any damage (EOF, pickle, missing file) means the same
        raise IndexNotFound(
            f"index build {build} is unreadable ({type(exc).__name__}: {exc}): run `kb build`"
        ) from exc
    return ix, articles, meta


def read_taxonomy(build: Path) -> Taxonomy:
    """The taxonomy a build was made with (the packaged one for builds that predate it)."""
    path = Path(build) / TAXONOMY_FILE
    if not path.is_file():
        return load_taxonomy()
    try:
        return parse_taxonomy(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TaxonomyError) as exc:
        raise IndexNotFound(f"index build {build} has an unreadable taxonomy ({exc})") from exc


def articles_from_snapshot(data: list[dict]) -> list[Article]:
    """Rebuild Article/Section objects from corpus.json (the inverse of asdict)."""
    articles = []
    for item in data:
        sections = tuple(
            Section(**{**s, "breadcrumb": tuple(s["breadcrumb"]), "topics": tuple(s["topics"])})
            for s in item["sections"]
        )
        dates = {
            key: date.fromisoformat(item[key]) if item.get(key) else None
            for key in ("published", "reviewed", "next_review")
        }
        lists = {key: tuple(item.get(key) or ()) for key in ("authors", "audience", "tags")}
        articles.append(
            Article(
                **{
                    **item,
                    **dates,
                    **lists,
                    "sections": sections,
                    "topics": tuple(item["topics"]) if item.get("topics") is not None else None,
                }
            )
        )
    return articles


def build_is_current(index_dir: str | Path, corpus_digest: str) -> bool:
    """True when the live build was made from exactly this corpus."""
    try:
        build = current_build(index_dir)
        meta = json.loads((build / META_FILE).read_text(encoding="utf-8"))
    except (IndexNotFound, OSError, ValueError):
        return False
    return meta.get("corpus_digest") == corpus_digest
