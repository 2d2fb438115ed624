"""From index hits to a verdict: ``copy``, ``near_copy``, ``similar`` or ``novel``.

Every PDQ hit pairs a part of the generated output (``original``, ``rot90``, ``crop:0.7@tl``,
``tile:1,2``, ``trim/tile:0,0``) with a part of a training image (``image`` - its whole or
border-trimmed hash -, ``tile:R,C``, ``crop:0.8@c``). The pair says what kind of evidence
the hit is:

* ``whole`` - output (or an edit of it) against a whole training image or its centre crop:
  the output *is* that image, resized, recoloured, re-framed;
* ``tile`` - the same grid cell on both sides: that part of the frame is unchanged;
* ``region`` - an output tile against a whole training image (the image was pasted in
  that cell), or the whole output against a training tile (one cell was blown up);
* ``keypoints`` - not a PDQ hit: enough ORB points of the output land on the training
  image through one similarity transform (``nearcopy.located``): the image, or a large
  part of it, pasted at any place and scale.

Cells at *different* positions are ignored: unrelated textures (sky, grass) would match
each other otherwise. The thresholds are data (``VerdictRules``, from ``Settings``), and
a CLIP score alone never makes more than ``similar``: a semantic neighbour is not a copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from traindex.config import Settings
from traindex.core.match_evidence import Verdict
from traindex.fingerprint.base import PDQ_MATCH_RADIUS
from traindex.fingerprint.pdq import DIHEDRAL_NAMES
from traindex.nearcopy.tiles import DATASET_CROPS, GRID

__all__ = [
    "TRAINING_IMAGE",
    "VERDICTS",
    "Evidence",
    "EvidenceKind",
    "Verdict",
    "VerdictRules",
    "evidence_kind",
    "searches_regions",
    "strongest",
]

VERDICTS: tuple[Verdict, ...] = ("copy", "near_copy", "similar", "novel")
"""Strongest first."""
EvidenceKind = Literal["whole", "tile", "region", "keypoints", "clip"]
_PDQ_KINDS = frozenset({"whole", "tile", "region"})
TRAINING_IMAGE = "image"
"""The training side of a hit on the PDQ index (the whole image, or its trimmed hash)."""
_COPY_PARTS = frozenset({*DIHEDRAL_NAMES, "trim"})
"""Output variants that leave the frame as it is: a hit through them at a tiny distance
is the same picture, i.e. a copy (an output crop hitting the whole image means new
borders: near copy)."""


_REGION_QUERIES = _COPY_PARTS | {f"crop:{scale:g}@c" for scale in DATASET_CROPS}


def _tile(part: str) -> str | None:
    cell = part.removeprefix("trim/")
    return cell if cell.startswith("tile:") else None


def _same_frame(evidence: Evidence) -> bool:
    """Both sides show the same framing: the whole output (or a flip/turn of it, or its
    trimmed interior) against the whole training image, or the same centre crop of each."""
    if evidence.kind != "whole":
        return False
    if evidence.training_part == TRAINING_IMAGE:
        return evidence.output_part in _COPY_PARTS
    return evidence.output_part == evidence.training_part


def searches_regions(output_part: str) -> bool:
    """Whether an output hash is looked up in the region index: its grid tiles, the
    variants that keep its frame (whole output vs training crops and tiles) and the centre
    crops the index also holds (the same crop of both: the same frame)."""
    return _tile(output_part) is not None or output_part in _REGION_QUERIES


def evidence_kind(output_part: str, training_part: str) -> EvidenceKind | None:
    """What a hit between these two parts proves, or ``None`` if it proves nothing."""
    out_tile, train_tile = _tile(output_part), _tile(training_part)
    if out_tile is None and train_tile is None:
        return "whole"
    if out_tile is not None and train_tile is not None:
        return "tile" if out_tile == train_tile else None
    if out_tile is not None:
        return "region" if training_part == TRAINING_IMAGE else None
    return "region"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason an output resembles one training row, with the number behind it.

    ``distance`` is PDQ bits (0-256) for PDQ kinds; for ``clip`` it is the cosine, for
    ``keypoints`` the number of agreeing points (a geometrically verified match).
    """

    kind: EvidenceKind
    output_part: str
    training_part: str
    distance: float

    @property
    def is_pdq(self) -> bool:
        """A PDQ distance in bits (smaller = closer); the other kinds count the other way."""
        return self.kind in _PDQ_KINDS

    @classmethod
    def of(cls, output_part: str, training_part: str, distance: float) -> Evidence | None:
        """The PDQ evidence a hit between these parts gives, or ``None`` (see module doc)."""
        kind = evidence_kind(output_part, training_part)
        return None if kind is None else cls(kind, output_part, training_part, distance)

    def to_json(self) -> dict[str, Any]:
        method = "pdq" if self.is_pdq else self.kind
        value = round(self.distance, 4) if self.kind == "clip" else int(self.distance)
        key = {"clip": "cosine", "keypoints": "inliers"}.get(self.kind, "distance")
        return {"method": method, "kind": self.kind, "output_part": self.output_part,
                "training_part": self.training_part, key: value}  # fmt: skip


def strongest(verdicts: Iterable[Verdict]) -> Verdict:
    """The strongest verdict among ``verdicts`` (``novel`` when there are none)."""
    given = set(verdicts)
    return next((v for v in VERDICTS if v in given), "novel")


@dataclass(frozen=True, slots=True)
class VerdictRules:
    """The documented, configurable thresholds (``Settings.nearcopy_*``)."""

    copy_distance: int = 16
    """Resizing 0.25-2x plus JPEG q30-q70 moves traindex's PDQ at most 16 bits (measured,
    ``fingerprint/pdq.py``): within it, the same frame is the same picture."""
    near_distance: int = PDQ_MATCH_RADIUS
    tile_distance: int = PDQ_MATCH_RADIUS
    min_tiles: int = 2
    clip_similar: float = 0.9
    watermark: float = 0.8

    @classmethod
    def from_settings(cls, settings: Settings) -> VerdictRules:
        return cls(
            copy_distance=settings.nearcopy_copy_distance,
            near_distance=settings.nearcopy_near_distance,
            tile_distance=settings.nearcopy_tile_distance,
            min_tiles=settings.nearcopy_min_tiles,
            clip_similar=settings.nearcopy_clip_similar,
            watermark=settings.nearcopy_watermark,
        )

    @property
    def search_radius(self) -> int:
        """The PDQ radius the indexes are searched with (the widest threshold)."""
        return max(self.near_distance, self.tile_distance)

    def tiles_agreeing(self, evidence: Iterable[Evidence]) -> int:
        """Distinct grid cells that agree within ``tile_distance``."""
        return len(
            {
                _tile(e.output_part)
                for e in evidence
                if e.kind == "tile" and e.distance <= self.tile_distance
            }
        )

    def score(self, evidence: Iterable[Evidence]) -> float:
        """0-1, higher = closer: ``1 - bits/256`` of the best whole/region hit; else the
        share of the frame whose tiles agree (each weighted by ``1 - bits/256``); else the
        CLIP cosine. Ranks matches; the verdict, not the score, says what a match is."""
        items = list(evidence)
        frames = [e.distance for e in items if e.kind in ("whole", "region")]
        if frames:
            return 1.0 - min(frames) / 256
        points = [e.distance for e in items if e.kind == "keypoints"]
        if points:  # as image search scores a keypoint match: 0.5-0.8, below PDQ's
            return 0.5 + 0.3 * min(max(points), 100) / 100
        cells: dict[str, float] = {}
        for e in items:
            if e.kind == "tile" and e.distance <= self.tile_distance:
                cell = _tile(e.output_part) or ""
                cells[cell] = max(cells.get(cell, 0.0), 1.0 - e.distance / 256)
        if cells:
            return sum(cells.values()) / GRID**2
        return max((e.distance for e in items if e.kind == "clip"), default=0.0)

    def verdict(self, evidence: Iterable[Evidence]) -> Verdict:
        """The verdict for one (output, training row) pair."""
        items = list(evidence)
        pdq = [e for e in items if e.kind in ("whole", "region")]
        if any(_same_frame(e) and e.distance <= self.copy_distance for e in pdq):
            return "copy"
        tiles = self.tiles_agreeing(items)
        if tiles >= self.min_tiles or any(e.distance <= self.near_distance for e in pdq):
            return "near_copy"
        if any(e.kind == "keypoints" for e in items):  # verified (``search/keypoints.py``)
            return "near_copy"
        if tiles or any(e.kind == "clip" and e.distance >= self.clip_similar for e in items):
            return "similar"
        return "novel"

    def flag_watermark(self, verdict: Verdict, pwatermark: float | None) -> bool:
        """A copied row the dataset itself thinks is watermarked: the output may carry it."""
        copied = verdict in ("copy", "near_copy")
        return copied and pwatermark is not None and pwatermark >= self.watermark
