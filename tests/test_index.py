"""kb.index: atomic builds, the CURRENT pointer, and a server that follows rebuilds."""

from __future__ import annotations

import json
import threading

import pytest

from kb.corpus import CorpusError, load_corpus
from kb.index import (
    BUILDS_DIR,
    CURRENT_FILE,
    IndexNotFound,
    build_index,
    build_is_current,
    current_build,
    read_build,
)
from kb.search import KnowledgeBase, LiveKnowledgeBase


def _corpus(make_article, text="Dialectical behavior therapy teaches skills.\n"):
    make_article("one.md", text, title="One")
    return load_corpus(make_article.corpus)


def test_build_writes_a_complete_build_and_points_current_at_it(tmp_path, make_article):
    build = build_index(_corpus(make_article), tmp_path / "index", corpus_digest="abc")
    assert current_build(tmp_path / "index") == build
    meta = json.loads((build / "meta.json").read_text())
    assert (meta["articles"], meta["sections"], meta["corpus_digest"]) == (1, 1, "abc")
    ix, articles, _ = read_build(build)
    assert ix.doc_count() == 1 and articles[0].slug == "one"
    assert build_is_current(tmp_path / "index", "abc")
    assert not build_is_current(tmp_path / "index", "other")


def test_snapshot_round_trips_the_articles(tmp_path, shipped_articles):
    build = build_index(shipped_articles, tmp_path / "index")
    _, articles, _ = read_build(build)
    assert articles == shipped_articles


def test_failed_build_leaves_the_live_index_alone(tmp_path, make_article, monkeypatch):
    index = tmp_path / "index"
    first = build_index(_corpus(make_article), index)

    class Boom(Exception):
        pass

    def explode(_):
        raise Boom

    with pytest.raises(Boom):
        build_index(_corpus(make_article), index, progress=explode)
    assert current_build(index) == first
    assert not list((index / BUILDS_DIR).glob(".tmp-*"))  # the half-written build is gone


def test_corpus_error_stops_before_touching_the_index(tmp_path, make_article, runner):
    from kb.cli import main

    index = tmp_path / "index"
    first = build_index(_corpus(make_article), index)
    make_article("bad.md", "## Empty\n")
    result = runner.invoke(
        main, ["build", "--corpus", str(make_article.corpus), "--index", str(index)]
    )
    assert result.exit_code == 1
    assert "bad.md:7: empty section 'Empty'" in result.output
    assert current_build(index) == first
    with pytest.raises(CorpusError):
        load_corpus(make_article.corpus)


def test_old_builds_are_pruned(tmp_path, make_article):
    articles = _corpus(make_article)
    for _ in range(5):
        latest = build_index(articles, tmp_path / "index")
    builds = sorted((tmp_path / "index" / BUILDS_DIR).iterdir())
    assert len(builds) == 3 and latest in builds


@pytest.mark.parametrize("damage", ["missing", "empty-pointer", "dangling-pointer"])
def test_missing_or_damaged_index_is_one_clear_error(tmp_path, make_article, damage):
    index = tmp_path / "index"
    if damage != "missing":
        build_index(_corpus(make_article), index)
        (index / CURRENT_FILE).write_text("" if damage == "empty-pointer" else "nope\n")
    with pytest.raises(IndexNotFound, match="kb build"):
        current_build(index)


def test_live_knowledge_base_follows_a_rebuild(tmp_path, make_article):
    index = tmp_path / "index"
    build_index(_corpus(make_article, "Mindfulness practice.\n"), index)
    live = LiveKnowledgeBase(index)
    before = live.get()
    assert before.search("mindfulness").total == 1
    assert before.search("telehealth").total == 0
    build_index(_corpus(make_article, "Telehealth sessions.\n"), index)
    after = live.get()
    assert after is not before
    assert after.search("telehealth").total == 1
    assert before.search("mindfulness").total == 1  # a request in flight keeps its build


def test_rebuilds_under_concurrent_searches_never_fail(tmp_path, make_article):
    index = tmp_path / "index"
    articles = _corpus(make_article)
    build_index(articles, index)
    live = LiveKnowledgeBase(index)
    failures: list[BaseException] = []
    stop = threading.Event()

    def search_forever():
        while not stop.is_set():
            try:
                assert live.get().search("skills").total == 1
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                failures.append(exc)

    threads = [threading.Thread(target=search_forever) for _ in range(3)]
    for thread in threads:
        thread.start()
    for _ in range(5):
        build_index(articles, index)
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_damaged_new_build_keeps_the_old_one_serving(tmp_path, make_article):
    index = tmp_path / "index"
    build_index(_corpus(make_article), index)
    live = LiveKnowledgeBase(index)
    good = live.get()
    (index / CURRENT_FILE).write_text("does-not-exist\n")
    assert live.get() is good
    assert isinstance(good, KnowledgeBase)


def test_kb_build_reports_each_phase_from_the_first_second(make_article, tmp_path):
    from click.testing import CliRunner

    from kb.cli import main

    make_article("a.md", "Text about DBT.\n")
    result = CliRunner().invoke(
        main, ["build", "--corpus", str(make_article.corpus), "--index", str(tmp_path / "ix")]
    )
    assert result.exit_code == 0, result.output
    phases = [line for line in result.stderr.splitlines() if line.endswith("...")]
    assert phases == [
        "kb build: reading the corpus...",
        "kb build: analysing and indexing...",
        "kb build: committing...",
        "kb build: writing the build...",
    ]
    assert "kb build: writing the build took" in result.stderr
    assert result.stdout.startswith("built ")


def test_a_build_of_a_newer_format_is_refused_with_a_clear_error(tmp_path, make_article):
    from kb.index import BUILD_FORMAT, META_FILE

    build = build_index(_corpus(make_article), tmp_path / "index")
    meta = json.loads((build / META_FILE).read_text())
    meta["format"] = BUILD_FORMAT + 1  # written by a later kb, read by this one
    (build / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(IndexNotFound, match="made by a newer kb .*upgrade kb"):
        read_build(build)
