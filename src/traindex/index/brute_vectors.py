"""The exact oracle for :mod:`traindex.index.vectors`: plain numpy, float64, no faiss.

Tests (and anyone doubting a result) compare the faiss index with these two functions on
the same vectors. Distances are computed directly (``sqrt(sum((q - x)**2))``, ``q . x``)
in float64, not with the ``|q|^2 + |x|^2 - 2 q.x`` expansion faiss uses, so the two
implementations share no arithmetic shortcut and agree only if both are right (up to
float32 rounding at the boundary).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from traindex.index.vector_hits import Metric, VectorHits

__all__ = ["exact_distances", "exact_range", "exact_search"]


def exact_distances(
    queries: NDArray[np.float32], stored: NDArray[np.float32], metric: Metric
) -> NDArray[np.float64]:
    """``(Q, n)`` Euclidean distances (l2) or inner products (ip), in float64."""
    q = np.asarray(queries, dtype=np.float64)
    x = np.asarray(stored, dtype=np.float64)
    if metric == "l2":
        distances: NDArray[np.float64] = np.sqrt(((q[:, None, :] - x[None, :, :]) ** 2).sum(axis=2))
        return distances
    products: NDArray[np.float64] = q @ x.T
    return products


def _ordered(
    dist: NDArray[np.float64], ids: NDArray[np.int64], metric: Metric
) -> NDArray[np.int64]:
    key = dist if metric == "l2" else -dist
    return np.lexsort((ids, key))


def exact_search(
    queries: NDArray[np.float32],
    stored: NDArray[np.float32],
    ids: NDArray[np.int64],
    k: int,
    metric: Metric,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The ``k`` nearest per query, padded like ``VectorIndex.search`` (id -1)."""
    out_ids = np.full((len(queries), k), -1, dtype=np.int64)
    out_d = np.full((len(queries), k), np.inf if metric == "l2" else -np.inf)
    dist = exact_distances(queries, stored, metric)
    for q in range(len(queries)):
        order = _ordered(dist[q], ids, metric)[:k]
        out_ids[q, : order.size] = ids[order]
        out_d[q, : order.size] = dist[q, order]
    return out_ids, out_d


def exact_range(
    queries: NDArray[np.float32],
    stored: NDArray[np.float32],
    ids: NDArray[np.int64],
    radius: float,
    metric: Metric,
) -> VectorHits:
    """Every (query, id, distance) within ``radius`` (inclusive), canonically sorted."""
    dist = exact_distances(queries, stored, metric)
    inside = dist <= radius if metric == "l2" else dist >= radius
    query, pos = np.nonzero(inside)
    return VectorHits.build(
        query.astype(np.int64),
        ids[pos],
        dist[query, pos].astype(np.float32),
        len(queries),
        metric,
    )
