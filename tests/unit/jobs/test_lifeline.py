"""Children die with their parent (both mechanisms), and orphans holding a record are reclaimed.

Each case starts a small parent process that starts a child and prints its pid, then the
test kills the parent with SIGKILL and checks the child is gone; the waits are upper
bounds for slow machines, not asserted speeds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from traindex.jobs.lifeline import ChildRecord, reclaim

WAIT_S = 30.0

PARENT = textwrap.dedent(
    """
    import multiprocessing as mp, sys, threading, time
    from traindex.jobs.lifeline import Lifeline, die_with_parent

    def child(lifeline):
        if lifeline is not None:
            die_with_parent(lifeline)
        time.sleep(600)

    def start(guarded):
        proc = mp.get_context("spawn").Process(
            target=child, args=(Lifeline.here() if guarded else None,)
        )
        proc.start()
        print(proc.pid, flush=True)

    if __name__ == "__main__":
        mode = sys.argv[1]
        if mode == "thread":  # started from a short-lived thread: only the getppid watch
            t = threading.Thread(target=start, args=(True,))
            t.start()
            t.join()
        else:
            start(mode == "main")
        time.sleep(600)
    """
)


def _parent_with_child(tmp_path: Path, mode: str) -> tuple[subprocess.Popen[str], int]:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    proc = subprocess.Popen([sys.executable, str(script), mode], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


@pytest.mark.parametrize("mode", ["main", "thread"])
def test_child_dies_when_parent_is_killed(tmp_path: Path, mode: str) -> None:
    parent, child_pid = _parent_with_child(tmp_path, mode)
    child = psutil.Process(child_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    _, alive = psutil.wait_procs([child], timeout=WAIT_S)
    assert alive == []


def test_unguarded_child_outlives_parent_and_reclaim_kills_it(tmp_path: Path) -> None:
    """The orphan a killed old run leaves: ``reclaim`` finds it by its record and kills it."""
    parent, child_pid = _parent_with_child(tmp_path, "unguarded")
    record = tmp_path / "child.record"
    ChildRecord(parent.pid, child_pid, ChildRecord.of(child_pid).child_start).write(record)
    assert reclaim(record) is None  # its parent is alive: left alone
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    child = psutil.Process(child_pid)
    _, alive = psutil.wait_procs([child], timeout=1.0)
    assert alive == [child]  # an orphan, still running
    assert reclaim(record) == child_pid
    _, alive = psutil.wait_procs([child], timeout=WAIT_S)
    assert alive == []


def test_reclaim_ignores_missing_garbled_and_reused_records(tmp_path: Path) -> None:
    record = tmp_path / "child.record"
    assert reclaim(record) is None
    record.write_text("not a record")
    assert reclaim(record) is None
    # a pid that now belongs to another process (different start time) is never killed
    ChildRecord(999_999_999, os.getpid(), 1).write(record)
    assert reclaim(record) is None
