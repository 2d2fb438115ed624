"""Merging a fanned-out vector index's parts (``search.fanout.FanoutVectors``) gives the
in-process answer; a part that does not answer is named, the rest answered in full.

The holders are faked here (each part is the index restricted to its shards, asked in
this process); the real cluster is in tests/integration/test_ray_fanout_more.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from traindex.index.vectors import Metric, VectorHits, VectorIndex
from traindex.search.fanout import FanoutVectors
from traindex.search.placement import Holder, IndexKind, unplaced_shards

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fakeray import FakeRay, RayError

KINDS: dict[Metric, IndexKind] = {"l2": "faces", "ip": "clip"}


class _LocalParts(FanoutVectors):
    """``FanoutVectors`` whose holders are restricted copies of one index in this
    process (its own ``gather`` merges them); holders in ``gone`` have no actor any more,
    those in ``slow`` time out."""

    def __init__(
        self,
        index: VectorIndex,
        holders: list[Holder],
        gone: set[str] = frozenset(),  # type: ignore[assignment]
        slow: set[str] = frozenset(),  # type: ignore[assignment]
        unplaced: tuple[str, ...] = (),
    ) -> None:
        self.holders = holders
        self.kind = KINDS[index.metric]
        self.unplaced = unplaced
        self.timeout = 1.0
        self.ray = FakeRay()
        self.parts = {h.actor: index.restrict(h.shards) for h in holders}
        self.gone, self.slow = gone, slow

    def _ask(self, holder: Holder, method: str, *args: Any) -> Any:
        if holder.actor in self.gone:
            return None
        if holder.actor in self.slow:
            return RayError("timed out")
        return getattr(self.parts[holder.actor], method)(*args)


def _index(metric: Metric, seed: int) -> VectorIndex:
    """7 shards of 5 vectors; some ids stored twice in different shards (the index
    reports each once, at its best distance)."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(35, 8)).astype(np.float32)
    if metric == "ip":
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(35, dtype=np.int64) % 29
    index = VectorIndex.memory(8, metric, shard_size=5)
    index.add(vectors, ids)
    return index


def _holders(index: VectorIndex, count: int) -> list[Holder]:
    names = index.shard_names
    return [Holder(f"h{i}", f"node{i}", names[i::count]) for i in range(count)]


def _same(a: VectorHits, b: VectorHits) -> None:
    assert a.num_queries == b.num_queries
    np.testing.assert_array_equal(a.query, b.query)
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.distances, b.distances)


@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("count", [1, 2, 3])
def test_merged_parts_equal_the_in_process_index(metric: Metric, seed: int, count: int) -> None:
    index = _index(metric, seed)
    queries = np.random.default_rng(seed + 10).normal(size=(6, 8)).astype(np.float32)
    fanned = _LocalParts(index, _holders(index, count))
    radius = 3.5 if metric == "l2" else 0.2
    _same(fanned.range_search(queries, radius), index.range_search(queries, radius))
    for k in (1, 4, 40):
        merged = fanned.knn(queries, k)
        assert merged.not_searched == ()
        np.testing.assert_array_equal(merged.top_k(k, metric)[0], index.search(queries, k)[0])
        np.testing.assert_array_equal(merged.top_k(k, metric)[1], index.search(queries, k)[1])


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_silent_parts_are_named_and_the_rest_answered_in_full(metric: Metric) -> None:
    index = _index(metric, 3)
    holders = _holders(index, 4)
    queries = np.random.default_rng(7).normal(size=(4, 8)).astype(np.float32)
    fanned = _LocalParts(index, holders, gone={"h1"}, slow={"h3"})
    reached = index.restrict(holders[0].shards + holders[2].shards)
    radius = 4.0 if metric == "l2" else 0.1
    hits = fanned.range_search(queries, radius)
    _same(hits, reached.range_search(queries, radius))
    prefix = KINDS[metric]
    lost = holders[1].shards + holders[3].shards
    assert hits.not_searched == tuple(f"{prefix}/{s}" for s in lost)
    assert fanned.knn(queries, 3).not_searched == hits.not_searched
    assert len(index.range_search(queries, radius)) > len(hits)  # the lost parts held hits


def test_shards_indexed_after_placement_are_named_until_placed_again(tmp_path: Path) -> None:
    index = VectorIndex.create(tmp_path / "faces", 8, "l2", shard_size=5)
    index.add(np.ones((10, 8), np.float32))
    holders = _holders(index, 2)  # placed: shards 1 and 2
    index.add(np.ones((5, 8), np.float32))  # shard 3, after placement
    assert unplaced_shards(tmp_path / "faces", "faces", holders) == ["shard-000003"]
    fanned = _LocalParts(index, holders, unplaced=("shard-000003",))
    hits = fanned.range_search(np.ones((1, 8), np.float32), 0.1)
    assert sorted(hits.ids.tolist()) == list(range(10))  # the placed shards' vectors
    assert hits.not_searched == ("faces/shard-000003",)


def test_a_holder_error_is_the_query_s_not_a_lost_shard() -> None:
    index = _index("l2", 0)
    fanned = _LocalParts(index, _holders(index, 2))

    def fail(holder: Holder, method: str, *args: Any) -> Any:
        return FakeRay.exceptions.RayTaskError("holder raised")

    fanned._ask = fail  # type: ignore[method-assign]
    with pytest.raises(ValueError, match="bad query"):
        fanned.range_search(np.ones((1, 8), np.float32), 0.5)


def test_restrict_names_an_unknown_shard() -> None:
    index = _index("l2", 0)
    with pytest.raises(ValueError, match="shard-000099"):
        index.restrict(["shard-000001", "shard-000099"])
    assert index.restrict(["shard-000003"]).shard_names == ["shard-000003"]
