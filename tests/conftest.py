"""Shared fixtures: the shipped corpus built once into a temporary index, app, client, runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.api import create_app
from kb.corpus import load_corpus
from kb.index import build_index
from kb.taxonomy import load_taxonomy
from kb.topics import tag_articles
from tests.helpers import serve_app, write_article

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def shipped_articles():
    """The shipped corpus as a build sees it: parsed, then tagged with topics."""
    return tag_articles(load_corpus(SHIPPED_CORPUS), load_taxonomy())


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, shipped_articles):
    """An index of the shipped corpus, built once for the whole session (read-only)."""
    directory = tmp_path_factory.mktemp("index")
    build_index(shipped_articles, directory)
    return directory


@pytest.fixture(scope="session")
def kb(index_dir):
    from kb.search import LiveKnowledgeBase

    return LiveKnowledgeBase(index_dir).get()


@pytest.fixture
def app(index_dir):
    return create_app({"TESTING": True, "KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": ""})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner():
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture
def make_article(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()

    def make(name: str, body: str, **front) -> Path:
        return write_article(corpus, name, body, **front)

    make.corpus = corpus
    return make


@pytest.fixture(scope="session")
def live_server(index_dir):
    """kb served on a loopback port for the whole session: yields its base URL."""
    # Many tests share this server; the rate limit has tests of its own.
    yield from serve_app(create_app({"KB_INDEX_DIR": str(index_dir), "KB_RATE_LIMIT": ""}))
