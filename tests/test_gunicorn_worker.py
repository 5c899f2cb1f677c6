"""kb.gunicorn_worker: kept-alive connections spread evenly over gunicorn's workers.

The board is checked on its own (live, stale and released lines), then under the real
server: nine kept-alive connections opened one after another to three workers end up
three per worker, read from /proc (which worker process holds which socket).
"""

from __future__ import annotations

import http.client
import os
import sys
import time
from pathlib import Path

import pytest

from kb.corpus import load_corpus
from kb.gunicorn_worker import STALE, ConnectionBoard, connections_per_worker
from kb.index import build_index
from tests.test_faults import gunicorn


def test_the_board_gives_the_least_loaded_other_live_worker():
    board = ConnectionBoard(slots=8)
    now = time.monotonic()
    mine = board.claim(age=1, pid=101)
    assert board.least_of_others(mine, now, STALE) is None  # alone: always accepts
    board.write(board.claim(age=2, pid=102), 102, 5, now)
    board.write(board.claim(age=3, pid=103), 103, 2, now)
    assert board.least_of_others(mine, now, STALE) == 2
    # A worker that has not written for STALE seconds (stuck or gone) is left out.
    board.write(3, 103, 2, now - STALE - 1)
    assert board.least_of_others(mine, now, STALE) == 5
    board.release(2, 102)
    assert board.least_of_others(mine, now, STALE) is None
    # A slot taken over by a newer worker is not cleared by the old one leaving.
    board.claim(age=9, pid=109)  # 9 % 8 == 1: the slot of pid 101
    board.release(1, 101)
    assert board.least_of_others(2, now, STALE) == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kept_alive_connections_spread_over_the_workers(tmp_path):
    index = tmp_path / "index"
    build_index(load_corpus(Path(__file__).resolve().parent.parent / "corpus"), index)
    with gunicorn(index, tmp_path, KB_WORKERS="3", KB_THREADS="1") as (base, proc, _log):
        port = int(base.rsplit(":", 1)[1])
        deadline = time.monotonic() + 60
        while len(connections_per_worker(proc.pid, port)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # every worker has written its line on the board
        connections = []
        try:
            for n in range(9):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("GET", f"/api/v1/search?q=therapy+{n}")
                response = connection.getresponse()
                assert response.status == 200
                response.read()  # kept alive: the worker holds the connection
                connections.append(connection)
                time.sleep(0.05)
            per_worker = connections_per_worker(proc.pid, port)
            assert per_worker == [3, 3, 3], per_worker
        finally:
            for connection in connections:
                connection.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_burst_of_new_connections_never_waits_for_a_worker(tmp_path):
    """Connections opened back to back, faster than idle workers look at the board: each is
    answered at once (a worker holding back looks again every RECHECK seconds, not after
    its loop's one-second sleep)."""
    index = tmp_path / "index"
    build_index(load_corpus(Path(__file__).resolve().parent.parent / "corpus"), index)
    with gunicorn(index, tmp_path, KB_WORKERS="3", KB_THREADS="1") as (base, proc, _log):
        port = int(base.rsplit(":", 1)[1])
        time.sleep(1.5)
        connections, slowest = [], 0.0
        try:
            for _n in range(15):
                started = time.monotonic()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("GET", "/api/v1/health")  # cheap even on a cold worker
                response = connection.getresponse()
                response.read()
                slowest = max(slowest, time.monotonic() - started)
                assert response.status == 200
                connections.append(connection)
            assert slowest < 0.3, slowest
            assert sum(connections_per_worker(proc.pid, port)) == 15
        finally:
            for connection in connections:
                connection.close()


def test_a_stopping_worker_leaves_the_board_at_once(monkeypatch):
    """On HUP, TERM or recycling a worker stops accepting but keeps its kept-alive
    connections for a moment: it leaves the board on its next turn, so the others never
    hold back for a worker that takes no more connections."""
    from gunicorn.workers.base import Worker

    from kb import gunicorn_worker

    monkeypatch.setattr(Worker, "notify", lambda self: None)  # gunicorn's heartbeat file
    worker = gunicorn_worker.KbThreadWorker.__new__(gunicorn_worker.KbThreadWorker)
    worker.sockets, worker._accepting, worker.worker_connections = [], False, 1000
    worker.alive, worker.nr_conns = True, 2
    worker._slot = gunicorn_worker.BOARD.claim(age=63, pid=os.getpid())
    other = gunicorn_worker.BOARD.claim(age=62, pid=os.getpid() + 1)
    gunicorn_worker.BOARD.write(other, os.getpid() + 1, 5)
    try:
        worker.notify()
        now = time.monotonic()
        assert gunicorn_worker.BOARD.least_of_others(other, now, STALE) == 2
        assert worker._fair and worker._accepting
        worker.alive = False  # what gunicorn's signal handlers and max_requests do
        worker.notify()
        assert worker._slot is None
        assert gunicorn_worker.BOARD.least_of_others(other, time.monotonic(), STALE) is None
    finally:
        gunicorn_worker.BOARD.release(63, os.getpid())
        gunicorn_worker.BOARD.release(other, os.getpid() + 1)
