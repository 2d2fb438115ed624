"""The keypoint descriptor index against the brute-force oracle (``index.brute.scan``).

Descriptors are real ORB descriptors of real photos (scikit-image), where
near neighbours are common, plus planted near-copies of some of them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skimage.data
from numpy.typing import NDArray
from PIL import Image

from traindex.fingerprint.keypoints import KeypointOptions, extract_keypoints
from traindex.index.brute import scan
from traindex.index.keypoints import KeypointHits, KeypointIndex

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera")


@pytest.fixture(scope="module")
def descriptors() -> NDArray[np.uint8]:
    options = KeypointOptions()
    photos = [Image.fromarray(getattr(skimage.data, n)()) for n in PHOTOS]
    parts = [extract_keypoints(p, 500, options).descriptors for p in photos]
    real = np.concatenate(parts)
    rng = np.random.default_rng(5)
    planted = real[rng.choice(len(real), 200, replace=False)].copy()
    flips = rng.integers(0, 256, (200, 6))
    for row, bits in enumerate(flips):
        for bit in bits:
            planted[row, bit // 8] ^= np.uint8(1 << (bit % 8))
    return np.concatenate([real, planted])


def _oracle(
    stored: NDArray[np.uint8], queries: NDArray[np.uint8], radius: int
) -> set[tuple[int, int, int]]:
    found = set()
    for q, query in enumerate(queries):
        pos, dist = scan(stored, query, radius)
        found.update((q, int(p), int(d)) for p, d in zip(pos, dist, strict=True))
    return found


def _triples(hits: KeypointHits, first_owner: int = 1000) -> set[tuple[int, int, int]]:
    return {
        (int(q), int(o) - first_owner, int(d))
        for q, o, d in zip(hits.query, hits.owners, hits.distances, strict=True)
    }


def _store(folder: Path, stored: NDArray[np.uint8], ivf_min: int, parts: int = 3) -> KeypointIndex:
    index = KeypointIndex(folder, ivf_min=ivf_min, nprobe=1 << 20)
    owners = np.arange(len(stored), dtype=np.int64) + 1000  # owner = position, shifted
    points = np.stack([owners % 97, owners % 89], axis=1) / 100.0
    for chunk in np.array_split(np.arange(len(stored)), parts):
        index.add(stored[chunk], owners[chunk], points[chunk])
    return index


@pytest.mark.parametrize("ivf_min", [10**9, 500], ids=["flat", "ivf-all-cells"])
@pytest.mark.parametrize("radius", [0, 20, 56])
def test_range_search_equals_brute_force(
    tmp_path: Path, descriptors: NDArray[np.uint8], ivf_min: int, radius: int
) -> None:
    stored, queries = descriptors[:-300], descriptors[-300:]
    index = _store(tmp_path / "kp", stored, ivf_min)
    expected = _oracle(stored, queries, radius)
    assert _triples(index.search(queries, radius)) == expected
    reopened = KeypointIndex(tmp_path / "kp", nprobe=1 << 20)
    assert len(reopened) == len(stored)
    assert _triples(reopened.search(queries, radius)) == expected
    if radius == 56:
        assert len(expected) > len(queries)  # the oracle has real work to agree on


def test_points_and_descriptor_ids_follow_their_hits(
    tmp_path: Path, descriptors: NDArray[np.uint8]
) -> None:
    stored = descriptors[:2000]
    index = _store(tmp_path / "kp", stored, 10**9)
    hits = index.search(stored[:50], 0)
    owners = hits.owners - 1000
    assert np.allclose(
        hits.points, np.stack([hits.owners % 97, hits.owners % 89], 1) / 100, atol=1e-2
    )
    assert len(set(hits.descriptor.tolist())) == len(hits)  # ids are unique per stored entry
    assert (stored[owners] == stored[hits.query]).all()


def test_default_probes_keep_most_near_neighbours(
    tmp_path: Path, descriptors: NDArray[np.uint8]
) -> None:
    """The approximate (IVF) shards must still return the planted near-copies: recall is
    measured against the oracle, never assumed."""
    stored, planted = descriptors[:-200], descriptors[-200:]
    index = KeypointIndex(tmp_path / "kp", ivf_min=500)
    owners = np.arange(len(stored), dtype=np.int64)
    index.add(stored, owners, np.zeros((len(stored), 2)))
    expected = _oracle(stored, planted, 6)
    found = {
        (int(q), int(o), int(d))
        for q, o, d in zip(
            *(getattr(index.search(planted, 6), f) for f in ("query", "owners", "distances")),
            strict=True,
        )
    }
    assert found <= expected
    assert len(found) >= 0.9 * len(expected)


def test_bad_shapes_are_refused(tmp_path: Path) -> None:
    index = KeypointIndex(tmp_path / "kp")
    with pytest.raises(ValueError, match="32"):
        index.add(np.zeros((3, 16), np.uint8), np.zeros(3, np.int64), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="points"):
        index.add(np.zeros((3, 32), np.uint8), np.zeros(3, np.int64), np.zeros((2, 2)))
    assert not KeypointIndex.exists(tmp_path / "kp")  # nothing was committed
    empty = index.search(np.zeros((4, 32), np.uint8), 10)
    assert len(empty) == 0


def test_restricted_parts_together_equal_the_whole(
    tmp_path: Path, descriptors: NDArray[np.uint8]
) -> None:
    """A fanned-out keypoint index's holders each search a restricted part; their hits
    together are the whole index's (and the brute-force oracle's)."""
    stored, queries = descriptors[:-300], descriptors[-300:]
    index = _store(tmp_path / "kp", stored, 10**9)
    assert index.shard_names == ["shard-000001", "shard-000002", "shard-000003"]
    odd, even = index.restrict(["shard-000001", "shard-000003"]), index.restrict(["shard-000002"])
    assert even.shard_names == ["shard-000002"]
    parts = [odd.search(queries, 40), even.search(queries, 40)]
    assert len(parts[0]) > 0
    assert len(parts[1]) > 0
    together = KeypointHits.concat(parts)
    assert _triples(together) == _triples(index.search(queries, 40))
    assert _triples(together) == _oracle(stored, queries, 40)
    with pytest.raises(ValueError, match="shard-000009"):
        index.restrict(["shard-000009"])
