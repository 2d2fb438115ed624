"""Merged key index per release (compaction): one sorted array per key field for all shards.

Per-shard key arrays cost one binary search per shard per lookup: at LAION's ~1,000
source files that is ~1,000 probes, tens of milliseconds (``bench/catalog_shards.py``).
Compaction merges a field's per-shard ``(hash, row)`` arrays into one ``(hash, shard,
row)`` triple of arrays sorted in that order, so a lookup is one O(log n) search whatever
the number of shards. Shards added after a compaction are still probed one by one until
the next, so a lookup is always complete.

Shard and row are separate arrays (not one ``shard << 40 | row`` number) so that a key
held by millions of rows (a popular domain: a quarter of all rows in a skewed release)
costs two binary searches per wanted shard within its run and returns views of the row
array, not a pass over every row: with packed numbers, splitting the run by shard read
and copied all of it (0.8 s for a 50 M-row domain at 200 M rows). A run no longer than
the shards wanted (a URL's) is split as it is, which is cheaper than searching it once
per wanted shard.

Layout per field: ``keys/<field>/merged-<seq>.{h,s,r}.npy`` and ``merged.json`` (the
commit point: sequence number and the shard ids covered). New files are written under a
new sequence number before ``merged.json`` names them, so readers never see a half-written
set; older sets are deleted after the switch (open memory maps keep working). A set in an
older layout is not read (lookups probe the shards one by one) until the next compaction.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from traindex.core.files import write_atomic

__all__ = ["COMPACT_AFTER_SHARDS", "MergedKeys", "compact_keys", "open_merged"]

COMPACT_AFTER_SHARDS = 64
"""Ingest compacts a release's keys when it has at least this many shards (below that
per-shard probes cost under ~2 ms)."""

_COMMIT = "merged.json"
_PARTS = ("h", "s", "r")
"""Array files of one merged set: hashes, shard ids, rows."""


@dataclass(frozen=True, slots=True)
class MergedKeys:
    """One field's merged arrays (memory-mapped) and the shards they cover."""

    shards: frozenset[int]
    hashes: npt.NDArray[np.uint64]
    shard_ids: npt.NDArray[np.uint32]
    rows_of: npt.NDArray[np.int64]

    def rows(self, key: np.uint64, wanted: Collection[int]) -> dict[int, npt.NDArray[np.int64]]:
        """Shard id -> sorted rows holding ``key``, for the ``wanted`` shards it covers."""
        lo, hi = (
            int(np.searchsorted(self.hashes, key, "left")),
            int(np.searchsorted(self.hashes, key, "right")),
        )
        if hi == lo:
            return {}
        run = self.shard_ids[lo:hi]  # sorted: the key's rows shard by shard
        if hi - lo <= len(wanted):  # a short run (a URL's few rows): split it as it is
            rows = np.asarray(self.rows_of[lo:hi])
            cuts = np.flatnonzero(np.diff(run)) + 1
            return {
                int(part[0]): found
                for part, found in zip(np.split(run, cuts), np.split(rows, cuts), strict=True)
                if int(part[0]) in wanted
            }
        asked = np.array(sorted(s for s in wanted if s in self.shards), np.uint32)
        starts = np.searchsorted(run, asked, "left")
        ends = np.searchsorted(run, asked, "right")
        return {
            int(sid): np.asarray(self.rows_of[lo + int(a) : lo + int(b)])
            for sid, a, b in zip(asked, starts, ends, strict=True)
            if b > a
        }


def open_merged(field_dir: Path) -> MergedKeys | None:
    commit = field_dir / _COMMIT
    if not commit.is_file():
        return None
    record = json.loads(commit.read_text(encoding="utf-8"))
    base = field_dir / f"merged-{int(record['seq'])}"
    arrays = [base.with_suffix(f".{part}.npy") for part in _PARTS]
    if not all(path.is_file() for path in arrays):  # an older layout: probe shards instead
        return None
    hashes, shard_ids, rows = (np.load(path, mmap_mode="r") for path in arrays)
    return MergedKeys(frozenset(int(s) for s in record["shards"]), hashes, shard_ids, rows)


def compact_keys(keys_dir: Path, shard_ids: Sequence[int]) -> int:
    """Merge every field's arrays of ``shard_ids`` (the committed shards); keys merged."""
    merged = 0
    for field_dir in sorted(p for p in keys_dir.iterdir() if p.is_dir()):
        merged += _compact_field(field_dir, shard_ids)
    return merged


def _compact_field(field_dir: Path, shard_ids: Sequence[int]) -> int:
    present = [s for s in shard_ids if (field_dir / f"{s:05d}.h.npy").is_file()]
    hashes = [np.load(field_dir / f"{s:05d}.h.npy", mmap_mode="r") for s in present]
    columns = {
        "h": np.concatenate([np.empty(0, np.uint64), *hashes]),
        "s": np.repeat(np.array(present, np.uint32), [len(h) for h in hashes]),
        "r": np.concatenate(
            [np.empty(0, np.int64), *(np.load(field_dir / f"{s:05d}.r.npy") for s in present)]
        ),
    }
    order = np.lexsort((columns["r"], columns["s"], columns["h"]))  # per-shard order kept
    seq = _seq(field_dir) + 1
    base = field_dir / f"merged-{seq}"
    for part in _PARTS:
        tmp = field_dir / f".merged-{seq}.{part}.tmp.npy"
        np.save(tmp, columns.pop(part)[order])  # popped: one column's copy in memory at a time
        tmp.replace(base.with_suffix(f".{part}.npy"))
    write_atomic(field_dir / _COMMIT, json.dumps({"seq": seq, "shards": present}).encode())
    for stale in field_dir.glob("merged-*.npy"):  # earlier sets, of any layout
        if not stale.name.startswith(f"merged-{seq}."):
            stale.unlink()
    return len(order)


def _seq(field_dir: Path) -> int:
    commit = field_dir / _COMMIT
    return int(json.loads(commit.read_text(encoding="utf-8"))["seq"]) if commit.is_file() else 0
