"""What a vector search answers, apart from any index: ``VectorHits`` (flat query, id,
distance triples in canonical order) and the ``VectorSearcher`` protocol that an
in-process ``index.vectors.VectorIndex`` and a fanned-out one (``search.fanout``) both
meet. Kept free of faiss so that merging fanned-out answers needs numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Metric", "VectorHits", "VectorSearcher", "as_vectors"]

Metric = Literal["l2", "ip"]


def as_vectors(vectors: ArrayLike, dim: int, what: str = "vectors") -> NDArray[np.float32]:
    """``(n, dim)`` finite float32, C-contiguous (one vector may be given as ``(dim,)``)."""
    array = np.ascontiguousarray(vectors, dtype=np.float32)
    if array.ndim == 1 and array.size == dim:
        array = array.reshape(1, dim)
    if array.ndim != 2 or array.shape[1] != dim:
        raise ValueError(f"{what} must have shape (n, {dim}), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contain NaN or infinity")
    return array


def _best_first(distances: NDArray[np.float32], metric: Metric) -> NDArray[np.float32]:
    """A sort key where smaller is closer, whatever the metric."""
    return distances if metric == "l2" else -distances


@dataclass(frozen=True, slots=True)
class VectorHits:
    """Flat (query, id, distance) triples, sorted by query, then closest first, then id.

    ``num_queries`` keeps queries without hits accounted for; ``for_query`` slices one.
    ``not_searched``: index shards a fanned-out search could not reach (``search.fanout``);
    hits in them may exist and are not here.
    """

    query: NDArray[np.int64]
    ids: NDArray[np.int64]
    distances: NDArray[np.float32]
    num_queries: int
    not_searched: tuple[str, ...] = ()
    """Shards not searched (:class:`~traindex.index.base.Hits`); an in-process search
    reaches every shard."""

    @classmethod
    def build(
        cls,
        query: NDArray[np.int64],
        ids: NDArray[np.int64],
        distances: NDArray[np.float32],
        num_queries: int,
        metric: Metric,
    ) -> VectorHits:
        """Sort raw triples canonically; keep each (query, id) once, at its best distance."""
        key = _best_first(distances, metric)
        order = np.lexsort((ids, key, query))
        query, ids, distances = query[order], ids[order], distances[order]
        if query.size:
            # within a (query, id) group the first row is the best one: group by a stable sort
            grouped = np.lexsort((np.arange(query.size), ids, query))
            first = np.ones(query.size, dtype=bool)
            same = (query[grouped][1:] == query[grouped][:-1]) & (
                ids[grouped][1:] == ids[grouped][:-1]
            )
            first[grouped[1:][same]] = False
            query, ids, distances = query[first], ids[first], distances[first]
        return cls(query, ids, distances.astype(np.float32), num_queries)

    def __len__(self) -> int:
        return int(self.ids.size)

    def for_query(self, index: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Ids and distances of one query's hits, closest first."""
        lo, hi = np.searchsorted(self.query, [index, index + 1])
        return self.ids[lo:hi], self.distances[lo:hi]

    def top_k(self, k: int, metric: Metric) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The first ``k`` hits per query as ``(Q, k)`` arrays, padded with id -1 and the
        worst distance (``inf`` for l2, ``-inf`` for ip)."""
        ids = np.full((self.num_queries, k), -1, dtype=np.int64)
        pad = np.inf if metric == "l2" else -np.inf
        dist = np.full((self.num_queries, k), pad, dtype=np.float32)
        starts = np.searchsorted(self.query, np.arange(self.num_queries))
        rank = np.arange(self.query.size) - starts[self.query]
        keep = rank < k
        ids[self.query[keep], rank[keep]] = self.ids[keep]
        dist[self.query[keep], rank[keep]] = self.distances[keep]
        return ids, dist


class VectorSearcher(Protocol):
    """What search needs of a vector index: an in-process one or one fanned out over a
    cluster (``search.fanout``)."""

    @property
    def metric(self) -> Metric: ...

    def range_search(self, queries: ArrayLike, radius: float) -> VectorHits: ...

    def knn(self, queries: ArrayLike, k: int) -> VectorHits: ...
