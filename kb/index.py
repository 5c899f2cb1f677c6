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

import hashlib
import json
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, wait
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NamedTuple

import orjson
import whoosh
from whoosh import index as whoosh_index
from whoosh.fields import ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.writing import MERGE_SMALL, SegmentWriter

from kb import forward, postings
from kb.analysis import (
    AnalyzedText,
    PositionedTerms,
    ReplayAnalyzer,
    VocabularyWords,
    make_analyzer,
    vocabulary_words,
)
from kb.forward import Forward, ForwardCollector
from kb.models import Article, Section
from kb.taxonomy import Taxonomy, TaxonomyError, load_taxonomy, parse_taxonomy
from kb.topics import assign_topics
from kb.workers import context as workers_context
from kb.workers import process_count, process_pool

CURRENT_FILE = "CURRENT"
BUILDS_DIR = "builds"
SNAPSHOT_FILE = "corpus.json"
META_FILE = "meta.json"
TAXONOMY_FILE = "taxonomy.json"
VOCABULARY_FILE = "vocabulary.json"
STEMS_FILE = "stems.json"
KEEP_OLD_BUILDS = 2  # servers may still be reading the previous build for a moment
TITLE_BOOST = 2.0
BREADCRUMB_BOOST = 0.5
# What a build stores and how it analyses: a build of another format is never updated in
# place by an incremental build (the next build is a full one).
BUILD_FORMAT = 3
# From this format on, the title and body postings are only kb's own (kb.postings): Whoosh
# indexes the other fields, and kb.search.reader answers for these two.
OWN_POSTINGS_FORMAT = 3
# Whoosh's in-memory posting pool before it spills sorted runs to disk (and merges them).
WRITER_LIMIT_MB = 512
REPLAYED_FIELDS = ("breadcrumb",)
# Builds of this many sections to index (or more) are indexed by one process per core.
PARALLEL_MIN_SECTIONS = 2000
OWN_FILES = {
    SNAPSHOT_FILE,
    META_FILE,
    TAXONOMY_FILE,
    VOCABULARY_FILE,
    STEMS_FILE,
    *forward.FILES,
    *postings.FILES,
}


class IndexNotFound(Exception):
    """The index directory is missing, damaged or unreadable; str() says what to do."""


def make_schema(taxonomy: Taxonomy) -> Schema:
    """The Whoosh schema; its analyzers carry the taxonomy's spelling and stem tables.

    Whoosh stores the schema (analyzers included) in the index, so a server reads the
    analyzer of the build it opens and can never analyze queries differently. The title and
    body fields give queries their analyzer, boosts and phrases; their postings are the
    build's own (kb.postings), not Whoosh's (see section_document).
    """
    analyzer = make_analyzer(taxonomy.spellings, taxonomy.stems)
    return Schema(
        id=ID(unique=True, stored=True),
        article=ID(),
        topics=KEYWORD(commas=True, lowercase=False),
        title=TEXT(analyzer=analyzer, field_boost=TITLE_BOOST, phrase=True),
        breadcrumb=TEXT(analyzer=analyzer, field_boost=BREADCRUMB_BOOST, phrase=True),
        body=TEXT(analyzer=analyzer, phrase=True),
        # One term per value (Whoosh's default indexes 8, for fast ranges, which nothing
        # here asks: a quarter of the postings Whoosh still writes).
        position=NUMERIC(sortable=True, shift_step=0),
    )


_ARTICLE_FIELDS = tuple(f.name for f in fields(Article))
_SECTION_FIELDS = tuple(f.name for f in fields(Section))


def stored_form(article: Article) -> dict:
    """An article as corpus.json stores it: dataclasses.asdict(article), field for field,
    without asdict's deep copy of every value (a build's articles are frozen and written
    out at once; asdict was about 6% of an indexing process's time)."""
    out = {name: getattr(article, name) for name in _ARTICLE_FIELDS}
    out["sections"] = tuple(
        {name: getattr(section, name) for name in _SECTION_FIELDS} for section in article.sections
    )
    return out


def breadcrumb_text(section: Section, article: Article) -> str:
    """What a section's breadcrumb field holds: the article title and parent headings."""
    parents = section.breadcrumb[:-1] if section.anchor != "introduction" else ()
    return " ".join((article.title, *parents))


def section_document(
    section: Section, article: Article, breadcrumb_terms: list[tuple[str, int]] | None = None
) -> dict:
    """The Whoosh document for one section (the article title joins the breadcrumb).

    The title and body are not in it: a build indexes them into its own postings
    (kb.forward, kb.postings), which kb.search.reader serves to Whoosh's queries. With
    `breadcrumb_terms` (a build's one analysis of it), the breadcrumb is handed over
    already analysed (kb.analysis.AnalyzedText)."""
    breadcrumb = breadcrumb_text(section, article)
    if breadcrumb_terms is not None:
        breadcrumb = AnalyzedText(breadcrumb, breadcrumb_terms)
    return {
        "id": section.id,
        "article": section.article,
        "topics": ",".join(section.topics),
        "breadcrumb": breadcrumb,
        "position": section.position,
    }


def _read_json(path: Path):
    """A build file's JSON (orjson: corpus.json of 10k sections parses several times faster)."""
    return orjson.loads(path.read_bytes())


def _write_json(path: Path, value, sort_keys: bool = False) -> None:
    """Write a build file's JSON (UTF-8; dates as ISO dates, tuples as lists)."""
    option = orjson.OPT_SORT_KEYS if sort_keys else 0
    path.write_bytes(orjson.dumps(value, default=_json_default, option=option))


def _json_default(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def taxonomy_digest(taxonomy: Taxonomy) -> str:
    """A fingerprint of the taxonomy's data: another taxonomy means another analysis."""
    data = json.dumps(taxonomy.data, sort_keys=True, default=str).encode()
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class PreviousBuild:
    """The live build, when a new build can start from it (same format and taxonomy)."""

    path: Path
    meta: dict
    articles: list[Article]
    snapshot: list[dict]  # corpus.json as read: the stored form of `articles`, in order

    def vocabulary(self) -> Counter[str]:
        """The build's word -> number of sections table."""
        return Counter(_read_json(self.path / VOCABULARY_FILE))

    def stems(self) -> dict[str, str]:
        """The build's stems of its words (empty for a build made before stems.json)."""
        return read_stems(self.path) or {}

    def forward(self) -> tuple[Forward, dict[str, tuple[int, int]]]:
        """The build's Forward and each article's rows in it (slug -> first row, rows)."""
        rows, first = {}, 0
        for raw in self.snapshot:
            rows[raw["slug"]] = (first, len(raw["sections"]))
            first += len(raw["sections"])
        return forward.read_forward(self.path), rows

    def reusable(self, digests: Mapping[str, str]) -> dict[str, Article]:
        """Articles of files whose bytes are unchanged, by file name (kb.corpus reuses them)."""
        files = self.meta["files"]
        out = {}
        for article in self.articles:
            name = Path(article.path).name
            if name in digests and files.get(name) == digests[name]:
                out[name] = article
        return out


def previous_build(index_dir: str | Path, taxonomy: Taxonomy) -> PreviousBuild | None:
    """The live build if the next build may update it instead of starting over: it is
    readable, made by this build format and with the same taxonomy; else None."""
    try:
        build = current_build(index_dir)
        meta = _read_json(build / META_FILE)
        if (
            meta.get("format") != BUILD_FORMAT
            or meta.get("whoosh") != whoosh.versionstring()
            or meta.get("taxonomy_digest") != taxonomy_digest(taxonomy)
            or not isinstance(meta.get("files"), dict)
            or not (build / VOCABULARY_FILE).is_file()
            or not all((build / name).is_file() for name in forward.FILES)
        ):
            return None
        snapshot = _read_json(build / SNAPSHOT_FILE)
        return PreviousBuild(build, meta, articles_from_snapshot(snapshot), snapshot)
    except (IndexNotFound, OSError, ValueError, TypeError, KeyError):
        return None  # anything odd about the live build: a full build is always safe


def build_index(
    articles: Iterable[Article],
    index_dir: str | Path,
    progress: Callable[[int], None] | None = None,
    corpus_digest: str | None = None,
    taxonomy: Taxonomy | None = None,
    phase: Callable[[str], None] | None = None,
    *,
    files: Mapping[str, str] | None = None,
    previous: PreviousBuild | None = None,
    workers: int | None = None,
    stats: Mapping[str, tuple[int, int, str]] | None = None,
) -> Path:
    """Write a complete new build, then switch CURRENT to it. Returns the build directory.

    Each section's title and body are analysed once: the terms give its topics (kb.topics,
    from `taxonomy`, default the packaged one; a front-matter override wins) and are what
    Whoosh indexes. The taxonomy and the tagged corpus are stored beside the index.

    With `previous` (see `previous_build`), the new build starts as a copy of that build's
    index (hard links: Whoosh never rewrites a segment file) and only the articles that
    are not the very objects of `previous.articles` (new or changed files) are indexed,
    after deleting the documents of every article that changed or went; otherwise the
    whole corpus is indexed. Either way the new build is complete in its own directory
    before CURRENT names it. `files` (file name -> digest) is stored for the next build.

    `phase` is told each phase as it starts ("analysing and indexing", "committing", "writing the
    build"); `progress` is called with 1 after each article indexed or kept.
    """
    phase = phase or (lambda _name: None)
    progress = progress or (lambda _n: None)
    taxonomy = taxonomy or load_taxonomy()
    articles = list(articles)
    index_dir = Path(index_dir)
    builds = index_dir / BUILDS_DIR
    builds.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
    work = builds / f".tmp-{name}"
    work.mkdir()
    try:
        phase("analysing and indexing")
        if previous is None:
            ix = whoosh_index.create_in(str(work), make_schema(taxonomy))
            kept: dict[int, dict] = {}
            vocabulary: Counter[str] = Counter()
            collected: dict[str, tuple[Forward, tuple[int, int]]] = {}
            stems: dict[str, str] = {}
            previous_forward, previous_rows = None, {}
        else:
            _link_index_files(previous.path, work)
            ix = whoosh_index.open_dir(str(work))
            # Unchanged articles are the previous build's own objects (kb.corpus reuses
            # them); each one's stored form is written again as it was read.
            kept = {id(a): raw for a, raw in zip(previous.articles, previous.snapshot, strict=True)}
            vocabulary = previous.vocabulary()
            stems = previous.stems()
            previous_forward, previous_rows = previous.forward()
            collected = {slug: (previous_forward, rows) for slug, rows in previous_rows.items()}
        current = {id(a) for a in articles}
        todo = [a for a in articles if id(a) not in kept]
        progress(len(articles) - len(todo))
        writer = _tabled_lengths(ix.writer(limitmb=WRITER_LIMIT_MB))
        try:
            if previous is not None:
                for article, raw in zip(previous.articles, previous.snapshot, strict=True):
                    if id(article) not in current:  # changed, renamed or gone
                        writer.delete_by_term("article", article.slug)
                        for section in raw["sections"]:
                            vocabulary.subtract(_section_words(section, taxonomy))
            sections = sum(len(a.sections) for a in todo)
            procs = process_count(sections, PARALLEL_MIN_SECTIONS, workers)
            if procs > 1:
                indexed, words, segments, parts = _index_in_parallel(
                    work, todo, taxonomy, procs, progress, stems
                )
            else:
                indexed, words, part = _index_articles(writer, todo, taxonomy, progress, stems)
                segments, parts = [], [part]
        except BaseException:
            writer.cancel()
            raise
        vocabulary.update(words)
        snapshot = [kept[id(a)] if id(a) in kept else indexed[a.slug] for a in articles]
        for part, rows in parts:
            collected.update((slug, (part, span)) for slug, span in rows.items())
        terms = forward.merge([(collected[a.slug][0], *collected[a.slug][1]) for a in articles])
        phase("committing")
        writer.commit(mergetype=lambda w, existing: MERGE_SMALL(w, existing) + segments)
        ix.close()
        phase("writing the build")
        terms.write(work)
        _term_postings(terms, articles, previous, previous_forward, previous_rows, kept).write(work)
        _write_build_files(
            work, snapshot, +vocabulary, stems, taxonomy, name, corpus_digest, files, stats
        )
        final = builds / name
        os.replace(work, final)
        _write_current(index_dir, name)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _prune_old_builds(index_dir, keep=name)
    return final


def _term_postings(
    terms: Forward,
    articles: list[Article],
    previous: PreviousBuild | None,
    previous_forward: Forward | None,
    previous_rows: dict[str, tuple[int, int]],
    kept: dict[int, dict],
) -> postings.TermPostings:
    """The build's title and body postings (kb.postings): an incremental build updates
    the previous build's with its new rows; otherwise (or if that cannot be done in
    order) every row is inverted."""
    stored = None
    if previous is not None and previous_forward is not None and kept:
        try:
            stored = postings.read_postings_store(previous.path)
        except (OSError, ValueError):
            stored = None  # inverting every row is always right
    if stored is not None:
        runs, first = [], 0
        for article in articles:
            if id(article) in kept:
                runs.append((previous_rows[article.slug][0], first, len(article.sections)))
            first += len(article.sections)
        updated = postings.update(stored, previous_forward, terms, runs)
        if updated is not None:
            return updated
    return postings.invert(terms)


def _section_words(section: dict | Section, taxonomy: Taxonomy) -> set[str]:
    """The vocabulary words of one section (stored form or Section): title and text."""
    if isinstance(section, dict):
        title, text = section["title"], section["text"]
    else:
        title, text = section.title, section.text
    return vocabulary_words(f"{title}\n{text}", taxonomy.spellings)


Collected = tuple[Forward, dict[str, tuple[int, int]]]  # sections' terms, each article's rows


def _index_articles(
    writer,
    articles: list[Article],
    taxonomy: Taxonomy,
    progress: Callable[[int], None],
    stems: dict[str, str],
) -> tuple[dict[str, dict], Counter[str], Collected]:
    """Index articles with `writer`: (slug -> stored form with topics, the number of
    sections each vocabulary word occurs in, and the sections' terms for kb.forward).
    The stems of the words analysed are added to `stems` (which seeds the stemmer's memo)."""
    snapshot: dict[str, dict] = {}
    vocabulary: Counter[str] = Counter()
    with _replaying(writer):
        terms_of = PositionedTerms(writer.schema["body"].analyzer, stems)
        words_of = VocabularyWords(taxonomy.spellings)
        collector = ForwardCollector()
        for article in articles:
            tagged = _index_article(writer, article, taxonomy, terms_of, collector)
            for words in tagged.words:
                vocabulary.update(words_of(words))
            snapshot[article.slug] = stored_form(tagged.article)
            progress(1)
    return snapshot, vocabulary, (collector.forward(), collector.rows)


def _index_in_parallel(
    work: Path,
    articles: list[Article],
    taxonomy: Taxonomy,
    procs: int,
    progress: Callable[[int], None],
    stems: dict[str, str],
) -> tuple[dict[str, dict], Counter[str], list, list[Collected]]:
    """Index articles in `procs` processes, each writing one Whoosh segment of its share
    into `work` (as Whoosh's own multi-process writer does with multisegment=True, but
    each process also analyses and tags its articles, so nothing is analysed twice).
    Returns the stored forms, the vocabulary counts, the segments for the TOC and each
    process's sections' terms; the processes' stems of their words are added to `stems`."""
    queue = workers_context().Queue()
    chunks = _contiguous_chunks(articles, procs)
    with process_pool(procs, _init_worker, (queue,)) as pool:
        futures = [pool.submit(_index_chunk, str(work), chunk, taxonomy, stems) for chunk in chunks]
        pending = set(futures)
        while pending:
            _done, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
            _drain(queue, progress)
            for future in _done:
                future.result()  # a worker's exception stops the build here
        results = [future.result() for future in futures]
    _drain(queue, progress)
    snapshot: dict[str, dict] = {}
    vocabulary: Counter[str] = Counter()
    segments = []
    parts: list[Collected] = []
    for chunk_snapshot, words, segment, collected, chunk_stems in results:
        snapshot.update(chunk_snapshot)
        vocabulary.update(words)
        stems.update(chunk_stems)
        parts.append(collected)
        if segment is not None:
            segments.append(segment)
    return snapshot, vocabulary, segments, parts


def _contiguous_chunks(articles: list[Article], parts: int) -> list[list[Article]]:
    """Consecutive runs of articles with about as much work each (_work): segments in
    this order number documents as one process would, so equal scores rank alike."""
    work = [_work(article) for article in articles]
    total = sum(work)
    chunks: list[list[Article]] = [[] for _ in range(parts)]
    done = 0
    for article, size in zip(articles, work, strict=True):
        chunks[min(parts - 1, done * parts // max(total, 1))].append(article)
        done += size
    return [chunk for chunk in chunks if chunk]


def _work(article: Article) -> int:
    """About how long indexing an article takes: the characters of its sections' titles
    and texts. Indexing 1,300 sections of each public collection took 0.6 ms per
    section of Cranfield (1,100 characters each), 0.9 of NFCorpus (1,600) and 1.0 of
    SciFact (1,500, with more distinct words); by sections alone, one process of a
    build of the three (Cranfield sorts first) finished up to a second after the other."""
    return sum(len(s.title) + len(s.text) for s in article.sections)


def _drain(queue, progress: Callable[[int], None]) -> None:
    while not queue.empty():
        progress(queue.get())


_progress_queue = None  # in an indexing process: where it reports each article done


def _init_worker(queue) -> None:
    """In a new indexing process: keep the progress queue."""
    global _progress_queue
    _progress_queue = queue


def _index_chunk(work: str, articles: list[Article], taxonomy: Taxonomy, stems: dict[str, str]):
    """In an indexing process: write one segment of `articles` into the build `work`
    (no lock: the parent holds the index's write lock and commits the segment)."""
    ix = whoosh_index.open_dir(work)
    writer = _tabled_lengths(SegmentWriter(ix, _lk=False, limitmb=WRITER_LIMIT_MB // 2))
    report = _progress_queue.put if _progress_queue is not None else (lambda _n: None)
    # On an error, no writer.cancel() (and below, no writer._finish()): the writer's
    # temporary directory is the parent writer's too (Whoosh names it after the index);
    # the parent cancels its writer and removes the whole build directory.
    snapshot, vocabulary, collected = _index_articles(writer, articles, taxonomy, report, stems)
    segment = writer._finalize_segment() if articles else None
    ix.close()
    return snapshot, vocabulary, segment, collected, stems


def _tabled_lengths(writer: SegmentWriter) -> SegmentWriter:
    """The writer, made to hand Whoosh's postings writer the new segment's field lengths
    as a table read once (_LengthTable): it asks for a document's length once per posting
    (for each block's shortest and longest document), and reading the length columns a
    posting at a time was about a quarter of writing the postings. Returns the writer."""
    read = writer.per_document_reader  # called by the writer once, as it writes postings
    writer.per_document_reader = lambda: _LengthTable(read(), writer.schema)
    return writer


class _LengthTable:
    """Every document's length in every field of a new segment, as Whoosh's per-document
    reader gives them (0 for a field without lengths); closing it closes that reader."""

    def __init__(self, reader, schema):
        self._reader = reader
        count = reader.doc_count_all()
        # A field without lengths in the segment (not scorable, or given no text) is all
        # zeros; asking its length per document made Whoosh look for its length column
        # on disk every time (an os.stat per document and field).
        self._lengths = {
            name: (
                [reader.doc_field_length(docnum, name) for docnum in range(count)]
                if reader.field_length(name)
                else [0] * count
            )
            for name in schema.names()
        }

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        """The length of a document's field (the one call Whoosh's postings writer makes)."""
        return self._lengths[fieldname][docnum]

    def close(self) -> None:
        self._reader.close()


class _Indexed(NamedTuple):
    article: Article  # with topics assigned
    words: list[set[str]]  # each section's words (title and text), for its vocabulary


def _index_article(
    writer,
    article: Article,
    taxonomy: Taxonomy,
    terms_of: PositionedTerms,
    collector: ForwardCollector,
) -> _Indexed:
    """Add an article's sections to the writer (and their terms to `collector`); returns
    the article with topics assigned, and the words of each section's title and text."""
    sections = []
    analysed = []
    words = []
    for section in article.sections:
        title_sentences: list[int] = []
        body_sentences: list[int] = []
        seen: set[str] = set()
        title_terms = terms_of(section.title, title_sentences, seen)
        body_terms = terms_of(section.text, body_sentences, seen)
        words.append(seen)
        analysed.append(((title_terms, title_sentences), (body_terms, body_sentences)))
        if article.topics is None:  # else the front-matter override is already applied
            topics = assign_topics(section, taxonomy, title_terms, body_terms)
            section = replace(section, topics=topics)
        breadcrumb_terms = terms_of(breadcrumb_text(section, article))
        writer.add_document(**section_document(section, article, breadcrumb_terms))
        sections.append(section)
    collector.add_article(article.slug, analysed)
    return _Indexed(replace(article, sections=tuple(sections)), words)


@contextmanager
def _replaying(writer):
    """While documents are added, the writer's title and body analyzers replay terms a
    build analysed already; the real ones are back before commit stores the schema."""
    fields = [writer.schema[name] for name in REPLAYED_FIELDS]
    originals = [field.analyzer for field in fields]
    for field in fields:
        field.analyzer = ReplayAnalyzer(field.analyzer)
    try:
        yield
    finally:
        for field, original in zip(fields, originals, strict=True):
            field.analyzer = original


def _link_index_files(source: Path, target: Path) -> None:
    """Hard-link (else copy) the Whoosh files of a build into a new build directory."""
    for path in source.iterdir():
        if not path.is_file() or path.name in OWN_FILES or path.name.endswith("_LOCK"):
            continue
        try:
            os.link(path, target / path.name)
        except OSError:  # another file system, or no hard links here
            shutil.copy2(path, target / path.name)


def _write_build_files(
    work: Path,
    snapshot: list[dict],
    vocabulary: Mapping[str, int],
    stems: Mapping[str, str],
    taxonomy: Taxonomy,
    name: str,
    corpus_digest: str | None,
    files: Mapping[str, str] | None,
    stats: Mapping[str, tuple[int, int, str]] | None = None,
) -> None:
    """corpus.json (the tagged articles, as dicts), vocabulary.json (word -> number of
    sections), stems.json (the stemmer's results for the words indexed), taxonomy.json
    and meta.json."""
    _write_json(work / VOCABULARY_FILE, dict(vocabulary), sort_keys=True)
    _write_json(work / STEMS_FILE, dict(stems), sort_keys=True)
    _write_json(work / SNAPSHOT_FILE, snapshot)
    (work / TAXONOMY_FILE).write_text(
        json.dumps(taxonomy.data, ensure_ascii=False, default=str), encoding="utf-8"
    )
    meta = {
        "build": name,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "articles": len(snapshot),
        "sections": sum(len(a["sections"]) for a in snapshot),
        "corpus_digest": corpus_digest,
        "format": BUILD_FORMAT,
        "whoosh": whoosh.versionstring(),  # another Whoosh may not read this one's files
        "taxonomy_digest": taxonomy_digest(taxonomy),
        "files": dict(files) if files is not None else None,
        # (size, mtime_ns, digest) of files the next build may trust without reading them.
        "stats": dict(stats) if stats is not None else None,
    }
    _write_json(work / META_FILE, meta)


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
        meta = _read_json(build / META_FILE)
        newer = meta.get("format", 0)
        if isinstance(newer, int) and newer > BUILD_FORMAT:
            raise IndexNotFound(
                f"index build {build} was made by a newer kb (build format {newer}; this kb"
                f" reads up to {BUILD_FORMAT}): upgrade kb, or run this kb's `kb build`"
            )
        articles = articles_from_snapshot(_read_json(build / SNAPSHOT_FILE))
        ix = whoosh_index.open_dir(str(build))
    except IndexNotFound:
        raise
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


def read_vocabulary(build: Path) -> dict[str, int] | None:
    """The build's vocabulary (word -> number of sections), or None for a build made
    before vocabulary.json, whose vocabulary is a Whoosh field instead."""
    path = Path(build) / VOCABULARY_FILE
    if not path.is_file():
        return None
    try:
        return _read_json(path)
    except (OSError, ValueError) as exc:
        raise IndexNotFound(f"index build {build} has an unreadable vocabulary ({exc})") from exc


def read_stems(build: Path) -> dict[str, str] | None:
    """The build's stems of its words (lower-cased text -> stem: the stemmer's results,
    which seed a server's memo), or None for a build made before stems.json."""
    path = Path(build) / STEMS_FILE
    if not path.is_file():
        return None
    try:
        stems = _read_json(path)
    except (OSError, ValueError) as exc:
        raise IndexNotFound(f"index build {build} has unreadable stems ({exc})") from exc
    if not isinstance(stems, dict):
        raise IndexNotFound(f"index build {build} has unreadable stems (not an object)")
    return stems


def articles_from_snapshot(data: list[dict]) -> list[Article]:
    """Rebuild Article/Section objects from corpus.json (the inverse of stored_form)."""
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
        meta = _read_json(build / META_FILE)
    except (IndexNotFound, OSError, ValueError):
        return False
    return meta.get("corpus_digest") == corpus_digest
