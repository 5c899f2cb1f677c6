"""kb.workers: a build's processes, forked from a preloaded fork server, dying with the build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from kb import workers


def _pid_and_modules(_n: int) -> tuple[int, bool]:
    return os.getpid(), "kb.index" in sys.modules


def test_a_pool_runs_work_in_other_processes_that_have_the_build_modules_already():
    with workers.process_pool(2) as pool:
        results = list(pool.map(_pid_and_modules, range(4)))
    assert all(pid != os.getpid() for pid, _ in results)
    if workers.context().get_start_method() == "forkserver":
        assert all(preloaded for _, preloaded in results)  # imported once, by the server


def test_alive_tells_a_running_process_from_an_ended_one():
    assert workers._alive(os.getpid())
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    assert not workers._alive(ended.pid)


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_a_pools_processes_end_when_their_caller_is_killed(tmp_path):
    script = tmp_path / "caller.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, sys, time
            from kb import workers

            def busy(_n):
                os.write(1, f"{os.getpid()}\\n".encode())  # one write: lines never interleave
                time.sleep(60)

            if __name__ == "__main__":
                pool = workers.process_pool(2)
                for n in range(2):
                    pool.submit(busy, n)
                time.sleep(60)
            """
        )
    )
    caller = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    busy: list[int] = []
    try:
        busy = [int(caller.stdout.readline()) for _ in range(2)]
        os.kill(caller.pid, signal.SIGKILL)
        caller.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_running(pid) for pid in busy):
            assert time.monotonic() < deadline, f"still running: {busy}"
            time.sleep(0.05)
    finally:
        if caller.poll() is None:
            caller.kill()
        for pid in busy:  # whatever a failure left running
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
