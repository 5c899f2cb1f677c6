"""Faults a production kb must survive: killed builds, damaged indexes, bad corpus files,
and index rebuilds while requests are being served.

The server-side tests run the real thing: `gunicorn -c gunicorn.conf.py wsgi:app` on a free
loopback port (or, for the killed build, the app on a loopback werkzeug server), with
generous timeouts because the machine may be slow and shared. Every subprocess is killed in
a `finally`.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest

from kb.api import create_app
from kb.index import BUILDS_DIR, CURRENT_FILE, build_index
from tests.helpers import serve_app, stop_process, write_article

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CORPUS = ROOT / "corpus"
READY_TIMEOUT = 90  # seconds for gunicorn to answer; the machine may be busy


# -- helpers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kb_command() -> list[str]:
    script = Path(sys.executable).with_name("kb")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from kb.cli import main; main()"]


def run_kb_build(corpus: Path, index: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*kb_command(), "build", "--corpus", str(corpus), "--index", str(index)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def built_name(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    match = re.search(r"built (\S+):", done.stdout)
    assert match, done.stdout
    return match.group(1)


def get(url: str, timeout: float = 15) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def current(index: Path) -> str:
    return (index / CURRENT_FILE).read_text(encoding="utf-8").strip()


def finished_builds(index: Path) -> list[str]:
    return sorted(p.name for p in (index / BUILDS_DIR).iterdir() if not p.name.startswith("."))


@contextmanager
def gunicorn(index: Path, logs: Path, **env: str):
    """kb under gunicorn with the repo's gunicorn.conf.py; yields (base_url, proc, log path).

    2 workers x 2 threads keeps the test light; stdout and stderr go to one file.
    """
    port = free_port()
    log_path = logs / f"gunicorn-{port}.log"
    environment = {
        **os.environ,
        "KB_BIND": f"127.0.0.1:{port}",
        "KB_INDEX_DIR": str(index),
        "KB_RATE_LIMIT": "",
        "KB_WORKERS": "2",
        "KB_THREADS": "2",
        **env,
    }
    args = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"]
    with logged_server(args, environment, log_path, port) as served:
        yield served


@contextmanager
def logged_server(args: list[str], environment: dict, log_path: Path, port: int):
    """Run a server with stdout and stderr in `log_path` until its health route answers;
    yields (base_url, proc, log path) and stops the process on exit."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + READY_TIMEOUT
            while True:
                assert proc.poll() is None, f"server exited:\n{log_path.read_text()}"
                try:
                    get(f"{base}/api/v1/health", timeout=5)
                    break
                except (OSError, ValueError):
                    if time.monotonic() > deadline:
                        raise AssertionError(
                            f"server not answering:\n{log_path.read_text()}"
                        ) from None
                    time.sleep(0.1)
            yield base, proc, log_path
        finally:
            stop_process(proc)


def session_processes(session: int) -> list[int]:
    """Pids of the live (not zombie) processes of a session, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def synthetic_corpus(directory: Path, count: int, seed: int = 8) -> Path:
    """`count` articles of plausible clinical text (words of the shipped corpus, shuffled)."""
    directory.mkdir(parents=True, exist_ok=True)
    words = re.findall(
        r"[a-z]{3,}",
        " ".join(
            p.read_text(encoding="utf-8").split("---", 2)[-1].lower()
            for p in sorted(SHIPPED_CORPUS.glob("*.md"))
        ),
    )
    rng = random.Random(seed)
    for n in range(count):
        sections = "".join(
            f"## {' '.join(rng.choices(words, k=4)).capitalize()}\n\n"
            + " ".join(rng.choices(words, k=110))
            + ".\n\n"
            for _ in range(3)
        )
        write_article(
            directory,
            f"synthetic-{n:05d}.md",
            " ".join(rng.choices(words, k=50)).capitalize() + ".\n\n" + sections,
            title=f"Synthetic article {n}",
        )
    return directory


def marker_corpus(directory: Path, word: str) -> Path:
    """The shipped corpus plus one article whose only distinctive word is `word`."""
    shutil.copytree(SHIPPED_CORPUS, directory, dirs_exist_ok=True)
    for old in directory.glob("marker-*.md"):
        old.unlink()
    write_article(
        directory,
        f"marker-{word}.md",
        f"This article exists to carry {word}.\n",
        title=f"Marker {word}",
    )
    return directory


# -- (a) kill -9 of a build ------------------------------------------------------------------


@pytest.mark.slow
def test_killed_build_leaves_the_live_index_serving_and_the_next_build_works(
    tmp_path, shipped_articles
):
    index = tmp_path / "index"
    live = build_index(shipped_articles, index).name
    big = synthetic_corpus(tmp_path / "big", 600)
    server = serve_app(create_app({"KB_INDEX_DIR": str(index), "KB_RATE_LIMIT": ""}))
    base = next(server)
    proc = None
    try:
        assert get(f"{base}/api/v1/health")[1]["build"] == live
        proc = subprocess.Popen(
            [*kb_command(), "build", "--corpus", str(big), "--index", str(index)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its indexing processes are in its session
        )
        # Wait until the build is writing its .tmp-<name> directory, then kill it midway.
        deadline = time.monotonic() + 120
        while not list((index / BUILDS_DIR).glob(".tmp-*")):
            assert proc.poll() is None, f"kb build ended early ({proc.returncode})"
            assert time.monotonic() < deadline, "kb build never started writing"
            time.sleep(0.02)
        time.sleep(0.5)
        assert proc.poll() is None, "the build finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        # The build's indexing processes (one per core for 2,400 sections) die with it.
        deadline = time.monotonic() + 10
        while session_processes(proc.pid):
            assert time.monotonic() < deadline, f"left running: {session_processes(proc.pid)}"
            time.sleep(0.1)

        assert current(index) == live
        assert finished_builds(index) == [live]
        status, health = get(f"{base}/api/v1/health")
        assert (status, health["build"]) == (200, live)
        status, body = get(f"{base}/api/v1/search?q=mentalization")
        assert status == 200 and body["total"] >= 1

        # The next build succeeds despite the killed build's leftover, and is served.
        done = run_kb_build(marker_corpus(tmp_path / "next", "afterkillmarker"), index)
        new = built_name(done)
        assert current(index) == new != live
        status, health = get(f"{base}/api/v1/health")
        assert (status, health["build"]) == (200, new)
        assert get(f"{base}/api/v1/search?q=afterkillmarker")[1]["total"] == 1
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        next(server, None)


# -- (b) a missing or damaged index at startup, under gunicorn -------------------------------


def _missing(index: Path) -> None:
    shutil.rmtree(index)


def _garbage_current(index: Path) -> None:
    (index / CURRENT_FILE).write_bytes(b"\x00\xff\xfe garbage \x81\n")


def _current_names_missing_build(index: Path) -> None:
    (index / CURRENT_FILE).write_text("20990101T000000000000Z-deadbeef\n", encoding="utf-8")


def _live_build(index: Path) -> Path:
    return index / BUILDS_DIR / current(index)


def _segments_deleted(index: Path) -> None:
    for segment in _live_build(index).glob("*.seg"):
        segment.unlink()


def _segments_truncated(index: Path) -> None:
    for segment in _live_build(index).glob("*.seg"):
        segment.write_bytes(segment.read_bytes()[:64])


def _toc_deleted(index: Path) -> None:
    for toc in _live_build(index).glob("*.toc"):
        toc.unlink()


@pytest.mark.slow
@pytest.mark.parametrize(
    "damage",
    [
        _missing,
        _garbage_current,
        _current_names_missing_build,
        _segments_deleted,
        _segments_truncated,
        _toc_deleted,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_damaged_index_at_startup_answers_503_with_a_hint_and_recovers(
    tmp_path, shipped_articles, damage
):
    index = tmp_path / "index"
    build_index(shipped_articles, index)
    damage(index)
    with gunicorn(index, tmp_path) as (base, proc, log_path):
        for path in ("/api/v1/health", "/api/v1/search?q=therapy", "/api/v1/health"):
            status, body = get(base + path)
            assert status == 503, (path, body, log_path.read_text())
            error = body["error"]
            assert error["code"] == "index_unavailable"
            assert "kb build" in error["message"]  # the hint: what to do about it
        time.sleep(1)  # a crash loop would show up as restarted workers by now
        assert proc.poll() is None, "the gunicorn master went down"
        log = log_path.read_text(errors="replace")
        assert "Traceback" not in log, log
        assert log.count("Booting worker") == 2, log  # no worker died and was replaced

        # A new build is picked up without restarting anything.
        done = run_kb_build(SHIPPED_CORPUS, index)
        new = built_name(done)
        status, health = get(f"{base}/api/v1/health")
        assert (status, health["build"]) == (200, new)
        assert get(f"{base}/api/v1/search?q=therapy")[1]["total"] >= 1


# -- (c) a corpus file with bad front matter -------------------------------------------------


def test_bad_front_matter_fails_the_build_with_path_line_and_keeps_the_live_index(
    tmp_path, shipped_articles
):
    index = tmp_path / "index"
    live = build_index(shipped_articles, index).name
    corpus = tmp_path / "corpus"
    shutil.copytree(SHIPPED_CORPUS, corpus)
    bad = corpus / "broken.md"
    bad.write_text(
        "---\ntitle: Broken\nslug: broken\nsource: test\nsummary: [unclosed\n---\nBody.\n",
        encoding="utf-8",
    )
    done = run_kb_build(corpus, index)
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(rf"{re.escape(str(bad))}:5: .+", done.stderr), done.stderr
    assert "Traceback" not in done.stderr
    assert current(index) == live
    assert finished_builds(index) == [live]
    assert not list((index / BUILDS_DIR).glob(".tmp-*"))


# -- (d) rebuilds under load, under gunicorn -------------------------------------------------


@pytest.mark.slow
def test_rebuilds_under_load_fail_no_request_and_the_new_build_is_served(
    tmp_path, shipped_articles
):
    index = tmp_path / "index"
    build_index(shipped_articles, index)
    queries = [
        "mentalization",
        "dbt skills",
        "family involvement",
        "medication side effects",
        "telehealth",
        "theraphy",
        "self harm",
        "borderline personality",
    ]
    paths = ["/api/v1/search?" + urlencode({"q": q}) for q in queries] + ["/api/v1/health"]
    with gunicorn(index, tmp_path) as (base, proc, log_path):
        port = int(base.rsplit(":", 1)[1])
        stop = threading.Event()
        lock = threading.Lock()
        statuses: dict[int, int] = {}
        failures: list[str] = []

        def client(offset: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            i = offset
            while not stop.is_set():
                path = paths[i % len(paths)]
                i += 1
                try:
                    conn.request("GET", path)
                    response = conn.getresponse()
                    response.read()
                    with lock:
                        statuses[response.status] = statuses.get(response.status, 0) + 1
                    if response.status != 200:
                        failures.append(f"{path}: {response.status}")
                except (OSError, http.client.HTTPException) as exc:
                    failures.append(f"{path}: {exc!r}")
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.close()

        threads = [threading.Thread(target=client, args=(n * 3,)) for n in range(4)]
        for thread in threads:
            thread.start()
        builds = []
        try:
            time.sleep(1)
            for n in range(1, 4):
                corpus = marker_corpus(tmp_path / "corpus", f"swapmarker{n}")
                builds.append(built_name(run_kb_build(corpus, index)))
                time.sleep(0.5)
            time.sleep(1)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        assert not failures, failures[:10]
        assert sum(statuses.values()) > 20, statuses  # the load really ran
        assert proc.poll() is None
        status, health = get(f"{base}/api/v1/health")
        assert (status, health["build"]) == (200, builds[-1])
        assert get(f"{base}/api/v1/search?q=swapmarker3")[1]["total"] == 1
        assert get(f"{base}/api/v1/search?q=swapmarker2")[1]["total"] == 0
        assert "Traceback" not in log_path.read_text(errors="replace")
