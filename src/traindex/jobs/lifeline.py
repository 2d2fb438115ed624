"""Worker processes that die with the process that started them.

Why: ``kill -9`` of ``traindex ingest`` or ``traindex fingerprint`` gives the parent no
chance to stop its children. An orphaned caption indexer kept the Tantivy writer lock (the
documented resume then failed), and orphaned fingerprint workers kept writing shards that
race a re-run. Two mechanisms, because neither is enough alone:

* ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (Linux): the kernel kills the child the moment its
  parent goes, even while the child sits in C code holding the GIL. But it fires when the
  parent *thread* that forked the child ends, so it is only armed when the child was
  started from the parent's main thread (which lives as long as the process). Pools and
  ``Process.start()`` start children from the thread that calls ``submit``/``start``, so
  ``Lifeline.here()`` is taken in that thread.
* A daemon thread in the child that polls ``os.getppid()``: works on every POSIX system and
  for children started from short-lived threads; when the parent dies the child is
  re-parented and the thread kills the child within ``POLL_SECONDS``.

A child that is already orphaned when its initialiser runs (parent killed during start-up)
exits at once.

Children that hold a lock (the caption indexer holds Tantivy's writer lock) also leave a
``ChildRecord`` next to it: who started them. A later run calls ``reclaim`` first, which
kills a recorded child whose parent is dead (an orphan from a version or system without
the mechanisms above), so the lock is free again; a child of a live parent is left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["POLL_SECONDS", "ChildRecord", "Lifeline", "die_with_parent", "reclaim"]

POLL_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, slots=True)
class Lifeline:
    """What a child needs to know about its parent; picklable, for pool initialisers."""

    parent_pid: int
    from_main_thread: bool

    @classmethod
    def here(cls) -> Lifeline:
        """The lifeline for children started from the calling thread of this process."""
        main = threading.current_thread() is threading.main_thread()
        return cls(os.getpid(), main)


def _arm_pdeathsig() -> bool:
    """Ask the kernel to SIGKILL this process when its parent thread ends (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGKILL)


def die_with_parent(lifeline: Lifeline) -> None:
    """Child initialiser: end this process as soon as ``lifeline.parent_pid`` is gone."""
    if lifeline.from_main_thread:
        _arm_pdeathsig()
    if os.getppid() != lifeline.parent_pid:  # the parent died before the signal was armed
        os.kill(os.getpid(), signal.SIGKILL)
    threading.Thread(
        target=_watch, args=(lifeline.parent_pid,), name="lifeline", daemon=True
    ).start()


def _stat(pid: int) -> tuple[int, int] | None:
    """``(parent pid, start time in clock ticks)`` of a live process (Linux ``/proc``).

    The start time is compared with the recorded one, so a re-used pid is never mistaken
    for the child; the parent pid tells whether the child was orphaned (re-parented)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):  # exited: it holds no locks any more
        return None
    return int(fields[1]), int(fields[19])


@dataclass(frozen=True, slots=True)
class ChildRecord:
    """``parent child child-start`` written to a file while the child works."""

    parent: int
    child: int
    child_start: int | None

    @classmethod
    def of(cls, child_pid: int) -> ChildRecord:
        stat = _stat(child_pid)
        return cls(os.getpid(), child_pid, None if stat is None else stat[1])

    def write(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(f"{self.parent} {self.child} {self.child_start or 0}\n")
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> ChildRecord | None:
        try:
            parent, child, start = (int(v) for v in path.read_text().split())
        except (OSError, ValueError):
            return None
        return cls(parent, child, start)


def reclaim(path: Path, wait_seconds: float = 10.0) -> int | None:
    """Kill the child recorded in ``path`` if it outlived its parent; its pid, else None."""
    record = ChildRecord.read(path)
    stat = None if record is None else _stat(record.child)
    if record is None or stat is None or stat[1] != record.child_start:
        return None  # gone, or the pid now belongs to another process
    if stat[0] == record.parent:
        return None  # its parent is alive: not ours to take
    os.kill(record.child, signal.SIGKILL)
    deadline = time.monotonic() + wait_seconds
    while _stat(record.child) is not None and time.monotonic() < deadline:
        time.sleep(0.05)  # its locks are released once it has exited
    return record.child
