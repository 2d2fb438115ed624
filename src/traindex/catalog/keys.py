"""Exact-value indexes: sorted 64-bit key hashes per shard, memory-mapped.

For each key field (canonical URL, registrable domain, Flickr photo id, Flickr owner, and
the SHA-256 / MD5 of the original image bytes where the dataset records them) a
shard has two aligned ``.npy`` arrays: the sorted ``mmh3`` hashes of the values and the
shard rows holding them. A lookup is a binary search per shard over memory-mapped files,
so it costs microseconds and no RAM regardless of catalog size. Hash collisions are
harmless: callers re-check the stored value of every row they return.

During ingest the (hash, row) pairs of a shard are spilled to a temporary file batch by
batch, then sorted once, so memory stays bounded by one field of one shard.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import mmh3
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from traindex.catalog.merged_keys import MergedKeys, open_merged
from traindex.core.distinct import map_distinct

__all__ = ["KEY_FIELDS", "KeyIndex", "KeyRows", "KeySpiller", "hash_values"]

KEY_FIELDS: tuple[str, ...] = (
    "url", "domain", "flickr_photo_id", "flickr_owner", "sha256", "md5",
)  # fmt: skip

_PAIR = np.dtype([("h", "<u8"), ("r", "<i8")])


def hash_values(values: Iterable[object]) -> npt.NDArray[np.uint64]:
    """The key hash of each value, as ``str(value)`` in UTF-8."""
    return np.fromiter((mmh3.hash64(str(v), signed=False)[0] for v in values), dtype=np.uint64)


def _hash_one(value: object) -> int:
    return int(mmh3.hash64(str(value), signed=False)[0])


class KeySpiller:
    """Collects (hash, row) pairs of one shard on disk, then writes sorted indexes."""

    def __init__(self, work_dir: Path, fields: Sequence[str] = KEY_FIELDS) -> None:
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)
        self._files = {f: (work_dir / f"{f}.pairs").open("wb") for f in fields}

    def add(
        self, batch: pa.RecordBatch, first_row: int, rows: npt.NDArray[np.int64] | None = None
    ) -> None:
        """Record the non-null key values of ``batch``.

        Row ``i`` of the batch is shard row ``first_row + i``, or ``rows[i]`` when given.
        """
        for field, fh in self._files.items():
            column = batch.column(field)
            valid = np.asarray(pc.is_valid(column).to_numpy(zero_copy_only=False))
            positions = np.flatnonzero(valid)
            if not len(positions):
                continue
            hashes = map_distinct(pc.filter(column, pa.array(valid)), _hash_one, pa.uint64())
            pairs = np.empty(len(positions), dtype=_PAIR)
            pairs["h"] = hashes.to_numpy(zero_copy_only=False)
            pairs["r"] = positions + first_row if rows is None else rows[positions]
            fh.write(pairs.tobytes())

    def finish(self, keys_dir: Path, shard_id: int) -> None:
        """Sort each field's pairs and move the finished arrays into ``keys_dir``."""
        for field, fh in self._files.items():
            fh.close()
            pairs = np.fromfile(self.work_dir / f"{field}.pairs", dtype=_PAIR)
            # rows were written in ascending order; a stable sort on the hash keeps them so
            order = np.argsort(pairs["h"], kind="stable")
            out = keys_dir / field
            out.mkdir(parents=True, exist_ok=True)
            for suffix, column in (("h", pairs["h"][order]), ("r", pairs["r"][order])):
                tmp = self.work_dir / f"{field}.{suffix}.npy"
                np.save(tmp, column)
                tmp.replace(out / f"{shard_id:05d}.{suffix}.npy")

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()


@dataclass(frozen=True, slots=True)
class KeyRows:
    """The rows found per shard, and the shards not looked at: named (``catalog/<id>``)
    when a look-up fanned out over a cluster could not reach their holder."""

    found: dict[int, npt.NDArray[np.int64]]
    not_searched: tuple[str, ...] = ()


class KeyIndex:
    """Read side: which rows of which shards hold a key value."""

    def __init__(self, keys_dir: Path) -> None:
        self.keys_dir = keys_dir
        self._maps: dict[tuple[str, int], tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]] = {}
        self._merged: dict[str, MergedKeys | None] = {}

    def _arrays(
        self, field: str, shard_id: int
    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]] | None:
        cached = self._maps.get((field, shard_id))
        if cached is not None:
            return cached
        base = self.keys_dir / field / f"{shard_id:05d}"
        hpath, rpath = base.with_suffix(".h.npy"), base.with_suffix(".r.npy")
        if not hpath.is_file():
            return None
        arrays = (np.load(hpath, mmap_mode="r"), np.load(rpath, mmap_mode="r"))
        self._maps[(field, shard_id)] = arrays
        return arrays

    def rows(self, field: str, values: Sequence[object], shard_ids: Sequence[int]) -> KeyRows:
        """Shard id -> sorted rows whose ``field`` hashes like one of ``values`` (may hold
        collisions), in ``shard_ids`` order: from the merged index where the release was
        compacted, per shard for the shards added since. Several values are one call so
        that a look-up fanned out over a cluster is one round trip (a URL in both schemes)."""
        keys = np.unique(hash_values(list(values)))
        if field not in self._merged:
            self._merged[field] = open_merged(self.keys_dir / field)
        merged = self._merged[field]
        found: dict[int, npt.NDArray[np.int64]] = {}
        wanted = set(shard_ids)
        for key in keys:
            covered = merged.rows(key, wanted) if merged is not None else {}
            for sid in shard_ids:
                if merged is not None and sid in merged.shards:
                    rows = covered.get(sid)
                else:
                    rows = self._shard_rows(field, sid, key)
                if rows is not None:
                    found[sid] = np.union1d(found[sid], rows) if sid in found else rows
        return KeyRows({sid: found[sid] for sid in shard_ids if sid in found})

    def _shard_rows(
        self, field: str, shard_id: int, key: np.uint64
    ) -> npt.NDArray[np.int64] | None:
        arrays = self._arrays(field, shard_id)
        if arrays is None:
            return None
        hashes, rows = arrays
        lo, hi = np.searchsorted(hashes, key, "left"), np.searchsorted(hashes, key, "right")
        return np.asarray(rows[lo:hi]) if hi > lo else None
