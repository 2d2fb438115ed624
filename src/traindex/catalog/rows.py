"""Fetch catalog rows by (shard, row) without scanning.

Shards are written in small row groups (``Settings.row_group_rows``), so reading one row
decodes one row group of the requested columns. Open files and their row-group offsets
are cached per reader object (one per request or per server process).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from traindex.catalog.store import Release

__all__ = ["ShardReader"]


class ShardReader:
    """Random access to the Parquet shards of one release."""

    def __init__(self, release: Release) -> None:
        self.release = release
        self._files: dict[int, tuple[pq.ParquetFile, npt.NDArray[np.int64]]] = {}

    def _open(self, shard_id: int) -> tuple[pq.ParquetFile, npt.NDArray[np.int64]]:
        cached = self._files.get(shard_id)
        if cached is None:
            pf = pq.ParquetFile(self.release.shard_path(shard_id))
            sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
            cached = (pf, starts)
            self._files[shard_id] = cached
        return cached

    def fetch(self, shard_id: int, rows: Sequence[int], columns: Sequence[str]) -> pa.Table:
        """The given shard rows (in the given order) with ``columns``."""
        if not rows:
            return pa.table({c: pa.array([], pa.null()) for c in columns})
        pf, starts = self._open(shard_id)
        wanted = np.asarray(rows, dtype=np.int64)
        groups = np.searchsorted(starts, wanted, side="right") - 1
        unique = np.unique(groups)
        table = pf.read_row_groups([int(g) for g in unique], columns=list(columns))
        # position of each wanted row inside the concatenation of the groups read
        group_offset = np.zeros(len(unique), dtype=np.int64)
        sizes = [pf.metadata.row_group(int(g)).num_rows for g in unique]
        group_offset[1:] = np.cumsum(sizes)[:-1]
        index = group_offset[np.searchsorted(unique, groups)] + (wanted - starts[groups])
        return table.take(pa.array(index, pa.int64()))

    def scan(self, shard_id: int, columns: Sequence[str]) -> pa.Table:
        """A whole shard (used by brute-force checks and prefix filters)."""
        pf, _ = self._open(shard_id)
        return pf.read(columns=list(columns))
