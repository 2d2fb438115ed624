"""Geometric verification: a similarity-transformed point set is recognised, with its
transform; chance pairings, many-to-one pairings and implausible scales are not."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from traindex.fingerprint.keypoints import Keypoints
from traindex.index.keypoints import KeypointHits
from traindex.search.keypoints import KeypointMatch, KeypointRules, verify

RULES = KeypointRules()
OWNER = 7


def _query(points: NDArray[np.float32]) -> Keypoints:
    return Keypoints(points.astype(np.float32), np.zeros((len(points), 32), np.uint8))


def _hits(
    query: list[int], owners: list[int], points: NDArray[np.float64], descriptor: list[int]
) -> KeypointHits:
    n = len(query)
    return KeypointHits(
        np.asarray(query, np.int64),
        np.asarray(owners, np.int64),
        np.asarray(points, np.float32).reshape(n, 2),
        np.full(n, 40, np.int64),
        np.asarray(descriptor, np.int64),
    )


def _transform(src: NDArray[np.float64], scale: float, degrees: float) -> NDArray[np.float64]:
    angle = math.radians(degrees)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return scale * src @ rotation.T + np.array([0.2, -0.1])


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(25, 120),
    scale=st.floats(0.5, 3.0),
    degrees=st.floats(-30, 30),
    outliers=st.integers(0, 100),
)
def test_a_transformed_copy_is_found_with_its_transform(
    seed: int, count: int, scale: float, degrees: float, outliers: int
) -> None:
    rng = np.random.default_rng(seed)
    src = rng.uniform(0, 1, (count, 2))
    dst = _transform(src, scale, degrees) + rng.normal(0, 0.001, (count, 2))
    noise_points = rng.uniform(0, 2, (outliers, 2))
    hits = _hits(
        list(range(count)) + [int(q) for q in rng.integers(0, count, outliers)],
        [OWNER] * count + [int(o) for o in rng.integers(OWNER, OWNER + 3, outliers)],
        np.concatenate([dst, noise_points]),
        list(range(count + outliers)),
    )
    found = verify(_query(src), hits, RULES)
    match = found[OWNER]
    assert match.inliers >= 0.8 * count
    assert match.scale == pytest.approx(scale, rel=0.02)
    assert match.rotation == pytest.approx(degrees, abs=1.0)
    assert match.pairs <= count + outliers


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(10, 150))
def test_chance_pairings_are_not_a_match(seed: int, count: int) -> None:
    rng = np.random.default_rng(seed)
    src = rng.uniform(0, 1, (count, 2))
    hits = _hits(
        list(range(count)), [OWNER] * count, rng.uniform(0, 1, (count, 2)), list(range(count))
    )
    assert verify(_query(src), hits, RULES) == {}


def test_many_query_points_on_one_stored_point_count_once() -> None:
    """A transform that shrinks the query onto one spot 'agrees' with every pair that
    ends there; one-to-one pairing leaves a single pair, so no match."""
    src = np.random.default_rng(1).uniform(0, 1, (60, 2))
    hits = _hits(list(range(60)), [OWNER] * 60, np.full((60, 2), 0.5), [99] * 60)
    assert verify(_query(src), hits, RULES) == {}


def test_clustered_points_count_as_one_place() -> None:
    """Twelve pairs on three spots (one corner found at several pyramid levels) are
    three agreeing places, below the floor."""
    src = np.repeat(np.array([[0.1, 0.1], [0.5, 0.2], [0.3, 0.8]]), 12, axis=0)
    src += np.random.default_rng(2).normal(0, 0.001, src.shape)
    hits = _hits(list(range(36)), [OWNER] * 36, src + 0.05, list(range(36)))
    assert verify(_query(src), hits, RULES) == {}
    assert (
        verify(_query(src), hits, KeypointRules(min_inliers=3, certain_inliers=3))[OWNER].inliers
        == 3
    )


def test_an_implausible_scale_is_refused() -> None:
    src = np.random.default_rng(3).uniform(0, 1, (50, 2))
    tiny = _hits(list(range(50)), [OWNER] * 50, src * 0.1, list(range(50)))
    assert verify(_query(src), tiny, RULES) == {}
    assert OWNER in verify(_query(src), tiny, KeypointRules(min_scale=0.01))


def test_rules_validate_and_word_their_bands() -> None:
    with pytest.raises(ValueError, match="min_inliers"):
        KeypointRules(min_inliers=2)
    with pytest.raises(ValueError, match="certain_inliers"):
        KeypointRules(min_inliers=20, certain_inliers=10)
    with pytest.raises(ValueError, match="radius"):
        KeypointRules(radius=300)
    assert (RULES.confidence(10), RULES.confidence(30)) == ("likely", "certain")
    assert 0.5 <= RULES.score(10) < RULES.score(60) <= 0.8
    sentence = RULES.explain(KeypointMatch(12, 40, 0.5, -4.0))
    assert "12 distinctive points" in sentence
    assert "scaling by 0.5" in sentence
