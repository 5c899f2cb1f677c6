"""gunicorn's worker for kb: connections spread evenly over the workers, and requests
gunicorn itself refuses get kb's one error shape.

Every worker of gunicorn's gthread class accepts from the one listening socket, and a
worker keeps each connection it accepts (kept alive) until the client closes it. Whichever
worker wakes first takes a new connection, busy or not, so one worker often ended up with
most of a client's (or nginx's) kept-alive connections while another sat idle: on 2 cores,
benchmarks/load.py at 8 connections got anything from 490 to 1,360 requests/s from run to
run, the low runs using one core. `ConnectionBoard` is a small table in memory that the
gunicorn master creates and its forked workers share: each worker writes there how many
connections it holds (and when it last looked), and accepts new ones only while it holds
no more than the least loaded other live worker. The least loaded worker always accepts, so
a connection never waits for a worker that will not take it; a worker that stops updating
its line for STALE seconds (stuck or gone) is left out.

gunicorn answers a request it cannot parse (a bad request line, a URL or header over its
limits) before the app runs, with a small HTML page that quotes part of the request. This
worker (`worker_class` in gunicorn.conf.py) is gunicorn's gthread worker with that page
replaced by kb's Error JSON, ``{"error": {"status", "code", "message", "details"}}``, whose
message names the reason only, never the request's text.

A crisis notice survives these refusals too: when the refused request line carries a `q`
that kb.safety reads as a crisis query (raw bytes such as "q=suicide\\xff" make gunicorn
refuse the line), the error body has the same `notices` as every other error of kb. The
request's text is read in memory for that check only, never written anywhere.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import struct
import time
from pathlib import Path
from urllib.parse import unquote

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

# The same codes as kb.api.errors.CODES for the statuses gunicorn answers by itself.
CODES = {
    400: "bad_request",
    403: "forbidden",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
}


# The crisis settings of the app this worker serves (set when the app is loaded).
_crisis = {"settings": None}
_Q_RE = re.compile(r"[?&]q=([^&\s'\"]*)")


def crisis_notices_in(mesg) -> list[dict]:
    """Crisis notices for the `q` quoted in gunicorn's message about a refused request.

    Never raises: an error response must not fail.
    """
    try:
        match = _Q_RE.search(str(mesg))
        if not match:
            return []
        from kb.api.schemas import NoticeSchema
        from kb.safety import CrisisSettings, crisis_notices

        text = unquote(match.group(1).replace("+", " "), errors="replace")
        notices = crisis_notices(text, _crisis["settings"] or CrisisSettings())
        return NoticeSchema(many=True).dump(notices)
    except Exception:  # noqa: BLE001
        return []


def error_response(status: int, reason: str, mesg="") -> bytes:
    """The whole HTTP response gunicorn sends for a request it refused."""
    payload: dict = {
        "error": {
            "status": status,
            "code": CODES.get(status, "error"),
            "message": f"{reason.lower()}: the server could not read the request",
            "details": {},
        }
    }
    notices = crisis_notices_in(mesg)
    if notices:
        payload["notices"] = notices
    body = json.dumps(payload).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "Cache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def write_json_error(sock, status_int, reason, mesg) -> None:
    """Drop-in for gunicorn.util.write_error; `mesg` (it quotes the request) is only read
    for a crisis query, never sent back or logged."""
    util.write_nonblock(sock, error_response(int(status_int), str(reason), mesg))


class ConnectionBoard:
    """How many connections each live worker holds, in memory shared over fork.

    One line per worker slot: (pid, connections, when it last wrote, time.monotonic()). A
    gunicorn master makes one when it imports this module, before it forks the workers;
    a process that made its own (no master) sees only itself, and always accepts.
    """

    LINE = struct.Struct("qqd")

    def __init__(self, slots: int = 64):
        self.slots = slots
        self._memory = mmap.mmap(-1, slots * self.LINE.size)

    def claim(self, age: int, pid: int) -> int:
        """The slot of a new worker (gunicorn numbers workers by `age`), holding nothing."""
        slot = age % self.slots
        self.write(slot, pid, 0)
        return slot

    def write(self, slot: int, pid: int, connections: int, now: float | None = None) -> None:
        """A worker's connections, as of `now` (default: now)."""
        now = time.monotonic() if now is None else now
        self.LINE.pack_into(self._memory, slot * self.LINE.size, pid, connections, now)

    def release(self, slot: int, pid: int) -> None:
        """Clear a leaving worker's slot (unless a newer worker took it meanwhile)."""
        if self.LINE.unpack_from(self._memory, slot * self.LINE.size)[0] == pid:
            self.LINE.pack_into(self._memory, slot * self.LINE.size, 0, 0, 0.0)

    def least_of_others(self, slot: int, now: float, stale: float) -> int | None:
        """The fewest connections any other live worker holds (None: no other one)."""
        least = None
        for other, (pid, connections, seen) in enumerate(self.LINE.iter_unpack(self._memory)):
            if pid and other != slot and now - seen <= stale:
                if least is None or connections < least:
                    least = connections
        return least


def connections_per_worker(master: int, port: int) -> list[int] | None:
    """How many established connections on `port` each worker of the gunicorn `master`
    holds, fewest first (Linux /proc: the server's sockets, matched to each worker's open
    files; None elsewhere). For benchmarks and tests: how evenly the board spreads them."""
    try:
        table = Path("/proc/net/tcp").read_text().splitlines()[1:]
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return None
    held = set()
    for line in table:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":  # ESTABLISHED
            held.add(f"socket:[{fields[9]}]")
    counts = []
    for pid in children:
        try:
            descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:  # the worker exited meanwhile
            continue
        counts.append(sum(_link(fd) in held for fd in descriptors))
    return sorted(counts)


def _link(descriptor: Path) -> str:
    try:
        return os.readlink(descriptor)
    except OSError:  # closed since it was listed
        return ""


BOARD = ConnectionBoard()
STALE = 2.0  # seconds: a worker's loop writes its line at least once a second
# How often a worker that is not accepting looks at the board again. Its loop would
# otherwise sleep up to a second, and when the others catch up with it meanwhile, every
# worker may hold back for a moment: a new connection waits this long at most.
RECHECK = 0.02


class KbThreadWorker(ThreadWorker):
    """gunicorn's gthread worker that takes its share of the connections (ConnectionBoard)
    and whose own error pages are kb's Error JSON."""

    _slot: int | None = None
    _fair = True

    def init_process(self):
        util.write_error = write_json_error
        super().init_process()

    def run(self):
        self._slot = BOARD.claim(self.age, os.getpid())
        try:
            super().run()
        finally:
            self._leave_board()

    def _leave_board(self) -> None:
        if self._slot is not None:
            BOARD.release(self._slot, os.getpid())
            self._slot = None
            self._fair = True

    def notify(self):
        """Once per turn of the worker's loop: publish the connections held, and accept new
        ones only while holding no more than the least loaded other worker. A stopping
        worker (HUP, TERM, recycling) takes no more connections and leaves the board at
        once, so the others never hold back for it."""
        super().notify()
        self._publish()

    def _publish(self) -> None:
        if self._slot is None:
            return
        if not self.alive:
            self._leave_board()
            return
        now = time.monotonic()
        BOARD.write(self._slot, os.getpid(), self.nr_conns, now)
        least = BOARD.least_of_others(self._slot, now, STALE)
        self._fair = least is None or self.nr_conns <= least
        super().set_accept_enabled(self._fair and self.nr_conns < self.worker_connections)

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled and self._fair)

    def wait_for_and_dispatch_events(self, timeout):
        if not self._fair:
            timeout = min(timeout, RECHECK)
        super().wait_for_and_dispatch_events(timeout)

    def accept(self, listener):
        """Accept one connection, then publish it at once and stop accepting if this
        worker now holds more than its share (the others see it on their next turn)."""
        super().accept(listener)
        self._publish()

    def load_wsgi(self):
        """Load the app, open its build before the first request comes, and freeze the
        heap (kb.search.live.freeze_heap): the garbage collector's full passes then walk
        what requests made, not the build."""
        from kb.search.live import freeze_heap

        super().load_wsgi()
        extensions = getattr(self.wsgi, "extensions", {})
        _crisis["settings"] = extensions.get("kb-crisis")
        live = extensions.get("kb")
        if live is not None:
            try:
                live.get()
            except Exception:  # noqa: BLE001 - no build yet: requests get the 503
                pass
        freeze_heap()
