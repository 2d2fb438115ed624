"""How far is still "the same image": the PDQ threshold and the confidence bands.

PDQ's authors recommend 31 differing bits (of 256) as the match threshold; resized and
re-encoded copies of one photo measure well inside it and unrelated photos far outside
(~128, half the bits, is what chance gives). Inside the threshold, distance says how sure the
match is, so every image match carries a band with a sentence a non-expert can read.
Bands are data, not code: a deployment can tighten ``likely`` or add bands.

One query-variant family gets a tighter radius: rotations cropped to their interior come
from a 1-degree grid, so a copy rotated by a small angle lies within half a degree of one
of them and its true hits measure well inside 31. 21 keeps most of them (AugLy +-5 degrees:
0.89 at 21, 0.97 at 31) and is the largest radius at which the 10M-hash index (11 chunks)
probes one differing bit per chunk instead of two: each of those 16 lookups costs ~1/10 of
a full one, and 16 extra hashes looked up at 31 would also give a false match 16 more
chances at LAION scale.
"""

from __future__ import annotations

from dataclasses import dataclass

from traindex.fingerprint.base import PDQ_MATCH_RADIUS
from traindex.fingerprint.variants import CROPPED_ROTATION

__all__ = [
    "DEFAULT_BANDS",
    "DEFAULT_ROTATION_GRID_RADIUS",
    "Band",
    "Thresholds",
]

DEFAULT_ROTATION_GRID_RADIUS = 21
PDQ_BITS = 256


@dataclass(frozen=True, slots=True)
class Band:
    """Distances ``<= max_distance`` (and above the previous band) get this ``label``."""

    label: str
    max_distance: int
    explanation: str


DEFAULT_BANDS: tuple[Band, ...] = (
    Band(
        "certain",
        10,
        "almost every detail agrees: the same photo, at most resized or re-compressed",
    ),
    Band(
        "likely",
        31,
        "the same photo with visible edits (cropping, a filter, a watermark, a border); "
        "worth a look to confirm",
    ),
)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The match radius, the confidence bands inside it (bands sorted, last = radius) and
    the radius of cropped-rotation variants (capped at ``radius``, so ``Thresholds(radius=8)``
    is 8 for every variant)."""

    radius: int = PDQ_MATCH_RADIUS
    bands: tuple[Band, ...] = DEFAULT_BANDS
    rotation_grid_radius: int = DEFAULT_ROTATION_GRID_RADIUS

    def __post_init__(self) -> None:
        if not 0 <= self.radius < PDQ_BITS:
            raise ValueError(f"radius must be in 0..{PDQ_BITS - 1}, got {self.radius}")
        limits = [band.max_distance for band in self.bands]
        if not self.bands or limits != sorted(set(limits)):
            raise ValueError("bands must be non-empty with strictly increasing max_distance")
        if limits[-1] < self.radius:
            raise ValueError(f"the last band ends at {limits[-1]}, below the radius {self.radius}")
        grid = self.rotation_grid_radius
        if not 0 <= grid < PDQ_BITS:
            raise ValueError(f"rotation_grid_radius must be in 0..{PDQ_BITS - 1}, got {grid}")

    def variant_radius(self, variant: str) -> int:
        """The radius a query variant is looked up at: ``rotation_grid_radius`` for the
        cropped rotations (``rotate:+5/crop``), ``radius`` for every other variant."""
        if variant.endswith(CROPPED_ROTATION):
            return min(self.rotation_grid_radius, self.radius)
        return self.radius

    def band(self, distance: int) -> Band | None:
        """The band of a distance, or ``None`` when it is beyond the radius (no match)."""
        if distance < 0:
            raise ValueError(f"a Hamming distance is never negative, got {distance}")
        if distance > self.radius:
            return None
        return next(band for band in self.bands if distance <= band.max_distance)

    def confidence(self, distance: int) -> str | None:
        """The band label (``certain``/``likely``) or ``None`` when not a match."""
        band = self.band(distance)
        return band.label if band is not None else None

    def explain(self, distance: int) -> str:
        """A plain-words sentence for a report or the UI about one distance."""
        band = self.band(distance)
        share = f"{distance} of {PDQ_BITS} fingerprint bits differ"
        if band is None:
            return f"{share}: more than {self.radius}, so this is not treated as your image"
        return f"{band.label.capitalize()} match ({share}): {band.explanation}."
