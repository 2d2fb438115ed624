"""Caption indexing in a child process, fed while the main process normalises.

Why: Tantivy's Python binding spends ~5 µs per document on the calling thread, about as
much as all other ingest work together. Running it in a child process puts it on the
second core. Captions travel as Arrow arrays through a bounded queue, so memory stays
bounded when the child falls behind. The protocol mirrors the writer's own: ``begin``
(delete the shard's old documents), ``add``..., then ``commit`` or ``rollback``, each
acknowledged, so the caller knows the index state before it commits the shard.

The child dies with its parent (``traindex.jobs.lifeline``), and a child left over from a
killed run is reclaimed before a new one starts, so a ``kill -9`` never leaves the writer
lock held against the resume. Tantivy's lock is an OS file lock, released when its holder
exits; taking the writer retries briefly while a killed holder is still exiting.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa

from traindex.catalog.text import TextIndex
from traindex.errors import TraindexError
from traindex.jobs.lifeline import ChildRecord, Lifeline, die_with_parent, reclaim

__all__ = ["TextIndexer"]

_QUEUE_BATCHES = 4
_POLL_SECONDS = 0.5
_LOCK_WAIT_SECONDS = 10.0
RECORD = ".writer.child"
"""File in the index folder naming the running indexer and the process that started it."""


def _writer(index: TextIndex, heap_bytes: int) -> Any:
    """The index writer, waiting a little for a lock whose killed holder is still exiting."""
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    while True:
        try:
            return index.writer(heap_bytes)
        except ValueError as exc:
            if "LockBusy" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _serve(path: str, heap_bytes: int, inbox: Any, outbox: Any, lifeline: Lifeline) -> None:
    die_with_parent(lifeline)
    index = TextIndex(Path(path))
    writer = None
    failure: str | None = None
    while True:
        op, *args = inbox.get()
        if op == "close":
            return
        try:
            if op == "begin":
                failure = None
                writer = _writer(index, heap_bytes)
                TextIndex.delete_shard(writer, args[0])
            elif op == "add" and failure is None and writer is not None:
                TextIndex.add(writer, args[0], args[1], args[2].to_pylist())
            elif op in ("commit", "rollback") and writer is not None:
                if op == "commit" and failure is None:
                    writer.commit()
                    writer.wait_merging_threads()
                else:
                    writer.rollback()
                writer = None
        except Exception as exc:  # reported at the next commit, never lost
            failure = f"{type(exc).__name__}: {exc}"
        if op in ("commit", "rollback"):
            outbox.put(("error", failure) if failure else ("ok", None))


class TextIndexer:
    """A caption index writer that lives in a child process (use as a context manager)."""

    def __init__(self, path: Path, heap_bytes: int) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._record = path / RECORD
        reclaim(self._record)
        ctx = mp.get_context("spawn")
        self._inbox = ctx.Queue(maxsize=_QUEUE_BATCHES)
        self._outbox = ctx.Queue()
        args = (str(path), heap_bytes, self._inbox, self._outbox, Lifeline.here())
        self._proc = ctx.Process(target=_serve, args=args, daemon=True)
        self._proc.start()
        assert self._proc.pid is not None  # set by start()
        ChildRecord.of(self._proc.pid).write(self._record)

    def begin(self, shard_id: int) -> None:
        self._send("begin", shard_id)

    def add(self, shard_id: int, first_row: int, captions: pa.Array) -> None:
        self._send("add", shard_id, first_row, captions)

    def commit(self) -> None:
        self._send("commit")
        self._reply("commit")

    def rollback(self) -> None:
        if self._proc.is_alive():
            self._send("rollback")
            self._reply("rollback")

    def _send(self, *message: Any) -> None:
        # A dead child never drains the bounded queue: a plain put() would wait forever.
        while True:
            try:
                self._inbox.put(message, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                self._check_alive(str(message[0]))

    def _check_alive(self, what: str) -> None:
        if not self._proc.is_alive():
            raise TraindexError(
                f"caption indexer exited (code {self._proc.exitcode}) before {what}; if"
                " ingest was started from a script, guard the call with"
                " `if __name__ == '__main__':` (the child re-imports the script)"
            )

    def _reply(self, what: str) -> None:
        while True:
            try:
                status, detail = self._outbox.get(timeout=_POLL_SECONDS)
                break
            except queue.Empty:
                self._check_alive(what)
        if status != "ok":
            raise TraindexError(f"caption index {what} failed: {detail}")

    def close(self) -> None:
        if self._proc.is_alive():
            with contextlib.suppress(queue.Full):
                self._inbox.put(("close",), timeout=_POLL_SECONDS)
        self._proc.join(timeout=30)
        if self._proc.is_alive():
            self._proc.kill()
        self._record.unlink(missing_ok=True)

    def __enter__(self) -> TextIndexer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
