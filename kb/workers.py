"""How a build uses the machine: processes for its CPU-bound steps (reading the corpus,
indexing it), and Python's cyclic garbage collector paused while it runs.

Python runs one thread at a time, so a build uses one process per core for its big steps:
`process_pool` starts them (spawned, never forked: callers may hold threads), and each dies
with the build (a `kill -9` of `kb build` leaves no process writing on). `collector_paused`
spares the build the collector's walks over the many objects it holds.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

MAX_WORKERS = 8


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


def process_pool(
    procs: int, initializer: Callable[..., None] | None = None, initargs: tuple = ()
) -> ProcessPoolExecutor:
    """A pool of `procs` spawned processes that die with this one; `initializer(*initargs)`
    runs in each after that is arranged."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        procs,
        mp_context=context,
        initializer=_start,
        initargs=(os.getpid(), initializer, initargs),
    )


def _start(parent: int, initializer, initargs: tuple) -> None:
    """In a new process: die with the parent (Linux: PR_SET_PDEATHSIG, then a check that the
    parent did not die before it was set), then run the caller's initializer."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the worker ends when its work is done
        pass
    if os.getppid() != parent:
        os._exit(1)
    if initializer is not None:
        initializer(*initargs)
