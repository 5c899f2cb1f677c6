"""LiveKnowledgeBase: the build an index directory's CURRENT names, reopened when it changes."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

from kb.index import current_build
from kb.search.build import KnowledgeBase


class LiveKnowledgeBase:
    """Follows an index directory: opens the newest build when CURRENT changes.

    Requests in flight keep the KnowledgeBase they started with, so a switch never fails
    a request; the old build is simply dropped when nobody holds it any more.
    """

    def __init__(self, index_dir: str | Path, **options):
        self.index_dir = Path(index_dir)
        self.options = options
        self._lock = threading.Lock()
        self._current: KnowledgeBase | None = None
        self._stamp: tuple | None = None

    def _current_stamp(self) -> tuple | None:
        try:
            st = (self.index_dir / "CURRENT").stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def get(self) -> KnowledgeBase:
        """The KnowledgeBase of the current build, opening it first if CURRENT changed.

        A new build that fails to open is ignored while an older one serves; with none
        open yet, the error (e.g. kb.index.IndexNotFound) is raised. The build served must
        still have all its files (a few stat calls per request): if the index directory
        was removed or moved, every request, health included, gets IndexNotFound until a
        build is back, instead of some requests failing half-way with a server error.
        """
        stamp = self._current_stamp()
        current = self._current
        if current is not None and stamp == self._stamp:
            current.check_files()
            return current
        with self._lock:
            if self._current is None or stamp != self._stamp:
                try:
                    build = current_build(self.index_dir)
                    if self._current is None or build != self._current.build_dir:
                        # (`current` let go of the old build too, for the collection)
                        current = self._current = KnowledgeBase(build, **self.options)
                        if gc.get_freeze_count():
                            refreeze_heap()
                    self._stamp = stamp
                except Exception:
                    if self._current is None:
                        raise
                    # A damaged new build: keep serving the one that works.
            self._current.check_files()
            return self._current


def freeze_heap() -> None:
    """Collect garbage, then leave every object alive now out of later collections.

    A server process holds an opened build (hundreds of thousands of objects: analyses,
    postings, memos) for as long as it runs, and each full collection walked all of them:
    a pause of about 50 ms every 1,500 searches on the shipped corpus, longer on a big
    one. Frozen (gc.freeze), they are still freed when nothing refers to them; only
    reference cycles among them would wait, which is why a switch to a new build
    collects again (see refreeze_heap). A gunicorn worker calls this once it has opened
    its build (kb.gunicorn_worker).
    """
    gc.collect()
    gc.freeze()


def refreeze_heap() -> None:
    """After a build switch in a process that froze its heap: unfreeze, so that the old
    build's reference cycles are collected now, and freeze what is alive again."""
    gc.unfreeze()
    freeze_heap()
