"""Is the query's picture inside this dataset image? Geometric verification of keypoints.

Descriptor hits alone prove little: ORB descriptors of unrelated corners often sit
within 56 bits of each other, and a busy dataset image collects dozens of such hits.
What unrelated images do not share is *geometry*: a crop, resize or small rotation maps
every surviving point of the original through one similarity transform (scale, rotation,
shift). So per dataset image the hits are made one-to-one (each query point and each
stored point used once, nearest descriptor first), a similarity transform is fitted with
RANSAC, and the image counts as a match when at least ``min_inliers`` pairs agree with
it to within ``tolerance`` of the working side, at a plausible scale.

Agreeing points are counted at distinct places (``_distinct``). Measured on the
robustness benchmark (``bench/image_robustness.py``, 4.7 million unrelated pairs):
unrelated pairs reach at most 7, true copies mostly dozens; ``min_inliers`` 10 keeps
every unrelated pair out. Being one-to-one matters: without it a transform that shrinks
the whole query onto one busy spot "agrees" with every hit there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from traindex.fingerprint.keypoints import Keypoints
from traindex.index.keypoints import KeypointHits, KeypointSearcher

__all__ = [
    "KeypointMatch", "KeypointRules", "keypoint_matches", "search_keypoints", "verify"
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class KeypointRules:
    """When descriptor hits make a match. ``certain_inliers`` is where the confidence band
    goes from ``likely`` to ``certain``. Only the ``max_candidates`` images with the most
    descriptor pairs are verified per query: at radius 56 a busy index gives hundreds of
    images ten chance pairs each, and RANSAC on each would dominate the query's cost.
    300 is far above the copies of one photo a dataset holds in practice (the
    robustness benchmark plants 54 per photo)."""

    radius: int = 56
    min_inliers: int = 10
    certain_inliers: int = 30
    tolerance: float = 0.01
    max_candidates: int = 300
    min_scale: float = 1 / 8
    max_scale: float = 8.0

    def __post_init__(self) -> None:
        if not 0 <= self.radius < 256:
            raise ValueError(f"radius must be in 0..255, got {self.radius}")
        if not 3 <= self.min_inliers <= self.certain_inliers:
            raise ValueError("need 3 <= min_inliers <= certain_inliers")
        if self.max_candidates < 1:
            raise ValueError(f"max_candidates must be positive, got {self.max_candidates}")
        if not 0 < self.min_scale < 1 < self.max_scale:
            raise ValueError("need 0 < min_scale < 1 < max_scale")

    def confidence(self, inliers: int) -> str:
        return "certain" if inliers >= self.certain_inliers else "likely"

    def score(self, inliers: int) -> float:
        """0.5-0.8, rising with agreeing points: below every PDQ match (>= 0.88), which
        also measures how much of the frame agrees, not only that a part does."""
        return round(0.5 + 0.3 * min(inliers, 100) / 100, 3)

    def explain(self, match: KeypointMatch) -> str:
        """A plain-words sentence for a report or the UI."""
        label = self.confidence(match.inliers).capitalize()
        return (
            f"{label} match ({match.inliers} distinctive points of your image line up with "
            f"this one after scaling by {match.scale:g} and turning by {match.rotation:g} "
            f"degrees; unrelated images reach about 7): it shows your picture, possibly "
            f"cropped, covered in part or set inside a larger image; worth a look to confirm."
        )


@dataclass(frozen=True, slots=True)
class KeypointMatch:
    """How the query maps onto one dataset image: agreeing points out of the candidate
    pairs, and the fitted transform's scale (dataset / query) and rotation in degrees.
    ``transform`` is the fitted 2 x 3 matrix row by row (query point -> dataset point, both
    in working-side units): inverted, it says where the dataset image sits in the query
    (``nearcopy.located``)."""

    inliers: int
    pairs: int
    scale: float
    rotation: float
    transform: tuple[float, ...] = ()


def _one_to_one(
    hits: KeypointHits, order: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Positions (into ``hits``) of ``order``'s hits that keep each (query point, owner)
    and each stored point once, nearest first; and their owners."""
    taken = order[_first(hits.query[order], hits.owners[order])]
    taken = taken[_first(hits.descriptor[taken], np.zeros_like(taken))]
    return taken, hits.owners[taken]


def _first(a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Mask of the first occurrence of each (a, b) pair, in the given order."""
    order = np.lexsort((b, a))
    new = np.ones(a.size, dtype=bool)
    new[1:] = (a[order][1:] != a[order][:-1]) | (b[order][1:] != b[order][:-1])
    first = order[new]
    mask = np.zeros(a.size, dtype=bool)
    mask[first] = True
    return mask


def _distinct(points: NDArray[np.float32], rules: KeypointRules) -> int:
    """Agreeing points at distinct places: ORB finds one corner at several pyramid levels,
    and a star-shaped light gives a cluster of near-identical points, which would
    otherwise count many times (unrelated night photos reached 14 agreeing points,
    distinct places at most 7)."""
    cells = np.floor(points / (2 * rules.tolerance)).astype(np.int64)
    return int(np.unique(cells[:, 0] * (1 << 20) + cells[:, 1]).size)


def _fit(
    src: NDArray[np.float32], dst: NDArray[np.float32], rules: KeypointRules
) -> KeypointMatch | None:
    import cv2

    model, inliers = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=rules.tolerance, maxIters=2000
    )
    if model is None or inliers is None:
        return None
    scale = float(np.sqrt(abs(np.linalg.det(model[:, :2]))))
    agree = inliers.ravel() > 0
    if not rules.min_scale <= scale <= rules.max_scale or agree.sum() < rules.min_inliers:
        return None
    agreeing = min(_distinct(src[agree], rules), _distinct(dst[agree], rules))
    if agreeing < rules.min_inliers:
        return None
    rotation = float(np.degrees(np.arctan2(model[1, 0], model[0, 0])))
    matrix = tuple(float(v) for v in model.ravel())
    return KeypointMatch(agreeing, len(src), round(scale, 3), round(rotation, 1), matrix)


def verify(query: Keypoints, hits: KeypointHits, rules: KeypointRules) -> dict[int, KeypointMatch]:
    """Dataset images (owner ids) that ``query`` maps onto; ``hits`` are this query's
    descriptor hits (``hits.query`` numbers its points)."""
    if not len(hits):
        return {}
    order = np.lexsort((hits.query, hits.distances)).astype(np.int64)
    taken, owners = _one_to_one(hits, order)
    found: dict[int, KeypointMatch] = {}
    by_owner = np.argsort(owners, kind="stable")
    bounds = np.flatnonzero(np.diff(owners[by_owner])) + 1
    groups = [g for g in np.split(by_owner, bounds) if g.size >= rules.min_inliers]
    groups.sort(key=len, reverse=True)
    for group in groups[: rules.max_candidates]:
        chosen = taken[group]
        src = query.points[hits.query[chosen]]
        match = _fit(src, hits.points[chosen], rules)
        if match is not None:
            found[int(owners[group[0]])] = match
    return found


def search_keypoints(
    index: KeypointSearcher, queries: Sequence[Keypoints | None], rules: KeypointRules
) -> dict[tuple[int, int], KeypointMatch]:
    """Verified matches per (query number, owner) for many query images: one index call
    for all their descriptors, then :func:`verify` per image."""
    return keypoint_matches(index, queries, rules)[0]


def keypoint_matches(
    index: KeypointSearcher, queries: Sequence[Keypoints | None], rules: KeypointRules
) -> tuple[dict[tuple[int, int], KeypointMatch], tuple[str, ...]]:
    """:func:`search_keypoints`, plus the index shards a fanned-out index could not reach."""
    used = [(qi, q) for qi, q in enumerate(queries) if q is not None and len(q)]
    if not used:
        return {}, ()
    hits = index.search(np.concatenate([q.descriptors for _, q in used]), rules.radius)
    starts = np.cumsum([0] + [len(q) for _, q in used])
    order = np.argsort(hits.query, kind="stable")
    bounds = np.searchsorted(hits.query[order], starts)
    found: dict[tuple[int, int], KeypointMatch] = {}
    for number, (qi, query) in enumerate(used):
        mine = hits.select(order[bounds[number] : bounds[number + 1]], int(starts[number]))
        for owner, match in verify(query, mine, rules).items():
            found[(qi, owner)] = match
    return found, hits.not_searched
