"""The multi-index-hashing index against its brute-force oracle: random, planted, skewed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from traindex.index.base import RangeHits, as_hash_array
from traindex.index.binary import MultiIndexHashIndex
from traindex.index.brute import BruteForceIndex
from traindex.index.shard import choose_widths, chunk_values, flip_masks, stable_order


def flip_bits(
    hashes: NDArray[np.uint8], counts: NDArray[np.int64], rng: np.random.Generator
) -> NDArray[np.uint8]:
    """Copy of ``hashes`` with ``counts[i]`` distinct random bits flipped in row ``i``."""
    bits = np.unpackbits(hashes, axis=1)
    for row, count in enumerate(counts):
        bits[row, rng.choice(256, size=int(count), replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def both(
    hashes: NDArray[np.uint8], ids: NDArray[np.int64] | None = None, **kwargs: object
) -> tuple[MultiIndexHashIndex, BruteForceIndex]:
    fast, oracle = MultiIndexHashIndex(**kwargs), BruteForceIndex()  # type: ignore[arg-type]
    fast.add(hashes, ids)
    oracle.add(hashes, ids)
    return fast, oracle


def assert_same(a: RangeHits, b: RangeHits) -> None:
    assert a.num_queries == b.num_queries
    assert a.as_sets() == b.as_sets()
    np.testing.assert_array_equal(a.query, b.query)
    np.testing.assert_array_equal(a.distances, b.distances)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(0, 300),
    radius=st.integers(0, 70),
    shard_size=st.integers(40, 400),
)
def test_small_random_sets_match_the_oracle(
    seed: int, size: int, radius: int, shard_size: int
) -> None:
    rng = np.random.default_rng(seed)
    stored = rng.integers(0, 256, (size, 32), dtype=np.uint8)
    sources = (
        stored[rng.integers(0, size, 20)]
        if size
        else rng.integers(0, 256, (20, 32), dtype=np.uint8)
    )
    queries = flip_bits(sources, rng.integers(0, 80, 20), rng)
    fast, oracle = both(stored, shard_size=shard_size)
    assert_same(fast.search(queries, radius), oracle.search(queries, radius))


def test_planted_near_duplicates_at_every_distance() -> None:
    rng = np.random.default_rng(7)
    background = rng.integers(0, 256, (200_000, 32), dtype=np.uint8)
    queries = rng.integers(0, 256, (64, 32), dtype=np.uint8)
    distances = np.arange(0, 64)
    planted = flip_bits(queries, distances, rng)
    stored = np.concatenate([background, planted])
    fast, oracle = both(stored, shard_size=90_000)
    hits = fast.search(queries)
    assert_same(hits, oracle.search(queries))
    for q, distance in enumerate(distances):
        ids, dist = hits.for_query(q)
        found = 200_000 + q in set(ids.tolist())
        assert found == (distance <= 31), distance
        if found:
            assert dist[ids.tolist().index(200_000 + q)] == distance


def test_skewed_data_with_heavy_buckets_and_clusters() -> None:
    """Real PDQ data is clumpy: many copies of popular photos, near-flat images sharing chunks."""
    rng = np.random.default_rng(11)
    base = rng.integers(0, 256, (40_000, 32), dtype=np.uint8)
    base[:15_000, :8] = 0  # a quarter share four chunks: huge buckets
    popular = base[rng.integers(0, 40_000, 300)]
    copies = flip_bits(np.repeat(popular, 30, axis=0), rng.integers(0, 30, 9_000), rng)
    stored = np.concatenate([base, copies])
    queries = np.concatenate([flip_bits(popular[:40], rng.integers(0, 20, 40), rng), base[:10]])
    for scan_fraction in (0.0, 0.01, 1.0):
        fast, oracle = both(stored, scan_fraction=scan_fraction)
        assert_same(fast.search(queries), oracle.search(queries))


@pytest.mark.parametrize("radius", [0, 15, 16, 31, 32, 47, 48])
def test_radius_boundaries(radius: int) -> None:
    rng = np.random.default_rng(radius)
    queries = rng.integers(0, 256, (40, 32), dtype=np.uint8)
    stored = flip_bits(
        np.repeat(queries, 3, axis=0), rng.integers(max(0, radius - 3), radius + 4, 120), rng
    )
    fast, oracle = both(stored)
    assert_same(fast.search(queries, radius), oracle.search(queries, radius))


def test_caller_ids_are_returned() -> None:
    rng = np.random.default_rng(3)
    stored = rng.integers(0, 256, (100, 32), dtype=np.uint8)
    ids = np.unique(rng.integers(0, 10**12, 100, dtype=np.int64))
    assert ids.size == 100
    ids = rng.permutation(ids)
    fast, _ = both(stored, ids)
    found, dist = fast.search(stored[42].tobytes()).for_query(0)
    assert found.tolist() == [ids[42]]
    assert dist.tolist() == [0]


def test_default_ids_continue_across_adds() -> None:
    rng = np.random.default_rng(5)
    first, second = (rng.integers(0, 256, (10, 32), dtype=np.uint8) for _ in range(2))
    index = MultiIndexHashIndex(shard_size=4)
    index.add(first)
    index.add([row.tobytes() for row in second])
    assert len(index) == 20
    assert index.shard_sizes == [4, 4, 2, 4, 4, 2]
    assert index.search(second[3]).for_query(0)[0].tolist() == [13]


def test_empty_index_and_empty_batch() -> None:
    index = MultiIndexHashIndex()
    hits = index.search(np.zeros((3, 32), np.uint8))
    assert len(hits) == 0
    assert hits.num_queries == 3
    assert hits.as_sets() == [set(), set(), set()]
    assert BruteForceIndex().search(np.zeros((2, 32), np.uint8)).num_queries == 2


def test_bad_input_is_refused() -> None:
    index = MultiIndexHashIndex()
    with pytest.raises(ValueError, match="shape"):
        index.add(np.zeros((3, 31), np.uint8))
    with pytest.raises(ValueError, match="32 bytes"):
        index.add([b"\x00" * 31])
    with pytest.raises(ValueError, match="ids"):
        index.add(np.zeros((3, 32), np.uint8), ids=[1, 2])
    with pytest.raises(ValueError, match="radius"):
        index.search(b"\x00" * 32, radius=-1)
    with pytest.raises(ValueError, match="shard_size"):
        MultiIndexHashIndex(shard_size=0)


def test_flip_masks_enumerate_the_hamming_ball() -> None:
    assert flip_masks(16, 0).tolist() == [0]
    assert sorted(flip_masks(16, 1).tolist()) == [0] + [1 << b for b in range(16)]
    assert len(flip_masks(21, 2)) == 1 + 21 + 210
    assert as_hash_array(b"\x01" * 32).shape == (1, 32)


def test_chunk_values_read_msb_first_bit_ranges() -> None:
    rng = np.random.default_rng(9)
    hashes = rng.integers(0, 256, (50, 32), dtype=np.uint8)
    bits = "".join(f"{b:08b}" for b in hashes[7].tolist())
    for widths in [(16,) * 16, choose_widths(10_000_000), (20,) * 12 + (16,)]:
        values = chunk_values(hashes, widths)
        starts = np.concatenate([[0], np.cumsum(widths)[:-1]])
        expected = [int(bits[s : s + w], 2) for s, w in zip(starts, widths, strict=True)]
        assert values[7].tolist() == expected


def test_chunking_adapts_to_shard_size() -> None:
    assert choose_widths(1_000) == (16,) * 16
    assert len(choose_widths(10_000_000)) == 11
    for count in (10, 10**6, 10**7, 10**8):
        assert sum(choose_widths(count)) == 256


def test_stable_order_equals_numpy_stable_argsort() -> None:
    rng = np.random.default_rng(4)
    for high in (1 << 8, 1 << 16, 1 << 22):
        values = rng.integers(0, high, 5_000).astype(np.uint32)
        np.testing.assert_array_equal(stable_order(values), np.argsort(values, kind="stable"))


@pytest.mark.parametrize("widths", [(22,) * 4 + (21,) * 8, (19,) * 4 + (18,) * 10])
def test_wide_chunks_are_exact_too(widths: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(widths))
    queries = rng.integers(0, 256, (30, 32), dtype=np.uint8)
    near = flip_bits(np.repeat(queries, 4, axis=0), rng.integers(0, 45, 120), rng)
    stored = np.concatenate([rng.integers(0, 256, (3_000, 32), dtype=np.uint8), near])
    fast, oracle = both(stored, chunk_widths=widths)
    for radius in (0, 24, 31, 40):
        assert_same(fast.search(queries, radius), oracle.search(queries, radius))


@pytest.mark.parametrize("widths", [(33, 223), (16,) * 15, (0, 16) + (16,) * 15])
def test_invalid_chunk_widths_are_refused(widths: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="widths"):
        MultiIndexHashIndex(chunk_widths=widths).add(np.zeros((2, 32), np.uint8))


def test_threaded_batch_search_equals_single_thread() -> None:
    rng = np.random.default_rng(12)
    stored = rng.integers(0, 256, (20_000, 32), dtype=np.uint8)
    queries = flip_bits(stored[rng.integers(0, 20_000, 700)], rng.integers(0, 40, 700), rng)
    fast, oracle = both(stored, shard_size=7_000)
    threaded = fast.search(queries, workers=3)
    assert_same(threaded, fast.search(queries))
    assert_same(threaded, oracle.search(queries))
