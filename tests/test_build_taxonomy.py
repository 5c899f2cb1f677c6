"""A build uses the configured taxonomy (KB_TAXONOMY), stores it, and the server reads it back."""

from __future__ import annotations

import json

import yaml

from kb.api import create_app
from kb.cli import main
from kb.index import current_build, read_taxonomy
from kb.taxonomy import DEFAULT_TAXONOMY


def test_kb_build_tags_with_the_configured_taxonomy(runner, make_article, tmp_path, monkeypatch):
    make_article("a.md", "## Sleep\n\nInsomnia and a night routine help.\n")
    data = yaml.safe_load(DEFAULT_TAXONOMY.read_text(encoding="utf-8"))
    data["topics"] = [{"id": "sleep", "label": "Sleep", "terms": ["insomnia"]}]
    taxonomy_file = tmp_path / "taxonomy.yaml"
    taxonomy_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    index = tmp_path / "index"
    monkeypatch.setenv("KB_TAXONOMY", str(taxonomy_file))

    result = runner.invoke(
        main, ["build", "--corpus", str(make_article.corpus), "--index", str(index)]
    )
    assert result.exit_code == 0, result.output

    build = current_build(index)
    assert [t.id for t in read_taxonomy(build).topics] == ["sleep"]
    snapshot = json.loads((build / "corpus.json").read_text(encoding="utf-8"))
    assert snapshot[0]["sections"][0]["topics"] == ["sleep"]

    monkeypatch.delenv("KB_TAXONOMY")  # the server reads the taxonomy from the build
    client = create_app({"KB_INDEX_DIR": str(index), "KB_RATE_LIMIT": ""}).test_client()
    topics = client.get("/api/v1/topics").get_json()["topics"]
    assert [(t["id"], t["section_count"]) for t in topics] == [("sleep", 1)]


def test_a_taxonomy_change_makes_the_build_stale(runner, make_article, tmp_path, monkeypatch):
    from kb.cli import _build_digest
    from kb.taxonomy import parse_taxonomy

    make_article("a.md", "Text.\n")
    base = yaml.safe_load(DEFAULT_TAXONOMY.read_text(encoding="utf-8"))
    changed = {**base, "topics": base["topics"][:1]}
    assert _build_digest(make_article.corpus, parse_taxonomy(base)) != _build_digest(
        make_article.corpus, parse_taxonomy(changed)
    )
