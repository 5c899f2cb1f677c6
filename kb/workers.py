"""How a build uses the machine: processes for its CPU-bound steps (reading the corpus,
indexing it), and Python's cyclic garbage collector paused while it runs.

Python runs one thread at a time, so a build uses one process per core for its big steps:
`process_pool` starts them, and each dies with the build (a `kill -9` of `kb build` leaves
no process writing on). They are forked from a fork server (multiprocessing's
"forkserver"; spawned where a platform has none) that has imported the build's modules
once: the caller itself is never forked (it may hold threads), and a new process is ready
in milliseconds, where a spawned one starts Python and imports kb.index, numpy and Whoosh
again (about 0.3 s, for each of a build's two pools). `warm_up` starts the server early, so
it imports while the build scans the corpus. `collector_paused` spares the build the
collector's walks over the many objects it holds.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

MAX_WORKERS = 8
# What the fork server imports before it forks any process: what reading and indexing use.
PRELOAD = ("kb.index",)
# How often a build's process looks whether the build is still there, where it cannot wait.
WATCH_SECONDS = 0.2


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def process_count(items: int, minimum: int, workers: int | None = None) -> int:
    """How many processes: `workers` if given, else one per core (at most MAX_WORKERS)
    when there are `minimum` items or more, else 1."""
    if workers is not None:
        return max(1, workers)
    if items < minimum:
        return 1
    return max(1, min(cores(), MAX_WORKERS))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run a build step with Python's cyclic garbage collector off (reference counting
    still frees everything as usual).

    An incremental build holds the previous build's corpus.json as millions of small
    objects, and each full collection walks all of them: with the collector on, that cost
    about a third of an incremental build of 10,214 sections. A build makes no garbage
    cycles worth collecting meanwhile: its peak memory was the same either way.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def context():
    """The multiprocessing context of a build's processes: the fork server, preloaded with
    PRELOAD, where the platform has one; else spawn. Its Queue() is the one to hand them."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        forkserver = multiprocessing.get_context("forkserver")
        forkserver.set_forkserver_preload(list(PRELOAD))  # kept by a server already running
        return forkserver
    return multiprocessing.get_context("spawn")


def warm_up() -> None:
    """Start the fork server now, if the platform has one and it is not running yet: it
    imports PRELOAD in a process of its own while the caller goes on."""
    start = context()
    if start.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def process_pool(
    procs: int, initializer: Callable[..., None] | None = None, initargs: tuple = ()
) -> ProcessPoolExecutor:
    """A pool of `procs` processes (see `context`) that die with this one;
    `initializer(*initargs)` runs in each after that is arranged."""
    return ProcessPoolExecutor(
        procs,
        mp_context=context(),
        initializer=_start,
        initargs=(os.getpid(), initializer, initargs),
    )


def _start(caller: int, initializer, initargs: tuple) -> None:
    """In a new process: die with `caller` (or exit now if it is gone already), then run
    the caller's initializer.

    A spawned process's parent is the caller, and Linux kills it when that parent dies
    (PR_SET_PDEATHSIG). A forked one's parent is the fork server, which outlives the
    caller while any of its processes runs, so a thread watches the caller too."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the watching thread alone
        pass
    if not _alive(caller):
        os._exit(1)
    if os.name == "posix":
        threading.Thread(target=_watch, args=(caller,), name="kb-watch", daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _watch(caller: int) -> None:
    """Exit this process at once when process `caller` ends (a pidfd where Linux has
    one, else a look every WATCH_SECONDS)."""
    try:
        import select

        handle = os.pidfd_open(caller)
    except (AttributeError, OSError):
        handle = None
    if handle is not None:
        select.select([handle], [], [])  # readable when the process has ended
    else:
        while _alive(caller):
            time.sleep(WATCH_SECONDS)
    os._exit(1)


def _alive(pid: int) -> bool:
    """Whether process `pid` is still running (assumed where it cannot be asked safely:
    on Windows, signal 0 is CTRL_C_EVENT, which os.kill would send)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, but another user's: a recycled process number
        return False
    return True
