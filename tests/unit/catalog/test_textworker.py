"""The caption indexer child: a dead child is an error, never a hang."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pyarrow as pa
import pytest

from traindex.catalog.textworker import RECORD, TextIndexer
from traindex.errors import TraindexError
from traindex.jobs.lifeline import ChildRecord


def test_feeding_a_dead_indexer_raises_instead_of_blocking(tmp_path: Path) -> None:
    index = tmp_path / "text"
    captions = pa.array(["a red bicycle"] * 100)
    with TextIndexer(index, 15_000_000) as text:
        record = ChildRecord.read(index / RECORD)
        assert record is not None
        os.kill(record.child, signal.SIGKILL)
        text.begin(0)

        def feed() -> None:  # more than the queue holds: put() would then wait forever
            for first_row in range(0, 10_000, 100):
                text.add(0, first_row, captions)

        with pytest.raises(TraindexError, match=r"caption indexer exited \(code -9\)"):
            feed()


def test_a_living_indexer_commits_what_it_was_fed(tmp_path: Path) -> None:
    from traindex.catalog.text import TextIndex

    index = tmp_path / "text"
    with TextIndexer(index, 15_000_000) as text:
        text.begin(3)
        text.add(3, 0, pa.array(["a red bicycle", "a blue boat"]))
        text.commit()
    hits = TextIndex(index).search("bicycle", 10)
    assert (hits.total, [(h.shard_id, h.row) for h in hits.hits]) == (1, [(3, 0)])
