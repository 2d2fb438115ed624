"""Shards on disk: atomic files, memory-mapped reopen, append, merge, crash leftovers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from traindex.index.binary import MultiIndexHashIndex
from traindex.index.brute import BruteForceIndex


def _data(seed: int, rows: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (rows, 32), dtype=np.uint8)


def test_round_trip_is_memory_mapped_and_identical(tmp_path: Path) -> None:
    stored, queries = _data(1, 5_000), _data(2, 30)
    queries[:10] = stored[:10]
    index = MultiIndexHashIndex(tmp_path / "pdq", shard_size=2_000)
    index.add(stored)
    reopened = MultiIndexHashIndex(tmp_path / "pdq")
    assert len(reopened) == 5_000
    assert reopened.shard_sizes == [2_000, 2_000, 1_000]
    assert isinstance(reopened._shards[0].hashes, np.memmap)
    oracle = BruteForceIndex()
    oracle.add(stored)
    assert reopened.search(queries, 40).as_sets() == oracle.search(queries, 40).as_sets()
    assert not list((tmp_path / "pdq").rglob("*.tmp"))


def test_append_then_merge(tmp_path: Path) -> None:
    root = tmp_path / "pdq"
    index = MultiIndexHashIndex(root)
    first, second = _data(3, 700), _data(4, 500)
    index.add(first)
    MultiIndexHashIndex(root).add(second)
    index = MultiIndexHashIndex(root)
    assert index.shard_sizes == [700, 500]
    before = index.search(second[:20]).as_sets()
    index.merge()
    assert index.shard_sizes == [1_200]
    assert sorted(p.name for p in root.glob("shard-*")) == ["shard-000003"]
    reopened = MultiIndexHashIndex(root)
    assert reopened.search(second[:20]).as_sets() == before
    assert reopened.search(second[:1]).for_query(0)[0].tolist() == [700]


def test_unlisted_shard_from_a_crash_is_ignored_then_removed(tmp_path: Path) -> None:
    root = tmp_path / "pdq"
    index = MultiIndexHashIndex(root)
    index.add(_data(5, 100))
    orphan = root / "shard-000099"
    orphan.mkdir()
    (orphan / "hashes.npy.tmp").write_bytes(b"half written")
    assert len(MultiIndexHashIndex(root)) == 100
    index.add(_data(6, 50))
    index.merge()
    assert not orphan.exists()
    assert len(MultiIndexHashIndex(root)) == 150


def test_manifest_mismatch_is_detected(tmp_path: Path) -> None:
    root = tmp_path / "pdq"
    MultiIndexHashIndex(root).add(_data(7, 10))
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["shards"][0]["count"] = 11
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="manifest"):
        MultiIndexHashIndex(root)
    (root / "manifest.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not a traindex"):
        MultiIndexHashIndex(root)


def test_in_memory_mode_loads_arrays(tmp_path: Path) -> None:
    root = tmp_path / "pdq"
    MultiIndexHashIndex(root).add(_data(8, 10))
    index = MultiIndexHashIndex(root, mmap=False)
    assert not isinstance(index._shards[0].hashes, np.memmap)


def test_restricted_parts_together_equal_the_whole_index(tmp_path: Path) -> None:
    """What a fanned-out search relies on: each holder searches its shards only, and the
    union of the holders' hits is the brute-force answer."""
    stored, queries = _data(5, 5_000), _data(6, 30)
    queries[:10] = stored[:10]
    index = MultiIndexHashIndex(tmp_path / "pdq", shard_size=2_000)
    index.add(stored)
    names = index.shard_names
    assert names == ["shard-000001", "shard-000002", "shard-000003"]
    parts = [index.restrict(names[i::2]).search(queries, 40).as_sets() for i in range(2)]
    oracle = BruteForceIndex()
    oracle.add(stored)
    union = [a | b for a, b in zip(*parts, strict=True)]
    assert union == oracle.search(queries, 40).as_sets()
    assert all(a.isdisjoint(b) for a, b in zip(*parts, strict=True))
    with pytest.raises(ValueError, match="shard-000009"):
        index.restrict(["shard-000009"])
