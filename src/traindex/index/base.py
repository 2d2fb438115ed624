"""The ``HammingIndex`` interface: store 256-bit hashes with int64 ids, return *all* within r.

Shape, and why:

* **Range search, not k-nearest.** "Is my photo in there" needs every copy within the
  threshold (LAION holds the same photo many times), and nothing beyond it. kNN would both
  miss copies past k and return unrelated neighbours.
* **Batches in, flat arrays out.** A portfolio query is thousands of images x dozens of
  variants; one call with a ``(Q, 32)`` array amortises Python overhead. Results are three
  parallel arrays (which query, which id, what distance) rather than a list of objects, so a
  million candidate hits cost three allocations. :class:`RangeHits` groups them per query.
* **Ids are the caller's.** An id is an int64 position the caller maps to a dataset row
  (catalog shard + row); the index never interprets it.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from traindex.fingerprint.base import PDQ_MATCH_RADIUS

__all__ = [
    "HASH_BYTES",
    "HammingIndex",
    "Hits",
    "RangeHits",
    "ShardedBase",
    "ShardedIndex",
    "as_hash_array",
    "as_id_array",
    "chosen_shards",
]

HASH_BYTES = 32

HashArray = NDArray[np.uint8]


def as_hash_array(hashes: NDArray[np.uint8] | bytes | Sequence[bytes]) -> HashArray:
    """One hash (bytes) or many (bytes sequence, ``(n, 32)`` uint8) as ``(n, 32)`` uint8."""
    if isinstance(hashes, bytes):
        hashes = [hashes]
    if isinstance(hashes, np.ndarray):
        array = np.ascontiguousarray(hashes, dtype=np.uint8)
    else:
        array = np.frombuffer(b"".join(hashes), dtype=np.uint8).copy()
        if array.size % HASH_BYTES:
            raise ValueError(f"every hash must be {HASH_BYTES} bytes")
        array = array.reshape(-1, HASH_BYTES)
    if array.ndim == 1 and array.size == HASH_BYTES:
        array = array.reshape(1, HASH_BYTES)
    if array.ndim != 2 or array.shape[1] != HASH_BYTES:
        raise ValueError(f"expected hashes of shape (n, {HASH_BYTES}), got {array.shape}")
    return array


def as_id_array(
    ids: NDArray[np.integer] | Sequence[int] | None, start: int, count: int
) -> NDArray[np.int64]:
    """Caller ids as int64, or positions ``start .. start+count-1`` when ``ids`` is None."""
    if ids is None:
        return np.arange(start, start + count, dtype=np.int64)
    array = np.ascontiguousarray(ids, dtype=np.int64)
    if array.shape != (count,):
        raise ValueError(f"expected {count} ids, got shape {array.shape}")
    return array


@runtime_checkable
class Hits(Protocol):
    """The shape every index's answer shares (:class:`RangeHits` of the PDQ index,
    ``VectorHits`` of the face and CLIP vector index, ``KeypointHits`` of the keypoint
    index): flat parallel arrays with one entry per hit, ``query`` numbering the query in
    the searched batch, and ``not_searched`` naming the index shards that could not be
    searched (hits in them may exist and are not here). What else a hit carries (a Hamming
    or float distance, an owner and a point) differs per index and stays on the type."""

    @property
    def query(self) -> NDArray[np.int64]: ...

    @property
    def not_searched(self) -> tuple[str, ...]: ...

    def __len__(self) -> int: ...


@runtime_checkable
class ShardedIndex(Protocol):
    """An index made of named shards that a fan-out splits between holders: the PDQ and
    region indexes (``MultiIndexHashIndex``), the keypoint index and the face and CLIP
    vector index. ``restrict`` gives a view of some
    shards (shared, not reloaded) whose answers are the whole index's answers from those
    shards."""

    @property
    def shard_names(self) -> list[str]: ...

    def restrict(self, names: Sequence[str]) -> Self: ...


def chosen_shards(directory: object, have: Sequence[str], wanted: Sequence[str]) -> list[int]:
    """Positions in ``have`` of the shard names ``wanted`` (what an index's ``restrict``
    keeps: one holder's part of a fanned-out index); a ``ValueError`` names unknown ones."""
    unknown = sorted(set(wanted) - set(have))
    if unknown:
        raise ValueError(f"{directory} has no shards {unknown}")
    return [i for i, name in enumerate(have) if name in set(wanted)]


class ShardedBase(ABC):
    """``restrict`` for an index that keeps its shards in ``_shards``, in the order of
    ``shard_names`` (the keypoint and vector indexes): a :class:`ShardedIndex`."""

    directory: Path | None
    _shards: list[Any]

    @property
    @abstractmethod
    def shard_names(self) -> list[str]:
        """The names of the shards in ``_shards``, in that order."""

    def restrict(self, names: Sequence[str]) -> Self:
        """A read-only view searching only the named shards (one holder's part of a
        fanned-out index); the shards are shared, not reloaded."""
        part = copy.copy(self)
        part._shards = [
            self._shards[i] for i in chosen_shards(self.directory, self.shard_names, names)
        ]
        return part


@dataclass(frozen=True, slots=True)
class RangeHits:
    """Every (query, id, distance) within the radius, sorted by query then distance then id.

    ``query`` indexes the batch that was searched; ``num_queries`` is its length, so queries
    without hits are still accounted for.
    """

    query: NDArray[np.int64]
    ids: NDArray[np.int64]
    distances: NDArray[np.int16]
    num_queries: int
    not_searched: tuple[str, ...] = ()
    """Index shards that could not be searched (a fanned-out search lost their holder):
    hits in them may exist but are not here."""

    @classmethod
    def build(
        cls,
        query: NDArray[np.int64],
        ids: NDArray[np.int64],
        distances: NDArray[np.integer],
        num_queries: int,
    ) -> RangeHits:
        """Sort and de-duplicate raw (query, id, distance) triples into the canonical order."""
        order = np.lexsort((ids, distances, query))
        query, ids, dist = query[order], ids[order], distances[order].astype(np.int16)
        if query.size:
            keep = np.ones(query.size, dtype=bool)
            keep[1:] = (query[1:] != query[:-1]) | (ids[1:] != ids[:-1])
            query, ids, dist = query[keep], ids[keep], dist[keep]
        return cls(query=query, ids=ids, distances=dist, num_queries=num_queries)

    def __len__(self) -> int:
        return int(self.ids.size)

    def for_query(self, index: int) -> tuple[NDArray[np.int64], NDArray[np.int16]]:
        """Ids and distances of one query's hits, nearest first."""
        lo, hi = np.searchsorted(self.query, [index, index + 1])
        return self.ids[lo:hi], self.distances[lo:hi]

    def as_sets(self) -> list[set[tuple[int, int]]]:
        """Per query, the set of (id, distance): the form tests compare indexes in."""
        out: list[set[tuple[int, int]]] = [set() for _ in range(self.num_queries)]
        for q, i, d in zip(
            self.query.tolist(), self.ids.tolist(), self.distances.tolist(), strict=True
        ):
            out[q].add((i, d))
        return out


class HammingIndex(ABC):
    """A set of 256-bit hashes with int64 ids, searchable by Hamming radius."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of stored hashes."""

    @abstractmethod
    def add(
        self,
        hashes: NDArray[np.uint8] | Sequence[bytes],
        ids: NDArray[np.integer] | Sequence[int] | None = None,
    ) -> None:
        """Store ``hashes`` under ``ids`` (default: the next positions 0, 1, 2 ...)."""

    @abstractmethod
    def search(
        self, queries: NDArray[np.uint8] | bytes | Sequence[bytes], radius: int = PDQ_MATCH_RADIUS
    ) -> RangeHits:
        """Every stored hash at Hamming distance <= ``radius`` from each query: exact, no misses."""


class RangeSearcher(Protocol):
    """What image search needs of a PDQ index: an in-process index or a fanned-out one."""

    def search(
        self,
        queries: NDArray[np.uint8] | bytes | Sequence[bytes],
        radius: int = PDQ_MATCH_RADIUS,
        *,
        workers: int = 1,
    ) -> RangeHits: ...
