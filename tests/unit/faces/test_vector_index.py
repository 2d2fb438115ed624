"""The faiss vector index against the numpy oracle: kNN, range search, persistence, merge."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from traindex.index.brute_vectors import exact_range, exact_search
from traindex.index.vector_hits import Metric
from traindex.index.vectors import VectorIndex

EPS = 1e-4


def clustered(rng: np.random.Generator, n: int, dim: int, clusters: int = 8) -> NDArray[np.float32]:
    """Unit vectors around a few centres: realistic (people have many photos), with ties rare."""
    centres = rng.normal(size=(clusters, dim))
    points = centres[rng.integers(0, clusters, n)] + 0.35 * rng.normal(size=(n, dim))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points.astype(np.float32)


def assert_knn_equal(index: VectorIndex, queries: NDArray[np.float32], k: int) -> None:
    stored, ids = index.vectors()
    got_ids, got_d = index.search(queries, k)
    want_ids, want_d = exact_search(queries, stored, ids, k, index.metric)
    np.testing.assert_allclose(got_d, want_d, atol=EPS)
    # ids must agree except where two neighbours are tied within float32 rounding
    gaps = np.abs(np.diff(np.nan_to_num(want_d, posinf=1e9, neginf=-1e9), axis=1)) < EPS
    tied = np.zeros_like(got_d, dtype=bool)
    tied[:, 1:] |= gaps
    tied[:, :-1] |= gaps
    assert (got_ids[~tied] == want_ids[~tied]).all()


def assert_range_equal(index: VectorIndex, queries: NDArray[np.float32], radius: float) -> None:
    stored, ids = index.vectors()
    got = index.range_search(queries, radius)
    want = exact_range(queries, stored, ids, radius, index.metric)
    for q in range(len(queries)):
        g_ids, g_d = got.for_query(q)
        w_ids, w_d = want.for_query(q)
        boundary = {int(i) for i, d in zip(w_ids, w_d, strict=True) if abs(d - radius) < EPS}
        assert set(g_ids.tolist()) - boundary == set(w_ids.tolist()) - boundary
        lookup = dict(zip(w_ids.tolist(), w_d.tolist(), strict=True))
        for i, d in zip(g_ids.tolist(), g_d.tolist(), strict=True):
            if i in lookup:
                assert abs(d - lookup[i]) < EPS


@pytest.mark.parametrize(("metric", "radius"), [("l2", 0.6), ("ip", 0.8)])
def test_sharded_mmap_index_equals_oracle(tmp_path: Path, metric: Metric, radius: float) -> None:
    rng = np.random.default_rng(7)
    data = clustered(rng, 3000, 128)
    # several shards per add, and several adds
    index = VectorIndex.create(tmp_path / "v", 128, metric, shard_size=700)
    for lo in range(0, 3000, 1000):
        index.add(data[lo : lo + 1000], np.arange(lo, lo + 1000) * 3 + 5)
    reopened = VectorIndex.open(tmp_path / "v")
    assert reopened.shard_sizes == [700, 300] * 3
    queries = np.concatenate([data[:5], clustered(rng, 20, 128)])
    for idx in (index, reopened):
        assert_knn_equal(idx, queries, 10)
        assert_range_equal(idx, queries, radius)
    hits = reopened.range_search(queries, radius)
    assert len(hits) > 40  # the radius really selects neighbours, not nothing
    reopened.merge()
    assert VectorIndex.open(tmp_path / "v").shard_sizes == [700] * 4 + [200]
    assert_range_equal(VectorIndex.open(tmp_path / "v", mmap=False), queries, radius)


@given(
    n=st.integers(0, 60),
    dim=st.integers(1, 12),
    k=st.integers(1, 70),
    metric=st.sampled_from(["l2", "ip"]),
    seed=st.integers(0, 2**32 - 1),
    radius=st.floats(0.0, 3.0),
)
def test_memory_index_equals_oracle_on_random_data(
    n: int, dim: int, k: int, metric: Metric, seed: int, radius: float
) -> None:
    rng = np.random.default_rng(seed)
    index = VectorIndex.memory(dim, metric, shard_size=25)
    index.add(rng.normal(size=(n, dim)).astype(np.float32), rng.permutation(1000)[:n])
    queries = rng.normal(size=(4, dim)).astype(np.float32)
    assert_knn_equal(index, queries, k)
    assert_range_equal(index, queries, radius if metric == "l2" else radius - 1.5)


def test_re_added_ids_are_reported_once_at_their_best_distance() -> None:
    index = VectorIndex.memory(2)
    index.add([[0.0, 0.0], [5.0, 5.0]], [1, 2])
    index.add([[0.1, 0.0]], [1])  # a crash made a job add this id again
    ids, dist = index.search([[0.0, 0.0]], 3)
    assert ids.tolist() == [[1, 2, -1]]
    assert dist[0, 0] == 0.0
    assert dist[0, 2] == np.inf
    hits = index.range_search([[0.0, 0.0]], 1.0)
    assert hits.ids.tolist() == [1]
    assert hits.distances.tolist() == [0.0]


def test_range_search_is_inclusive_and_reports_euclidean_distance() -> None:
    index = VectorIndex.memory(2)
    index.add([[3.0, 4.0], [6.0, 8.0]])
    hits = index.range_search([[0.0, 0.0]], 5.0)
    assert hits.ids.tolist() == [0]
    assert hits.distances.tolist() == [5.0]


def test_bad_input_and_misuse_are_refused(tmp_path: Path) -> None:
    index = VectorIndex.create(tmp_path / "v", 4, "ip")
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        index.add(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        index.search([[np.nan, 0, 0, 0]], 1)
    with pytest.raises(ValueError, match="expected 2 ids"):
        index.add(np.zeros((2, 4)), [1])
    with pytest.raises(FileExistsError):
        VectorIndex.create(tmp_path / "v", 4, "ip")
    with pytest.raises(ValueError, match="4-d ip"):
        VectorIndex.create(tmp_path / "v", 8, "ip", exist_ok=True)
    with pytest.raises(FileNotFoundError):
        VectorIndex.open(tmp_path / "missing")
    assert VectorIndex.create(tmp_path / "v", 4, "ip", exist_ok=True).search(np.ones(4), 2)[
        0
    ].tolist() == [[-1, -1]]
