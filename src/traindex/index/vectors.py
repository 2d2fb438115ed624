"""A persistent float-vector index: faiss flat (exact) search over memory-mapped shards.

Used for face embeddings (128-d, Euclidean) and CLIP embeddings (inner product on
unit-norm vectors). Why this shape:

* **Exact, not approximate.** Each shard is a faiss ``IndexFlatL2`` / ``IndexFlatIP``: a
  "same face" answer must not silently miss a row because an ANN structure skipped its
  cell. ``brute_vectors`` is the numpy oracle the tests hold it to.
* **Memory-mapped.** Shards are read with ``faiss.IO_FLAG_MMAP_IFC``: the vectors stay in the
  page cache (shared by every process serving the index), so opening a 1M-vector index
  costs no RAM up front and an index larger than RAM still works (slower when cold).
* **Distances a person can read.** ``l2`` reports the Euclidean distance (faiss reports it
  squared), so a face threshold of 0.6 means 0.6; ``ip`` reports the inner product
  (cosine similarity for unit vectors), higher = closer.
* **Ids are the caller's** int64s (catalog location, face number ...); the index never
  interprets them. A re-added id is reported once, at its best distance.
* **Crash-safe, one writer.** Each :meth:`add` writes new shard files (temporary name, then
  rename) and then ``manifest.json`` (the commit point); readers only see listed shards.

Layout::

    manifest.json     {"format", "dim", "metric", "next_seq", "shard_size", "shards"}
    shard-000001/ vectors.faiss ids.npy
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from numpy.typing import ArrayLike, NDArray

from traindex.core.files import write_atomic
from traindex.index.base import ShardedBase
from traindex.index.vector_hits import Metric, VectorHits, as_vectors

__all__ = ["DEFAULT_VECTOR_SHARD_SIZE", "VectorIndex"]

DEFAULT_VECTOR_SHARD_SIZE = 4_000_000
"""Vectors per shard: 2 GB of 128-d float32; fewer shards mean fewer faiss calls per query."""

_FORMAT = "traindex-vectors"
_MANIFEST = "manifest.json"
_FAISS_METRIC = {"l2": faiss.METRIC_L2, "ip": faiss.METRIC_INNER_PRODUCT}


@dataclass(frozen=True, slots=True)
class _Shard:
    name: str
    index: faiss.Index
    ids: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.index.ntotal)


def _write_faiss(index: faiss.Index, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    faiss.write_index(index, str(tmp))
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    tmp.replace(path)


def _npy_bytes(array: NDArray[np.int64]) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


class VectorIndex(ShardedBase):
    """Exact kNN and range search over float vectors with int64 ids; on disk or in memory.

    Build one with :meth:`create` (a directory) or :meth:`memory`, reopen it with
    :meth:`open`. Writers must be serialised; any number of readers may open the directory.
    """

    def __init__(
        self,
        dim: int,
        metric: Metric,
        directory: Path | None = None,
        *,
        mmap: bool = True,
        shard_size: int = DEFAULT_VECTOR_SHARD_SIZE,
    ) -> None:
        if dim < 1:
            raise ValueError(f"dim must be positive, got {dim}")
        if metric not in _FAISS_METRIC:
            raise ValueError(f"metric must be 'l2' or 'ip', got {metric!r}")
        if shard_size < 1:
            raise ValueError(f"shard_size must be positive, got {shard_size}")
        self.dim = dim
        self.metric: Metric = metric
        self.directory = directory
        self.mmap = mmap
        self.shard_size = shard_size
        self._shards: list[_Shard] = []
        self._next_seq = 1

    @classmethod
    def memory(
        cls, dim: int, metric: Metric = "l2", *, shard_size: int = DEFAULT_VECTOR_SHARD_SIZE
    ) -> VectorIndex:
        """An index that lives only in this process (tests, one-off comparisons)."""
        return cls(dim, metric, shard_size=shard_size)

    @classmethod
    def create(
        cls,
        directory: str | Path,
        dim: int,
        metric: Metric = "l2",
        *,
        exist_ok: bool = False,
        shard_size: int = DEFAULT_VECTOR_SHARD_SIZE,
    ) -> VectorIndex:
        """A new, empty index in ``directory`` (or the existing one, when ``exist_ok`` and
        its dimension and metric agree). ``shard_size`` is kept in the manifest."""
        folder = Path(directory)
        if (folder / _MANIFEST).exists():
            if not exist_ok:
                raise FileExistsError(f"a vector index already exists in {folder}")
            index = cls.open(folder)
            if (index.dim, index.metric) != (dim, metric):
                raise ValueError(
                    f"{folder} holds a {index.dim}-d {index.metric} index, not {dim}-d {metric}"
                )
            return index
        folder.mkdir(parents=True, exist_ok=True)
        index = cls(dim, metric, folder, shard_size=shard_size)
        index._commit()
        return index

    @classmethod
    def open(cls, directory: str | Path, *, mmap: bool = True) -> VectorIndex:
        """Open an index written by :meth:`create`; shards are memory-mapped when ``mmap``."""
        folder = Path(directory)
        path = folder / _MANIFEST
        if not path.exists():
            raise FileNotFoundError(f"no vector index in {folder} (no {_MANIFEST})")
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format") != _FORMAT:
            raise ValueError(f"{folder} is not a traindex vector index")
        index = cls(
            int(manifest["dim"]),
            manifest["metric"],
            folder,
            mmap=mmap,
            shard_size=int(manifest["shard_size"]),
        )
        index._next_seq = int(manifest["next_seq"])
        for entry in manifest["shards"]:
            index._shards.append(index._load(entry["name"], int(entry["count"])))
        return index

    def _load(self, name: str, count: int) -> _Shard:
        assert self.directory is not None
        folder = self.directory / name
        flags = faiss.IO_FLAG_MMAP_IFC if self.mmap else 0
        index = faiss.read_index(str(folder / "vectors.faiss"), flags)
        ids = np.load(folder / "ids.npy", mmap_mode="r" if self.mmap else None)
        if index.ntotal != count or ids.shape != (count,) or index.d != self.dim:
            raise ValueError(f"shard {folder} does not match the manifest ({count} vectors)")
        return _Shard(name, index, ids)

    def _commit(self) -> None:
        if self.directory is None:
            return
        manifest = {
            "format": _FORMAT,
            "dim": self.dim,
            "metric": self.metric,
            "next_seq": self._next_seq,
            "shard_size": self.shard_size,
            "shards": [{"name": s.name, "count": len(s)} for s in self._shards],
        }
        write_atomic(self.directory / _MANIFEST, json.dumps(manifest, indent=2).encode())

    def __len__(self) -> int:
        return sum(len(s) for s in self._shards)

    @property
    def shard_sizes(self) -> list[int]:
        """Vectors per live shard, in search order."""
        return [len(s) for s in self._shards]

    @property
    def shard_names(self) -> list[str]:
        """Folder names of the shards, in search order."""
        return [s.name for s in self._shards]

    def add(
        self, vectors: ArrayLike, ids: NDArray[np.integer] | Sequence[int] | None = None
    ) -> None:
        """Store ``vectors`` ``(n, dim)`` under ``ids`` (default: the next positions).

        Persisted (new shard files, then the manifest) before it returns.
        """
        array = as_vectors(vectors, self.dim)
        start = len(self)
        if ids is None:
            id_array = np.arange(start, start + len(array), dtype=np.int64)
        else:
            id_array = np.ascontiguousarray(ids, dtype=np.int64)
            if id_array.shape != (len(array),):
                raise ValueError(f"expected {len(array)} ids, got shape {id_array.shape}")
        for lo in range(0, len(array), self.shard_size):
            self._shards.append(
                self._new_shard(
                    array[lo : lo + self.shard_size], id_array[lo : lo + self.shard_size]
                )
            )
        self._commit()

    def _new_shard(self, vectors: NDArray[np.float32], ids: NDArray[np.int64]) -> _Shard:
        flat = faiss.IndexFlat(self.dim, _FAISS_METRIC[self.metric])
        flat.add(vectors)
        name = f"shard-{self._next_seq:06d}"
        self._next_seq += 1
        if self.directory is None:
            return _Shard(name, flat, ids.copy())
        folder = self.directory / name
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "ids.npy", _npy_bytes(ids))
        _write_faiss(flat, folder / "vectors.faiss")
        return self._load(name, len(ids))

    def vectors(self) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """All stored vectors and their ids, in shard order (a copy: for oracles and merges)."""
        parts = [s.index.reconstruct_n(0, len(s)) for s in self._shards if len(s)]
        ids = [np.asarray(s.ids) for s in self._shards if len(s)]
        if not parts:
            return np.empty((0, self.dim), np.float32), np.empty(0, np.int64)
        return np.concatenate(parts), np.concatenate(ids)

    def merge(self) -> None:
        """Rewrite all shards as few full ones (a job adds one small shard per catalog shard;
        each shard costs one faiss call per search). Old shard folders are removed after
        the new manifest is committed."""
        if len(self._shards) <= 1:
            return
        vectors, ids = self.vectors()
        old = [s.name for s in self._shards]
        self._shards = []
        for lo in range(0, len(vectors), self.shard_size):
            self._shards.append(
                self._new_shard(vectors[lo : lo + self.shard_size], ids[lo : lo + self.shard_size])
            )
        self._commit()
        if self.directory is not None:
            for name in old:
                shutil.rmtree(self.directory / name, ignore_errors=True)

    def _triples(
        self, queries: NDArray[np.float32], k: int | None, radius: float | None
    ) -> VectorHits:
        """Per shard: faiss kNN (``k``) or range search (``radius``), ids translated."""
        q_parts, id_parts, d_parts = [], [], []
        for shard in self._shards:
            if not len(shard):
                continue
            if k is not None:
                dist, pos = shard.index.search(queries, min(k, len(shard)))
                query = np.repeat(np.arange(len(queries)), pos.shape[1]).reshape(pos.shape)
                valid = pos >= 0
                query, pos, dist = query[valid], pos[valid], dist[valid]
            else:
                assert radius is not None
                lims, dist, pos = shard.index.range_search(queries, self._faiss_radius(radius))
                query = np.repeat(np.arange(len(queries)), np.diff(lims).astype(np.int64))
            q_parts.append(query.astype(np.int64))
            id_parts.append(np.asarray(shard.ids)[pos])
            d_parts.append(self._readable(dist))
        if not q_parts:
            empty = np.empty(0, np.int64)
            return VectorHits(empty, empty, np.empty(0, np.float32), len(queries))
        return VectorHits.build(
            np.concatenate(q_parts),
            np.concatenate(id_parts),
            np.concatenate(d_parts),
            len(queries),
            self.metric,
        )

    def _faiss_radius(self, radius: float) -> float:
        """faiss keeps ``d2 < r`` (l2, squared) or ``s > r`` (ip); widen by one ulp so the
        inclusive filter in :meth:`range_search` decides ties."""
        if self.metric == "l2":
            return float(np.nextafter(np.float32(radius) ** 2, np.float32(np.inf)))
        return float(np.nextafter(np.float32(radius), np.float32(-np.inf)))

    def _readable(self, dist: NDArray[np.float32]) -> NDArray[np.float32]:
        if self.metric == "l2":
            return np.sqrt(np.maximum(dist, 0)).astype(np.float32)
        return dist.astype(np.float32)

    def search(self, queries: ArrayLike, k: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The ``k`` nearest stored vectors per query: ``(Q, k)`` ids and distances, closest
        first; missing neighbours (fewer than ``k`` stored) have id -1."""
        return self.knn(queries, k).top_k(k, self.metric)

    def knn(self, queries: ArrayLike, k: int) -> VectorHits:
        """Each shard's ``k`` nearest per query, merged (at least the ``k`` nearest overall;
        ``top_k`` cuts them): the form in which parts of a fanned-out index are merged."""
        if k < 1:
            raise ValueError(f"k must be positive, got {k}")
        return self._triples(as_vectors(queries, self.dim, "queries"), k, None)

    def range_search(self, queries: ArrayLike, radius: float) -> VectorHits:
        """Every stored vector within ``radius``: Euclidean distance ``<= radius`` (l2) or
        inner product ``>= radius`` (ip)."""
        batch = as_vectors(queries, self.dim, "queries")
        hits = self._triples(batch, None, radius)
        inside = hits.distances <= radius if self.metric == "l2" else hits.distances >= radius
        return VectorHits(hits.query[inside], hits.ids[inside], hits.distances[inside], len(batch))
