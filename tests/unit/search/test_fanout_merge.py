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

from traindex.index.vector_hits import Metric, VectorHits
from traindex.index.vectors import VectorIndex
from traindex.search.fanout import FanoutVectors
from traindex.search.placement import Holder, IndexKind, unplaced_shards

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fakeray import InProcessHolders

KINDS: dict[Metric, IndexKind] = {"l2": "faces", "ip": "clip"}


class _Parts(InProcessHolders, FanoutVectors):
    """``FanoutVectors`` whose holders answer over real channels in this process."""


def _local_parts(index: VectorIndex, holders: list[Holder], **options: Any) -> _Parts:
    """Holders that are restricted copies of one index (``fakeray.InProcessHolders``)."""
    parts = {h.actor: index.restrict(h.shards) for h in holders}
    return _Parts(parts, holders, KINDS[index.metric], **options)


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
    fanned = _local_parts(index, _holders(index, count))
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
    # h3 never answers: it is waited for until the search's timeout, then named
    fanned = _local_parts(index, holders, gone={"h1"}, silent={"h3"}, timeout=0.5)
    reached = index.restrict(holders[0].shards + holders[2].shards)
    radius = 4.0 if metric == "l2" else 0.1
    hits = fanned.range_search(queries, radius)
    _same(hits, reached.range_search(queries, radius))
    prefix = KINDS[metric]
    lost = holders[1].shards + holders[3].shards
    assert hits.not_searched == tuple(f"{prefix}/{s}" for s in lost)
    assert fanned.knn(queries, 3).not_searched == hits.not_searched
    assert len(index.range_search(queries, radius)) > len(hits)  # the lost parts held hits
    fanned.close()


def test_a_replaced_holder_is_reached_again_and_a_closed_one_is_named() -> None:
    index = _index("l2", 4)
    holders = _holders(index, 2)
    queries = np.random.default_rng(8).normal(size=(4, 8)).astype(np.float32)
    fanned = _local_parts(index, holders)
    whole = fanned.range_search(queries, 4.0)
    _same(whole, index.range_search(queries, 4.0))
    # h1 is placed anew (a new actor of the same name, new port and key): the channel
    # kept from the last search fails, and the search asks the new holder instead
    fanned.servers["h1"].close()
    fanned.servers["h1"] = fanned.serve(fanned.parts["h1"])
    again = fanned.range_search(queries, 4.0)
    assert again.not_searched == ()
    _same(again, whole)
    # h0 ends and nothing replaces it: its shards are named, h1's answered
    fanned.servers.pop("h0").close()
    partial = fanned.range_search(queries, 4.0)
    assert partial.not_searched == tuple(f"faces/{s}" for s in holders[0].shards)
    _same(partial, index.restrict(holders[1].shards).range_search(queries, 4.0))
    fanned.close()


def test_shards_indexed_after_placement_are_named_until_placed_again(tmp_path: Path) -> None:
    index = VectorIndex.create(tmp_path / "faces", 8, "l2", shard_size=5)
    index.add(np.ones((10, 8), np.float32))
    holders = _holders(index, 2)  # placed: shards 1 and 2
    index.add(np.ones((5, 8), np.float32))  # shard 3, after placement
    assert unplaced_shards(tmp_path / "faces", "faces", holders) == ["shard-000003"]
    fanned = _local_parts(index, holders, unplaced=("shard-000003",))
    hits = fanned.range_search(np.ones((1, 8), np.float32), 0.1)
    assert sorted(hits.ids.tolist()) == list(range(10))  # the placed shards' vectors
    assert hits.not_searched == ("faces/shard-000003",)


class _Refusing:
    """A part that refuses a negative radius, as an index refuses bad input."""

    def __init__(self, part: VectorIndex) -> None:
        self.part = part

    def range_search(self, queries: Any, radius: float) -> VectorHits:
        if radius < 0:
            raise ValueError("bad query")
        return self.part.range_search(queries, radius)


def test_a_holder_error_is_the_query_s_not_a_lost_shard() -> None:
    index = _index("l2", 0)
    holders = _holders(index, 2)
    parts = {
        "h0": index.restrict(holders[0].shards),
        "h1": _Refusing(index.restrict(holders[1].shards)),
    }
    fanned = _Parts(parts, holders, "faces")
    query = np.ones((1, 8), np.float32)
    with pytest.raises(ValueError, match="bad query"):
        fanned.range_search(query, -1.0)
    # both channels stay in step (h0's answer was read too): the next search is whole
    hits = fanned.range_search(query, 9.0)
    assert hits.not_searched == ()
    _same(hits, index.range_search(query, 9.0))
    fanned.close()


def test_restrict_names_an_unknown_shard() -> None:
    index = _index("l2", 0)
    with pytest.raises(ValueError, match="shard-000099"):
        index.restrict(["shard-000001", "shard-000099"])
    assert index.restrict(["shard-000003"]).shard_names == ["shard-000003"]
