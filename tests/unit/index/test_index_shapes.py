"""The indexes share one shape: every answer is a ``Hits`` (flat arrays, ``query`` numbers
the batch, ``not_searched`` names unreached shards) and the sharded ones are a
``ShardedIndex`` whose restriction to all of its shards answers as the whole index. Each
answer is also checked against brute force, so the shape is not satisfied by empty hits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from traindex.index.base import Hits, ShardedIndex
from traindex.index.binary import MultiIndexHashIndex
from traindex.index.brute import BruteForceIndex
from traindex.index.keypoints import KeypointIndex
from traindex.index.vectors import VectorIndex

RNG = np.random.default_rng(22)
CODES = RNG.integers(0, 256, (60, 32), dtype=np.uint8)
QUERIES = CODES[::7] ^ np.uint8(1)  # near copies: one bit per byte flipped
VECTORS = RNG.normal(size=(60, 8)).astype(np.float32)


def _hamming(tmp_path: Path) -> tuple[Any, Callable[[Any], Any]]:
    index = MultiIndexHashIndex(shard_size=16)
    index.add(CODES)
    return index, lambda i: i.search(QUERIES, 40)


def _keypoints(tmp_path: Path) -> tuple[Any, Callable[[Any], Any]]:
    index = KeypointIndex(tmp_path / "kp", nprobe=1 << 20)
    for part in np.array_split(np.arange(len(CODES)), 3):
        index.add(CODES[part], part.astype(np.int64), np.zeros((len(part), 2), np.float32))
    return index, lambda i: i.search(QUERIES, 40)


def _vectors(tmp_path: Path) -> tuple[Any, Callable[[Any], Any]]:
    index = VectorIndex.memory(8, shard_size=16)
    index.add(VECTORS)
    return index, lambda i: i.range_search(VECTORS[::7] + 0.01, 3.0)


def _pairs(hits: Any) -> set[tuple[int, int]]:
    ids = hits.owners if hasattr(hits, "owners") else hits.ids
    return set(zip(hits.query.tolist(), ids.tolist(), strict=True))


def _oracle(kind: str) -> set[tuple[int, int]]:
    if kind == "vectors":
        queries = VECTORS[::7] + 0.01
        dist = np.linalg.norm(queries[:, None, :] - VECTORS[None, :, :], axis=2)
        return {(int(q), int(i)) for q, i in zip(*np.nonzero(dist <= 3.0), strict=True)}
    brute = BruteForceIndex()
    brute.add(CODES)
    found = brute.search(QUERIES, 40)
    return set(zip(found.query.tolist(), found.ids.tolist(), strict=True))


@pytest.mark.parametrize("kind", ["hamming", "keypoints", "vectors"])
def test_every_answer_is_hits_and_equals_brute_force(tmp_path: Path, kind: str) -> None:
    build = {"hamming": _hamming, "keypoints": _keypoints, "vectors": _vectors}[kind]
    index, search = build(tmp_path)
    hits = search(index)
    assert isinstance(hits, Hits)
    assert len(hits) == hits.query.size > 0
    assert hits.not_searched == ()
    assert _pairs(hits) == _oracle(kind)


@pytest.mark.parametrize("kind", ["hamming", "keypoints", "vectors"])
def test_sharded_indexes_restrict_to_named_shards(tmp_path: Path, kind: str) -> None:
    build = {"hamming": _hamming, "keypoints": _keypoints, "vectors": _vectors}[kind]
    index, search = build(tmp_path)
    assert isinstance(index, ShardedIndex)
    names = index.shard_names
    assert len(names) >= 3
    assert _pairs(search(index.restrict(names))) == _pairs(search(index))
    parts = [_pairs(search(index.restrict([name]))) for name in names]
    assert set().union(*parts) == _pairs(search(index))
    assert index.restrict(names[:1]).shard_names == names[:1]
