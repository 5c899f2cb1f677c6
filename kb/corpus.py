"""Read and strictly validate corpus Markdown files, and split them into sections.

Format of a corpus file (see README, "Adding an article"):

    ---
    title: ...          (required)
    slug: ...           (required, [a-z0-9-])
    source: ...         (required: where the text came from)
    summary: ...        (required)
    published: 2025-08-08   (optional ISO date)
    url: https://...        (optional: where a clinic publishes the article)
    topics: [id, ...]       (optional: replaces automatic topic assignment)
    reviewed: 2025-09-01    (optional ISO date: when a clinician last reviewed it)
    next_review: 2028-09-01 (optional ISO date, not before `reviewed`)
    reviewed_by: ...        (optional text)
    authors: [...]          (optional list of names, or one name)
    audience: [patients]    (optional: patients, clinicians, families; a list or one)
    tags: [...]             (optional list of free-text tags, or one)
    ---
    body in Markdown, split by ATX or setext headings (kb.markdown, CommonMark)

Text before the first heading is kept as its own section, anchor ``introduction``,
titled with the article title: search must reach every word, and a hit in the opening
paragraphs is best described by the article's own title.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path

import yaml

from kb.markdown import headings, slugify, split_front_matter
from kb.models import AUDIENCES, Article, Section, make_section_id
from kb.taxonomy import Taxonomy, load_taxonomy
from kb.workers import process_count, process_pool

REQUIRED_KEYS = ("title", "slug", "source", "summary")
# Reading this many files (or more) is done by one process per core, PARALLEL_RUN at a time.
PARALLEL_MIN_FILES = 2000
PARALLEL_RUN = 250
OPTIONAL_KEYS = (
    "published",
    "url",
    "topics",
    "reviewed",
    "next_review",
    "reviewed_by",
    "authors",
    "audience",
    "tags",
)
INTRO_ANCHOR = "introduction"

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# C0 controls other than tab and newline, and DEL: never in an article's text.
_CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
WORD_RE = re.compile(r"\w+(?:[-'’]\w+)*")


class _FrontMatterRules:
    """A SafeLoader that leaves dates as text, so a bad date is our clear error, not YAML's,
    and refuses a key given twice (YAML would silently keep the last one)."""

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKey(key, key_node.start_mark.line)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _PyFrontMatterLoader(_FrontMatterRules, yaml.SafeLoader):
    pass


# libyaml's parser when PyYAML was built with it: about ten times faster than the pure-Python
# one on front matter, which matters at 100,000 files; same resolver and constructor.
class _FrontMatterLoader(_FrontMatterRules, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    pass


class _DuplicateKey(Exception):
    def __init__(self, key, line: int):
        self.key, self.line = key, line


_NO_TIMESTAMPS = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FrontMatterLoader.yaml_implicit_resolvers = _NO_TIMESTAMPS
_PyFrontMatterLoader.yaml_implicit_resolvers = _NO_TIMESTAMPS


class CorpusError(Exception):
    """A corpus file breaks the format; str() is ``path:line: message``."""

    def __init__(self, path: str | Path, line: int, message: str):
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")

    def __reduce__(self):
        # Raised in a reading process, it reaches the build as itself (kb.workers).
        return CorpusError, (self.path, self.line, self.message)


def count_words(text: str) -> int:
    return len(WORD_RE.findall(text))


def _corpus_entries(corpus_dir: Path) -> list[os.DirEntry]:
    """The corpus's ``*.md`` files (not directories), sorted by name, from one os.scandir:
    a 10k-file corpus is listed and stat-ed in about a third of Path.glob's and
    Path.stat's time."""
    with os.scandir(corpus_dir) as entries:
        files = [e for e in entries if e.name.endswith(".md") and e.is_file()]
    return sorted(files, key=lambda e: e.name)


def file_count(corpus_dir: str | Path) -> int:
    """How many ``*.md`` files the corpus has (0 when there is no such directory)."""
    corpus_dir = Path(corpus_dir)
    return len(_corpus_entries(corpus_dir)) if corpus_dir.is_dir() else 0


def file_digests(
    corpus_dir: str | Path,
    known: Mapping[str, tuple[int, int, str]] | None = None,
    stats: dict[str, tuple[int, int, str]] | None = None,
) -> dict[str, str]:
    """SHA-256 of each ``*.md`` file's bytes, by file name, sorted: what a build is made from.

    A build stores them, so the next build re-reads only the files whose digest changed.
    `known` maps file names to (size, mtime_ns, digest) a previous scan trusted: a file
    with the same size and modification time keeps its digest without being read (as git's
    index does). `stats`, if given, is filled with this scan's (size, mtime_ns, digest) for
    files safe to trust next time: those not modified in the second before this scan, since
    an edit within the clock's resolution could keep the time."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(corpus_dir, 0, "corpus directory does not exist")
    known = known or {}
    settled = time.time_ns() - 1_000_000_000
    digests = {}
    for entry in _corpus_entries(corpus_dir):
        status, name = entry.stat(), entry.name
        previous = known.get(name)
        if previous is not None and tuple(previous[:2]) == (status.st_size, status.st_mtime_ns):
            digest = previous[2]
        else:
            with open(entry.path, "rb") as file:
                digest = hashlib.sha256(file.read()).hexdigest()
        digests[name] = digest
        if stats is not None and status.st_mtime_ns < settled:
            stats[name] = (status.st_size, status.st_mtime_ns, digest)
    return digests


def corpus_digest(corpus_dir: str | Path, digests: Mapping[str, str] | None = None) -> str:
    """A fingerprint of the corpus files, stored in each build to tell when it is stale."""
    digests = file_digests(corpus_dir) if digests is None else digests
    digest = hashlib.sha256()
    for name, file_digest in sorted(digests.items()):
        digest.update(f"{name}\0{file_digest}\0".encode())
    return digest.hexdigest()


def load_corpus(
    corpus_dir: str | Path,
    taxonomy: Taxonomy | None = None,
    progress: Callable[[int], None] | None = None,
    reuse: Mapping[str, Article] | None = None,
    workers: int | None = None,
) -> list[Article]:
    """Load every ``*.md`` in the directory, sorted by file name; duplicate slugs are an error.

    ``reuse`` maps file names to Articles already parsed from exactly the same bytes (an
    incremental build passes the unchanged files of the previous build); those files are
    not read again. ``progress`` is called with 1 after each file read (click's
    ``ProgressBar.update``). PARALLEL_MIN_FILES files or more to read are parsed by one
    process per core (``workers`` processes if given); the first bad file in name order
    is the error either way."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(corpus_dir, 0, "corpus directory does not exist")
    reuse = reuse or {}
    entries = _corpus_entries(corpus_dir)
    todo = [Path(entry.path) for entry in entries if entry.name not in reuse]
    procs = process_count(len(todo), PARALLEL_MIN_FILES, workers)
    if procs > 1:
        parsed = _load_in_parallel(todo, taxonomy, procs, progress)
    else:
        parsed = {}
    articles: list[Article] = []
    seen: dict[str, str] = {}
    for entry in entries:
        known = reuse.get(entry.name)
        if known is None:
            article = parsed.get(entry.name) or load_article(entry.path, taxonomy)
            if progress and procs == 1:
                progress(1)
        else:
            article = known if known.path == entry.path else replace(known, path=entry.path)
        if article.slug in seen:
            raise CorpusError(
                entry.path,
                _front_matter_line(Path(entry.path), "slug"),
                f"duplicate slug {article.slug!r} (also in {seen[article.slug]})",
            )
        seen[article.slug] = entry.path
        articles.append(article)
        if progress and known is not None:
            progress(1)
    return articles


def _load_in_parallel(
    paths: list[Path],
    taxonomy: Taxonomy | None,
    procs: int,
    progress: Callable[[int], None] | None,
) -> dict[str, Article]:
    """File name -> Article of every path, parsed in `procs` processes, in runs of files
    taken in order: the first run with a bad file raises its first error."""
    runs = [paths[i : i + PARALLEL_RUN] for i in range(0, len(paths), PARALLEL_RUN)]
    parsed: dict[str, Article] = {}
    with process_pool(procs) as pool:
        try:
            results = pool.map(_load_run, runs, [taxonomy] * len(runs))
            for run, articles in zip(runs, results, strict=True):
                parsed.update(
                    (path.name, article) for path, article in zip(run, articles, strict=True)
                )
                if progress:
                    progress(len(run))
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    return parsed


def _load_run(paths: list[Path], taxonomy: Taxonomy | None) -> list[Article]:
    """In a reading process: load_article of each path, in order."""
    return [load_article(path, taxonomy) for path in paths]


def load_article(path: str | Path, taxonomy: Taxonomy | None = None) -> Article:
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CorpusError(path, line, f"not valid UTF-8 (byte {raw[exc.start]:#04x})") from None
    return parse_article(text, path, taxonomy)


def parse_article(
    text: str, path: str | Path = "<string>", taxonomy: Taxonomy | None = None
) -> Article:
    """Parse and validate one corpus file's text into an Article.

    Topics are not assigned here (that is a build step, kb.topics.tag_articles); a
    front-matter `topics:` override is applied, its ids checked against `taxonomy`
    (default: the packaged one).
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    control = _CONTROL_CHAR.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        column = control.start() - (text.rfind("\n", 0, control.start()) + 1) + 1
        raise CorpusError(
            path,
            line,
            f"control character U+{ord(control[0]):04X} at column {column}"
            " (a NUL or other binary byte: the file is damaged or not text)",
        )
    meta, body, body_start = _split_front_matter(text, path)
    fields = _validate_front_matter(meta, path, text)
    sections = split_sections(body, fields["slug"], fields["title"], path, body_start)
    taxonomy = taxonomy or load_taxonomy()
    override = fields.get("topics")
    if override is not None:
        unknown = [t for t in override if t not in taxonomy.by_id]
        if unknown:
            raise CorpusError(path, _line_of_key(text, "topics"), f"unknown topic(s): {unknown}")
    if override is not None:
        sections = tuple(replace(s, topics=tuple(override)) for s in sections)
    return Article(
        slug=fields["slug"],
        title=fields["title"],
        source=fields["source"],
        summary=fields["summary"],
        published=fields.get("published"),
        url=fields.get("url"),
        topics=tuple(override) if override is not None else None,
        sections=sections,
        path=str(path),
        reviewed=fields.get("reviewed"),
        next_review=fields.get("next_review"),
        reviewed_by=fields.get("reviewed_by"),
        authors=fields.get("authors", ()),
        audience=fields.get("audience", ()),
        tags=fields.get("tags", ()),
    )


def _split_front_matter(text: str, path) -> tuple[dict, str, int]:
    try:
        parts = split_front_matter(text)
    except ValueError as exc:
        raise CorpusError(path, 1, str(exc)) from None
    if parts is None:
        raise CorpusError(path, 1, "missing front matter: the file must start with a '---' line")
    yaml_text, body, body_start = parts
    try:
        try:
            meta = yaml.load(yaml_text, Loader=_FrontMatterLoader) or {}
        except yaml.YAMLError:
            # libyaml places some errors a line later than the pure-Python parser; parse
            # the (rare) bad file again with that one for its clearer position and message.
            meta = yaml.load(yaml_text, Loader=_PyFrontMatterLoader) or {}
    except _DuplicateKey as exc:
        raise CorpusError(
            path, exc.line + 2, f"front matter key {exc.key!r} is given twice"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise CorpusError(path, line, f"invalid front matter: {problem}") from None
    if not isinstance(meta, dict):
        raise CorpusError(path, 2, "front matter must be a mapping of keys to values")
    return meta, body, body_start


def _line_of_key(text: str, key: str) -> int:
    for number, line in enumerate(text.split("\n"), start=1):
        if re.match(rf"^{re.escape(key)}\s*:", line):
            return number
    return 1


def _front_matter_line(path: Path, key: str) -> int:
    return _line_of_key(path.read_text(encoding="utf-8"), key)


def _validate_front_matter(meta: dict, path, text: str) -> dict:
    for key in meta:
        if key not in REQUIRED_KEYS + OPTIONAL_KEYS:
            allowed = ", ".join(REQUIRED_KEYS + OPTIONAL_KEYS)
            raise CorpusError(
                path,
                _line_of_key(text, str(key)),
                f"unknown front-matter key {key!r} (allowed: {allowed})",
            )
    for key in REQUIRED_KEYS:
        if key not in meta:
            raise CorpusError(path, 1, f"missing front-matter key {key!r}")
        if not isinstance(meta[key], str) or not meta[key].strip():
            raise CorpusError(path, _line_of_key(text, key), f"{key!r} must be non-empty text")
    fields = {key: meta[key].strip() for key in REQUIRED_KEYS}
    if not SLUG_RE.match(fields["slug"]):
        raise CorpusError(
            path,
            _line_of_key(text, "slug"),
            f"slug {fields['slug']!r} must be lower-case letters, digits and single hyphens",
        )
    if "published" in meta and meta["published"] is not None:
        fields["published"] = _parse_date(meta["published"], path, _line_of_key(text, "published"))
    if "url" in meta and meta["url"] is not None:
        url = meta["url"]
        if not isinstance(url, str) or not re.match(r"^https?://\S+$", url):
            raise CorpusError(path, _line_of_key(text, "url"), "url must be an http(s) URL")
        fields["url"] = url
    for key in ("reviewed", "next_review"):
        if meta.get(key) is not None:
            fields[key] = _parse_date(meta[key], path, _line_of_key(text, key))
    if fields.get("reviewed") and fields.get("next_review"):
        if fields["next_review"] < fields["reviewed"]:
            raise CorpusError(
                path, _line_of_key(text, "next_review"), "next_review is before reviewed"
            )
    if meta.get("reviewed_by") is not None:
        if not isinstance(meta["reviewed_by"], str) or not meta["reviewed_by"].strip():
            raise CorpusError(
                path, _line_of_key(text, "reviewed_by"), "reviewed_by must be non-empty text"
            )
        fields["reviewed_by"] = meta["reviewed_by"].strip()
    for key in ("authors", "audience", "tags"):
        if meta.get(key) is not None:
            fields[key] = _text_list(meta[key], key, path, _line_of_key(text, key))
    unknown = [a for a in fields.get("audience", ()) if a not in AUDIENCES]
    if unknown:
        raise CorpusError(
            path,
            _line_of_key(text, "audience"),
            f"unknown audience {unknown[0]!r} (allowed: {', '.join(AUDIENCES)})",
        )
    if "topics" in meta and meta["topics"] is not None:
        topics = meta["topics"]
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            raise CorpusError(path, _line_of_key(text, "topics"), "topics must be a list of ids")
        fields["topics"] = topics
    return fields


def _text_list(value, key: str, path, line: int) -> tuple[str, ...]:
    """One text or a list of texts, each non-empty."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        raise CorpusError(path, line, f"{key} must be a text or a list of texts")
    return tuple(v.strip() for v in items)


def _parse_date(value, path, line: int) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CorpusError(path, line, f"invalid date {value!r}: use YYYY-MM-DD") from None


def split_sections(
    body: str, slug: str, article_title: str, path="<string>", first_line: int = 1
) -> tuple[Section, ...]:
    """Split Markdown by heading (ATX or setext, kb.markdown) into Sections with unique,
    stable anchors."""
    lines = body.split("\n")
    chunks: list[dict] = []
    current = {"title": article_title, "level": 1, "line": first_line, "lines": [], "intro": True}
    position = 0
    for heading in headings(body):
        current["lines"] = lines[position : heading.start]
        chunks.append(current)
        number = first_line + heading.start
        title, anchor = heading.title, None
        explicit = EXPLICIT_ANCHOR_RE.search(title)
        if explicit:
            title, anchor = title[: explicit.start()].rstrip(), explicit.group(1)
        if not title:
            raise CorpusError(path, number, "heading has no text")
        current = {"title": title, "level": heading.level, "line": number, "anchor": anchor}
        position = heading.end
    current["lines"] = lines[position:]
    chunks.append(current)

    intro, headed = chunks[0], chunks[1:]
    if not "\n".join(intro["lines"]).strip():
        intro = None
    for i, chunk in enumerate(headed):
        has_text = bool("\n".join(chunk["lines"]).strip())
        next_is_child = i + 1 < len(headed) and headed[i + 1]["level"] > chunk["level"]
        if not has_text and not next_is_child:
            raise CorpusError(path, chunk["line"], f"empty section {chunk['title']!r}")
    if intro is None and not headed:
        raise CorpusError(path, first_line, "article has no text")

    sections: list[Section] = []
    used: set[str] = set()
    path_stack: list[tuple[int, str]] = []
    for chunk in ([intro] if intro else []) + headed:
        if chunk.get("intro"):
            anchor, breadcrumb = INTRO_ANCHOR, (article_title,)
        else:
            if chunk.get("anchor"):
                anchor = chunk["anchor"]
                if anchor in used or anchor == INTRO_ANCHOR:
                    raise CorpusError(path, chunk["line"], f"anchor {anchor!r} is used twice")
            else:
                anchor = _unique_anchor(slugify(chunk["title"]) or "section", used)
            while path_stack and path_stack[-1][0] >= chunk["level"]:
                path_stack.pop()
            path_stack.append((chunk["level"], chunk["title"]))
            breadcrumb = tuple(title for _, title in path_stack)
        used.add(anchor)
        text = "\n".join(chunk["lines"]).strip("\n")
        sections.append(
            Section(
                id=make_section_id(slug, anchor),
                article=slug,
                anchor=anchor,
                title=chunk["title"],
                level=chunk["level"],
                breadcrumb=breadcrumb,
                position=len(sections),
                text=text,
                word_count=count_words(text),
                line=chunk["line"],
            )
        )
    return tuple(sections)


# "## Heading {#anchor}" (the attribute syntax of Pandoc and Python-Markdown's attr_list)
# fixes a section's anchor, so a heading can be reworded without breaking its id and links.
EXPLICIT_ANCHOR_RE = re.compile(r"\s*\{#([a-z0-9]+(?:-[a-z0-9]+)*)\}$")


def reading_grade(text: str) -> float:
    """The Flesch-Kincaid grade of a section's Markdown text (textstat; 0.0 for no text).

    A US school grade: about 8 or below suits most patients. Computed when asked (the API's
    section detail, `kb check --table`), not at build time: it costs about a millisecond
    per section, which a build of 100,000 sections should not pay.
    """
    import textstat

    plain = re.sub(r"[#*_`>\[\]()]", " ", text)
    if not WORD_RE.search(plain):
        return 0.0
    return max(0.0, round(float(textstat.flesch_kincaid_grade(plain)), 1))


def _unique_anchor(base: str, used: set[str]) -> str:
    """De-duplicate like MkDocs/Python-Markdown's toc: 'x', 'x-1', 'x-2', ..."""
    if base not in used and base != INTRO_ANCHOR:
        return base
    n = 1
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def iter_sections(articles: Iterable[Article]) -> Iterator[Section]:
    for article in articles:
        yield from article.sections
