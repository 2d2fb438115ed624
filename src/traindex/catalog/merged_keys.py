"""Merged key index per release (compaction): one sorted array per key field for all shards.

Per-shard key arrays cost one binary search per shard per lookup: at LAION's ~1,000
source files that is ~1,000 probes, tens of milliseconds (``bench/catalog_shards.py``).
Compaction merges a field's per-shard ``(hash, row)`` arrays into one sorted
``(hash, loc)`` pair (``loc`` = shard id << 40 | row, as the caption index stores rows),
so a lookup is one O(log n) search whatever the number of shards. Shards added after a
compaction are still probed one by one until the next, so a lookup is always complete.

Layout per field: ``keys/<field>/merged-<seq>.{h,loc}.npy`` and ``merged.json`` (the
commit point: sequence number and the shard ids covered). New files are written under a
new sequence number before ``merged.json`` names them, so readers never see a half-written
pair; older pairs are deleted after the switch (open memory maps keep working).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from traindex.catalog.locations import loc_of
from traindex.core.files import write_atomic

__all__ = ["COMPACT_AFTER_SHARDS", "MergedKeys", "compact_keys", "open_merged"]

COMPACT_AFTER_SHARDS = 64
"""Ingest compacts a release's keys when it has at least this many shards (below that
per-shard probes cost under ~2 ms)."""

_COMMIT = "merged.json"
_ROW_BITS = (1 << 40) - 1


@dataclass(frozen=True, slots=True)
class MergedKeys:
    """One field's merged arrays (memory-mapped) and the shards they cover."""

    shards: frozenset[int]
    hashes: npt.NDArray[np.uint64]
    locs: npt.NDArray[np.int64]

    def rows(self, key: np.uint64, wanted: Collection[int]) -> dict[int, npt.NDArray[np.int64]]:
        """Shard id -> sorted rows holding ``key``, for the ``wanted`` shards it covers."""
        lo, hi = (
            np.searchsorted(self.hashes, key, "left"),
            np.searchsorted(self.hashes, key, "right"),
        )
        if hi == lo:
            return {}
        locs = np.asarray(self.locs[lo:hi])  # sorted: one run of locs per shard
        runs = np.split(locs, np.flatnonzero(np.diff(locs >> 40)) + 1)
        return {int(run[0] >> 40): run & _ROW_BITS for run in runs if int(run[0] >> 40) in wanted}


def open_merged(field_dir: Path) -> MergedKeys | None:
    commit = field_dir / _COMMIT
    if not commit.is_file():
        return None
    record = json.loads(commit.read_text(encoding="utf-8"))
    base = field_dir / f"merged-{int(record['seq'])}"
    return MergedKeys(
        frozenset(int(s) for s in record["shards"]),
        np.load(base.with_suffix(".h.npy"), mmap_mode="r"),
        np.load(base.with_suffix(".loc.npy"), mmap_mode="r"),
    )


def compact_keys(keys_dir: Path, shard_ids: Sequence[int]) -> int:
    """Merge every field's arrays of ``shard_ids`` (the committed shards); keys merged."""
    merged = 0
    for field_dir in sorted(p for p in keys_dir.iterdir() if p.is_dir()):
        merged += _compact_field(field_dir, shard_ids)
    return merged


def _compact_field(field_dir: Path, shard_ids: Sequence[int]) -> int:
    present = [s for s in shard_ids if (field_dir / f"{s:05d}.h.npy").is_file()]
    hashes = np.concatenate(
        [np.empty(0, np.uint64), *(np.load(field_dir / f"{s:05d}.h.npy") for s in present)]
    )
    locs = np.concatenate(
        [
            np.empty(0, np.int64),
            *(loc_of(s, 0) | np.load(field_dir / f"{s:05d}.r.npy") for s in present),
        ]
    )
    order = np.lexsort((locs, hashes))  # by hash, then shard, then row: per-shard order kept
    old = open_merged(field_dir)
    seq = _seq(field_dir) + 1
    base = field_dir / f"merged-{seq}"
    for suffix, array in ((".h.npy", hashes[order]), (".loc.npy", locs[order])):
        tmp = field_dir / f".merged-{seq}{suffix}.tmp.npy"
        np.save(tmp, array)
        tmp.replace(base.with_suffix(suffix))
    write_atomic(field_dir / _COMMIT, json.dumps({"seq": seq, "shards": present}).encode())
    if old is not None:
        for stale in field_dir.glob("merged-*.npy"):
            if not stale.name.startswith(f"merged-{seq}."):
                stale.unlink()
    return int(hashes.size)


def _seq(field_dir: Path) -> int:
    commit = field_dir / _COMMIT
    return int(json.loads(commit.read_text(encoding="utf-8"))["seq"]) if commit.is_file() else 0
