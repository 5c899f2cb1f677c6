"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path


def cli_build(corpus, index, *extra: str) -> str:
    """`kb build` as people run it (in-process, through click); its summary line."""
    from click.testing import CliRunner

    from kb.cli import main

    result = CliRunner().invoke(
        main, ["build", "--corpus", str(corpus), "--index", str(index), *extra]
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def write_article(directory: Path, name: str, body: str, **front) -> Path:
    """Write a small corpus file; front-matter defaults make a valid article."""
    import yaml

    meta = {
        "title": "Test article",
        "slug": Path(name).stem,
        "source": "test",
        "summary": "A test article.",
    }
    meta.update(front)
    meta = {k: v for k, v in meta.items() if v is not None}
    path = directory / name
    path.write_text(
        "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n" + body, encoding="utf-8"
    )
    return path


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one error shape, asserted for every error source (see tests/test_api_errors.py)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "code", "message", "details"}
    assert error["status"] == status
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    if code:
        assert error["code"] == code
    return error


def serve_app(app):
    """Serve a WSGI app on a free loopback port in a thread; yields the base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def stop_process(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM a server a test started (graceful, so it flushes its logs), then kill it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def whoosh_reference(kb, directory: Path):
    """A Whoosh index of an opened build's sections in which Whoosh itself indexes every
    field (a build leaves the title and body to kb.postings), numbered as the build numbers
    them: what kb's postings and kb.search.reader must answer exactly as. A deleted
    document of the build is an empty document, deleted here too."""
    from whoosh import index as whoosh_index

    from kb.index import breadcrumb_text

    directory.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(directory), kb.ix.schema)
    writer = ix.writer()
    deleted = []
    for docnum, section in enumerate(kb.documents.sections):
        if section is None:
            writer.add_document(id=f"deleted-{docnum}")
            deleted.append(docnum)
            continue
        writer.add_document(
            id=section.id,
            article=section.article,
            topics=",".join(section.topics),
            title=section.title,
            breadcrumb=breadcrumb_text(section, kb.articles[section.article]),
            body=section.text,
            position=section.position,
        )
    writer.commit()
    if deleted:
        writer = ix.writer()
        for docnum in deleted:
            writer.delete_document(docnum)
        writer.commit(merge=False)  # keep the deleted documents' numbers
    return ix
