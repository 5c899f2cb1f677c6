"""Incremental builds: `kb build` re-reads and re-indexes only the files whose content changed.

Each test builds through the `kb build` command (as people run it), changes the corpus, builds
again and checks the new build: what the summary line says was updated, what search finds,
what the corpus snapshot holds, and that an incremental build answers like a full one.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kb.cli import main
from kb.index import BUILDS_DIR, META_FILE, SNAPSHOT_FILE, current_build
from kb.search import KnowledgeBase
from tests.helpers import cli_build, write_article


@pytest.fixture
def corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_article(corpus, "dbt.md", "## Skills\n\nDialectical behavior therapy teaches skills.\n")
    write_article(
        corpus, "mbt.md", "## Mentalizing\n\nMentalization-based treatment for families.\n"
    )
    write_article(corpus, "sleep.md", "## Rest\n\nSleep hygiene and insomnia.\n")
    return corpus


def ids(index, query: str) -> list[str]:
    kb = KnowledgeBase(current_build(index))
    try:
        return [hit.section.id for hit in kb.search(query, limit=50).hits]
    finally:
        kb.close()


def snapshot(index) -> dict[str, dict]:
    data = json.loads((current_build(index) / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    return {article["slug"]: article for article in data}


def test_first_build_is_full_and_an_unchanged_corpus_updates_nothing(corpus, tmp_path):
    index = tmp_path / "index"
    assert ": 3 articles, 3 sections" in cli_build(corpus, index)
    first = current_build(index)
    line = cli_build(corpus, index)
    assert ": updated 0 of 3 articles, 3 sections" in line
    # Still a new, complete build switched in atomically.
    assert current_build(index) != first
    meta = json.loads((current_build(index) / META_FILE).read_text(encoding="utf-8"))
    assert sorted(meta["files"]) == ["dbt.md", "mbt.md", "sleep.md"]
    assert ids(index, "skills") == ["dbt:skills"]


def test_edit_one_article(corpus, tmp_path):
    index = tmp_path / "index"
    cli_build(corpus, index)
    write_article(corpus, "sleep.md", "## Rest\n\nTelehealth appointments at night.\n")
    assert ": updated 1 of 3 articles" in cli_build(corpus, index)
    assert ids(index, "telehealth") == ["sleep:rest"]
    assert ids(index, "insomnia") == []  # the old text is gone from the index
    assert ids(index, "skills") == ["dbt:skills"]  # the others are still there
    assert snapshot(index)["sleep"]["sections"][0]["text"] == "Telehealth appointments at night."


def test_add_an_article(corpus, tmp_path):
    index = tmp_path / "index"
    cli_build(corpus, index)
    write_article(corpus, "grief.md", "## Loss\n\nBereavement support groups.\n", title="Grief")
    assert ": updated 1 of 4 articles, 4 sections" in cli_build(corpus, index)
    assert ids(index, "bereavement") == ["grief:loss"]
    assert set(snapshot(index)) == {"dbt", "mbt", "sleep", "grief"}


def test_delete_an_article(corpus, tmp_path):
    index = tmp_path / "index"
    cli_build(corpus, index)
    (corpus / "sleep.md").unlink()
    assert ": updated 0 of 2 articles, 2 sections" in cli_build(corpus, index)
    assert ids(index, "insomnia") == []
    assert set(snapshot(index)) == {"dbt", "mbt"}
    kb = KnowledgeBase(current_build(index))
    try:
        assert kb.section_count() == 2
        assert sum(kb.topic_counts().values()) == sum(len(s.topics) for s in kb.sections.values())
    finally:
        kb.close()


def test_rename_an_article_file_keeps_one_copy(corpus, tmp_path):
    index = tmp_path / "index"
    cli_build(corpus, index)
    (corpus / "sleep.md").rename(corpus / "sleep-well.md")  # same slug, new file name
    assert ": updated 1 of 3 articles" in cli_build(corpus, index)
    assert ids(index, "insomnia") == ["sleep:rest"]  # once, not twice
    # A new slug too: the old article and its sections are gone.
    write_article(corpus, "sleep-well.md", "## Rest\n\nSleep hygiene and insomnia.\n", slug="rest")
    cli_build(corpus, index)
    assert ids(index, "insomnia") == ["rest:rest"]
    assert set(snapshot(index)) == {"dbt", "mbt", "rest"}


def test_an_incremental_build_answers_like_a_full_one(corpus, tmp_path):
    index, full = tmp_path / "index", tmp_path / "full"
    cli_build(corpus, index)
    write_article(corpus, "mbt.md", "## Mentalizing\n\nMentalization helps families and skills.\n")
    write_article(corpus, "dbt2.md", "## More skills\n\nDistress tolerance skills.\n")
    (corpus / "sleep.md").unlink()
    assert "updated 2 of 3" in cli_build(corpus, index)
    assert ": 3 articles" in cli_build(corpus, full, "--full")
    for query in ("skills", "families", "mentalization", "distress tolerance", "insomnia"):
        assert sorted(ids(index, query)) == sorted(ids(full, query)), query
    assert snapshot(index) == snapshot(full)


def test_full_flag_and_a_new_taxonomy_index_everything(corpus, tmp_path, monkeypatch):
    index = tmp_path / "index"
    cli_build(corpus, index)
    assert ": 3 articles" in cli_build(corpus, index, "--full")
    # Another taxonomy analyses text differently: the next build starts over by itself.
    import yaml

    from kb.taxonomy import DEFAULT_TAXONOMY

    data = yaml.safe_load(open(DEFAULT_TAXONOMY, encoding="utf-8"))
    data["spellings"] = {**(data.get("spellings") or {}), "rested": "rest"}
    taxonomy = tmp_path / "taxonomy.yaml"
    taxonomy.write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setenv("KB_TAXONOMY", str(taxonomy))
    assert ": 3 articles" in cli_build(corpus, index)
    assert ": updated 0 of 3" in cli_build(corpus, index)


def test_a_bad_file_stops_an_incremental_build_and_leaves_the_live_one(corpus, tmp_path):
    index = tmp_path / "index"
    cli_build(corpus, index)
    live = current_build(index)
    write_article(corpus, "bad.md", "## Empty\n")
    result = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--index", str(index)])
    assert result.exit_code == 1
    assert "bad.md:7: empty section 'Empty'" in result.output
    assert current_build(index) == live


def test_a_crash_mid_build_leaves_the_live_build_whole(corpus, tmp_path, monkeypatch):
    index = tmp_path / "index"
    cli_build(corpus, index)
    live = current_build(index)
    files = {p.name: p.read_bytes() for p in live.iterdir() if p.is_file()}
    write_article(corpus, "sleep.md", "## Rest\n\nTelehealth appointments at night.\n")

    import kb.index

    def crash(*_args, **_kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(kb.index, "_write_build_files", crash)
    result = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--index", str(index)])
    assert result.exit_code != 0
    assert current_build(index) == live
    assert not list((index / BUILDS_DIR).glob(".tmp-*"))
    # The live build shares its Whoosh files with the new one by hard links: untouched.
    assert {p.name: p.read_bytes() for p in live.iterdir() if p.is_file()} == files
    assert ids(index, "insomnia") == ["sleep:rest"]
    monkeypatch.undo()
    assert ": updated 1 of 3" in cli_build(corpus, index)
    assert ids(index, "telehealth") == ["sleep:rest"]


def test_a_build_runs_without_the_cyclic_collector_and_gives_it_back(corpus, tmp_path, monkeypatch):
    import gc

    import kb.index

    index = tmp_path / "index"
    seen = []
    build_index = kb.index.build_index

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return build_index(*args, **kwargs)

    monkeypatch.setattr(kb.index, "build_index", watched)
    assert gc.isenabled()
    cli_build(corpus, index)
    assert seen == [False] and gc.isenabled()
    write_article(corpus, "bad.md", "## Empty\n")  # a failed build gives it back too
    result = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--index", str(index)])
    assert result.exit_code == 1 and gc.isenabled()


def test_indexing_in_several_processes_builds_the_same_index(corpus, tmp_path):
    from kb.corpus import file_digests, load_corpus
    from kb.index import VOCABULARY_FILE, build_index

    for n in range(12):
        write_article(corpus, f"extra-{n}.md", f"## Part {n}\n\nGroup skills session {n}.\n")
    one = build_index(load_corpus(corpus), tmp_path / "one", workers=1)
    files = file_digests(corpus)  # stored, so the next build can start from this one
    two = build_index(load_corpus(corpus), tmp_path / "two", workers=2, files=files)
    assert len([p for p in two.iterdir() if p.suffix == ".seg"]) == 2  # one per process
    for query in ("skills", "group session", "families", "insomnia", "part 7"):
        assert sorted(ids(tmp_path / "one", query)) == sorted(ids(tmp_path / "two", query))
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
    for name in (VOCABULARY_FILE,):
        assert (one / name).read_text() == (two / name).read_text()
    # And an incremental build on top of a multi-segment one.
    write_article(corpus, "extra-3.md", "## Part 3\n\nTelehealth now.\n")
    assert ": updated 1 of 15" in cli_build(corpus, tmp_path / "two")
    assert ids(tmp_path / "two", "telehealth") == ["extra-3:part-3"]
    assert "extra-3:part-3" not in ids(tmp_path / "two", "group skills session")
    assert len(ids(tmp_path / "two", "group skills session")) == 12  # 11 extras, dbt


def test_a_build_made_by_another_whoosh_is_not_updated_in_place(corpus, tmp_path):
    index = tmp_path / "index"
    cli_build(corpus, index)
    meta_file = current_build(index) / META_FILE
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta["whoosh"] = "5.4.0"  # e.g. a fork whose segment files this Whoosh cannot read
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    assert ": 3 articles" in cli_build(corpus, index)


def test_an_indexing_process_that_fails_stops_the_build_with_its_own_error(corpus, tmp_path):
    from dataclasses import replace

    from kb.corpus import load_corpus
    from kb.index import build_index

    cli_build(corpus, tmp_path / "index")
    live = current_build(tmp_path / "index")
    for n in range(6):
        write_article(corpus, f"extra-{n}.md", f"## Part {n}\n\nGroup skills session {n}.\n")
    articles = load_corpus(corpus)
    # An article no parser makes (its text is not text): the second process fails on it.
    broken = replace(articles[-1], sections=(replace(articles[-1].sections[0], text=None),))
    with pytest.raises(TypeError):
        build_index([*articles[:-1], broken], tmp_path / "index", workers=2)
    # The worker's error, not one from cleaning up after it; the live build is untouched.
    assert current_build(tmp_path / "index") == live
    assert [p.name for p in (tmp_path / "index" / BUILDS_DIR).iterdir()] == [live.name]
