"""Hamming range search over local-feature descriptors (``fingerprint/keypoints.py``).

Every stored descriptor carries its owner (a catalog location) and its point, because a
match is decided by geometry over many descriptor hits, not by one distance. Why this
shape:

* **Range, not k-nearest.** A dataset may hold dozens of copies of one photo; the k
  nearest descriptors would all come from a few of them and hide the rest. Every
  descriptor within the radius is returned.
* **faiss binary indexes, one per shard.** ``IndexBinaryFlat`` (exact) below
  ``ivf_min`` descriptors, ``IndexBinaryIVF`` above it (``nlist`` = 4 sqrt(n) cells trained
  on the shard itself, ``nprobe`` cells visited; exact when ``nprobe >= nlist``). The
  multi-index hash of ``index/binary.py`` is built for radius 31 of PDQ; ORB matches sit
  near 50 bits, where its probes explode.
* **Crash-safe, one writer, memory-mapped readers** like ``index/vectors.py``: each
  :meth:`KeypointIndex.add` writes a new shard folder, then ``manifest.json`` (the commit
  point); readers see listed shards only.

``index.brute.scan`` is the oracle the tests hold it to.

Layout::

    manifest.json  {"format", "next_seq", "ivf_min", "shards": [{"name", "count"}]}
    shard-000001/ descriptors.faiss owners.npy points.npy
"""

from __future__ import annotations

import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np
from numpy.typing import NDArray

from traindex.core.files import write_atomic
from traindex.index.base import ShardedBase

__all__ = ["DEFAULT_IVF_MIN", "DEFAULT_NPROBE", "KeypointHits", "KeypointIndex", "KeypointSearcher"]

DEFAULT_IVF_MIN = 2_000_000
"""Below this many descriptors a shard is scanned exactly (~15k images at 128 points)."""
DEFAULT_NPROBE = 16
"""Cells visited per IVF shard: at 1.28M points, 16 of 4,525 cells kept every verified
match of the exact index at 1/5 of its time (``bench/keypoint_search.py``)."""
_BITS = 256
_FORMAT = "traindex-keypoints"
_MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class KeypointHits:
    """Flat hits: query descriptor number, owner, stored point, distance and a descriptor
    id unique in the index (``shard << 32 | position``: a stored point may be claimed by
    one query point only). ``not_searched``: index shards a fanned-out search could not
    reach (``search.fanout``); hits in them may exist and are not here."""

    query: NDArray[np.int64]
    owners: NDArray[np.int64]
    points: NDArray[np.float32]
    distances: NDArray[np.int64]
    descriptor: NDArray[np.int64]
    not_searched: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.query.size)

    def select(self, take: NDArray[np.int64], first_query: int = 0) -> KeypointHits:
        """The hits at positions ``take``, query numbers counted from ``first_query``."""
        return KeypointHits(
            self.query[take] - first_query,
            self.owners[take],
            self.points[take],
            self.distances[take],
            self.descriptor[take],
            self.not_searched,
        )

    @classmethod
    def concat(cls, parts: list[KeypointHits]) -> KeypointHits:
        if not parts:
            empty = np.empty(0, np.int64)
            return cls(empty, empty, np.empty((0, 2), np.float32), empty, empty)
        return cls(
            np.concatenate([p.query for p in parts]),
            np.concatenate([p.owners for p in parts]),
            np.concatenate([p.points for p in parts]),
            np.concatenate([p.distances for p in parts]),
            np.concatenate([p.descriptor for p in parts]),
        )


@dataclass(frozen=True, slots=True)
class _Shard:
    seq: int
    index: faiss.IndexBinary
    owners: NDArray[np.int64]
    points: NDArray[np.float16]


def _npy(array: NDArray[np.generic]) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _build(descriptors: NDArray[np.uint8], ivf_min: int) -> faiss.IndexBinary:
    flat = faiss.IndexBinaryFlat(_BITS)
    if len(descriptors) < ivf_min:
        flat.add(descriptors)
        return flat
    cells = int(4 * math.sqrt(len(descriptors)))
    ivf = faiss.IndexBinaryIVF(flat, _BITS, cells)
    ivf.cp.seed = 1234
    ivf.train(descriptors)
    ivf.add(descriptors)
    return ivf


class KeypointSearcher(Protocol):
    """What image search needs of a keypoint index: in-process or fanned out."""

    def search(self, queries: NDArray[np.uint8], radius: int) -> KeypointHits: ...


class KeypointIndex(ShardedBase):
    """Descriptors with owners and points in ``directory`` (created on first :meth:`add`)."""

    directory: Path

    def __init__(
        self, directory: str | Path, *, ivf_min: int = DEFAULT_IVF_MIN, nprobe: int = DEFAULT_NPROBE
    ) -> None:
        self.directory = Path(directory)
        self.ivf_min = ivf_min
        self.nprobe = nprobe
        self._shards: list[_Shard] = []
        self._next_seq = 1
        manifest_path = self.directory / _MANIFEST
        if manifest_path.exists():
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            if manifest.get("format") != _FORMAT:
                raise ValueError(f"{self.directory} is not a traindex keypoint index")
            self._next_seq = int(manifest["next_seq"])
            self.ivf_min = int(manifest["ivf_min"])
            for entry in manifest["shards"]:
                self._shards.append(self._load(int(entry["seq"]), int(entry["count"])))

    @staticmethod
    def exists(directory: Path) -> bool:
        return (directory / _MANIFEST).exists()

    def __len__(self) -> int:
        return sum(int(s.index.ntotal) for s in self._shards)

    def _folder(self, seq: int) -> Path:
        return self.directory / f"shard-{seq:06d}"

    @property
    def shard_names(self) -> list[str]:
        """Folder names of the shards, in search order."""
        return [self._folder(s.seq).name for s in self._shards]

    def _load(self, seq: int, count: int) -> _Shard:
        folder = self._folder(seq)
        index = faiss.read_index_binary(str(folder / "descriptors.faiss"), faiss.IO_FLAG_MMAP)
        owners = np.load(folder / "owners.npy", mmap_mode="r")
        points = np.load(folder / "points.npy", mmap_mode="r")
        if index.ntotal != count or owners.shape != (count,) or points.shape != (count, 2):
            raise ValueError(f"keypoint shard {folder} does not match the manifest ({count})")
        return _Shard(seq, index, owners, points)

    def add(
        self,
        descriptors: NDArray[np.uint8],
        owners: NDArray[np.int64],
        points: NDArray[np.floating],
    ) -> None:
        """Store one batch as a new shard; persisted before it returns."""
        count = len(descriptors)
        if descriptors.shape != (count, _BITS // 8) or owners.shape != (count,):
            raise ValueError(f"expected (n, 32) descriptors and n owners, got {descriptors.shape}")
        if points.shape != (count, 2):
            raise ValueError(f"expected ({count}, 2) points, got {points.shape}")
        seq = self._next_seq
        folder = self._folder(seq)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "owners.npy", _npy(np.ascontiguousarray(owners, np.int64)))
        write_atomic(folder / "points.npy", _npy(np.ascontiguousarray(points, np.float16)))
        tmp = folder / f".descriptors.faiss.tmp-{os.getpid()}"
        faiss.write_index_binary(_build(np.ascontiguousarray(descriptors), self.ivf_min), str(tmp))
        tmp.replace(folder / "descriptors.faiss")
        self._next_seq += 1
        self._shards.append(self._load(seq, count))
        manifest = {
            "format": _FORMAT,
            "next_seq": self._next_seq,
            "ivf_min": self.ivf_min,
            "shards": [{"seq": s.seq, "count": int(s.index.ntotal)} for s in self._shards],
        }
        write_atomic(self.directory / _MANIFEST, json.dumps(manifest, indent=2).encode())

    def search(self, queries: NDArray[np.uint8], radius: int) -> KeypointHits:
        """Every stored descriptor within ``radius`` bits (inclusive) of each query row."""
        batch = np.ascontiguousarray(queries, np.uint8).reshape(-1, _BITS // 8)
        return KeypointHits.concat([self._search_shard(s, batch, radius) for s in self._shards])

    def _search_shard(self, shard: _Shard, batch: NDArray[np.uint8], radius: int) -> KeypointHits:
        if isinstance(shard.index, faiss.IndexBinaryIVF):
            shard.index.nprobe = self.nprobe
        lims, dist, pos = shard.index.range_search(batch, radius + 1)  # faiss keeps d < r
        query = np.repeat(np.arange(len(batch), dtype=np.int64), np.diff(lims).astype(np.int64))
        pos = pos.astype(np.int64)
        return KeypointHits(
            query,
            np.asarray(shard.owners[pos], np.int64),
            np.asarray(shard.points[pos], np.float32),
            dist.astype(np.int64),
            (shard.seq << 32) | pos,
        )
