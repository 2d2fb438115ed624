"""Local features: the signal that survives heavy crops, large overlays and screenshots.

PDQ hashes the whole frame, so a copy that kept half of a photo, or carries a sticker over
a third of it, is as far from the original as an unrelated photo (measured in
``docs/benchmarks.md``). Corner-like points described by ORB (FAST corners, 256-bit
rotated-BRIEF descriptors, an 8-level scale pyramid) are found again in any part of the
picture that survives, at any position, scale and small rotation. A match is then not a
distance but a geometric fact: enough points of the query land, through one similarity
transform, on points of the dataset image (``search/keypoints.py``).

Both sides go through :func:`extract_keypoints`: uniform borders and caption bands are
trimmed first (otherwise the corners of a frame match the corners of any other frame),
then the picture is resized so its longer side is ``working_side``. Point coordinates
are stored in units of that side, so they are comparable whatever the file's size. The
dataset side keeps its ``dataset_features`` strongest points (storage), the query side
more (``query_features``): a dataset copy that kept half the frame has its strongest
points where the query's many points include them.

OpenCV is imported when first used so that commands which never touch keypoints start
without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

from traindex.fingerprint.base import Fingerprinter
from traindex.fingerprint.images import DEFAULT_MAX_PIXELS, decode_image
from traindex.fingerprint.variants import trim_uniform_border

__all__ = [
    "DESCRIPTOR_BYTES",
    "KeypointFingerprinter",
    "KeypointOptions",
    "Keypoints",
    "dataset_points",
    "extract_keypoints",
    "query_keypoints",
    "query_points",
]

DESCRIPTOR_BYTES = 32
"""ORB descriptors are 256 bits, like PDQ, so the Hamming machinery applies."""


@dataclass(frozen=True, slots=True)
class KeypointOptions:
    """How many points each side keeps and at which size they are found.

    ``fast_threshold`` 10 (OpenCV's default is 20) finds corners in soft, low-contrast
    photos too; ``edge`` 15 lets points sit closer to the border than ORB's 31-px patch
    default, which matters for small crops. ORB is asked for ``oversample`` times the
    points kept, which are then chosen spread over a ``grid`` x ``grid`` partition.
    A query is described at each of ``query_sides`` (``query_features`` points each): a
    dataset copy that kept half of each side shows the picture at twice the scale, where
    ORB's pyramid (factor 1.2, 8 levels) of one 512-px query has few points left.
    """

    working_side: int = 512
    dataset_features: int = 128
    query_features: int = 512
    query_sides: tuple[int, ...] = (512, 1024)
    fast_threshold: int = 10
    edge: int = 15
    grid: int = 4
    oversample: int = 4

    def __post_init__(self) -> None:
        if self.working_side < 64:
            raise ValueError(f"working_side must be at least 64, got {self.working_side}")
        if min(self.dataset_features, self.query_features) < 1:
            raise ValueError("dataset_features and query_features must be positive")
        if not self.query_sides or min(self.query_sides) < 64:
            raise ValueError(f"query_sides must be sides of at least 64, got {self.query_sides}")


@dataclass(frozen=True, slots=True)
class Keypoints:
    """Points ``(n, 2)`` float32 (x, y in units of the working side) and their ORB
    descriptors ``(n, 32)`` uint8, strongest first."""

    points: NDArray[np.float32]
    descriptors: NDArray[np.uint8]

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @classmethod
    def empty(cls) -> Keypoints:
        return cls(np.empty((0, 2), np.float32), np.empty((0, DESCRIPTOR_BYTES), np.uint8))

    def to_bytes(self) -> bytes:
        """Points as float16 pairs, then descriptors: 36 bytes a point (what an image
        claim keeps, as the keypoint tables do with their two columns)."""
        return self.points.astype(np.float16).tobytes() + self.descriptors.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Keypoints:
        count, rest = divmod(len(data), 4 + DESCRIPTOR_BYTES)
        if rest:
            raise ValueError(f"{len(data)} bytes are not whole keypoints (36 bytes each)")
        points = np.frombuffer(data[: 4 * count], np.float16).astype(np.float32)
        descriptors = np.frombuffer(data[4 * count :], np.uint8)
        return cls(points.reshape(-1, 2), descriptors.reshape(-1, DESCRIPTOR_BYTES))

    @classmethod
    def concat(cls, parts: Sequence[Keypoints]) -> Keypoints:
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.points for p in parts]),
            np.concatenate([p.descriptors for p in parts]),
        )


def _working_image(image: Image.Image, side: int, trim: bool = True) -> Image.Image:
    """Luma, border-trimmed (unless ``trim`` is off), longer side exactly ``side`` (small
    images are enlarged so a thumbnail's points are found at the same scale as the full
    photo's), histogram-equalised: a night photo has no corner above FAST's threshold
    until its few grey levels are spread, and ORB's descriptors compare pixel pairs,
    which a monotone mapping of grey levels leaves in the same order."""
    luma = image if image.mode == "L" else image.convert("L")
    trimmed = trim_uniform_border(luma) if trim else None
    picture = trimmed if trimmed is not None else luma
    scale = side / max(picture.size)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    return ImageOps.equalize(picture.resize(size, Image.Resampling.BILINEAR))


def _spread(
    responses: NDArray[np.float32], cells: NDArray[np.int64], count: int
) -> NDArray[np.int64]:
    """The ``count`` points to keep: the strongest of every grid cell first, then the
    second strongest of every cell, and so on. Strength alone puts all points on the
    busiest region (a page's text around a small photo); spreading them keeps points
    in every part of the picture, which is what lets a crop or an embedded copy match."""
    by_strength = np.argsort(-responses, kind="stable")
    rank = np.empty(responses.size, np.int64)
    sorted_cells = cells[by_strength]
    for cell in np.unique(sorted_cells):
        members = by_strength[sorted_cells == cell]
        rank[members] = np.arange(members.size)
    order = np.lexsort((-responses, rank))
    return order[:count].astype(np.int64)


def extract_keypoints(
    image: Image.Image,
    features: int,
    options: KeypointOptions,
    side: int | None = None,
    *,
    trim: bool = True,
) -> Keypoints:
    """At most ``features`` ORB points of ``image`` (any mode) resized to ``side``
    (default: the working side), spread over a ``grid`` x ``grid`` partition of the
    picture (see :func:`_spread`); positions in units of that side. ``trim`` off: for a
    window cut from a picture, whose positions must stay those of the window."""
    import cv2

    side = side or options.working_side
    work = _working_image(image, side, trim)
    # one detector per call (creating it costs microseconds): the web server searches on
    # several threads, and a shared OpenCV object is not documented as thread-safe
    detector = cv2.ORB.create(
        nfeatures=features * options.oversample,
        fastThreshold=options.fast_threshold,
        edgeThreshold=options.edge,
        patchSize=31,
    )
    found, descriptors = detector.detectAndCompute(np.asarray(work), None)
    if descriptors is None or not found:
        return Keypoints.empty()
    xy = np.array([k.pt for k in found], np.float32)
    grid = options.grid
    column = np.minimum((xy[:, 0] * grid / work.width).astype(np.int64), grid - 1)
    row = np.minimum((xy[:, 1] * grid / work.height).astype(np.int64), grid - 1)
    responses = np.array([k.response for k in found], np.float32)
    keep = _spread(responses, row * grid + column, features)
    points = xy[keep] / np.float32(side)
    return Keypoints(points.astype(np.float32), np.ascontiguousarray(descriptors[keep], np.uint8))


def query_keypoints(image: Image.Image, options: KeypointOptions) -> Keypoints:
    """A query's points: ``query_features`` at each of ``query_sides``, in one set."""
    return Keypoints.concat(
        [extract_keypoints(image, options.query_features, options, s) for s in options.query_sides]
    )


def _luma(data: bytes, side: int, name: str | None, max_pixels: int) -> Image.Image:
    return decode_image(data, name=name, max_pixels=max_pixels, min_side=side, grayscale=True).image


def dataset_points(
    data: bytes,
    options: KeypointOptions,
    *,
    name: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Keypoints:
    """An image file's stored points (``fingerprint --keypoints``): its own decode at the
    working side (PDQ's decode stops at 128 px). Raises the decoder's ``InputError``."""
    image = _luma(data, options.working_side, name, max_pixels)
    return extract_keypoints(image, options.dataset_features, options)


def query_points(
    data: bytes,
    options: KeypointOptions,
    *,
    name: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Keypoints:
    """A query file's points at every query side, from one decode at the largest (a
    decode of its own: PDQ's stops at 128 px and must match the dataset side's)."""
    return query_keypoints(_luma(data, max(options.query_sides), name, max_pixels), options)


class KeypointFingerprinter(Fingerprinter[Keypoints]):
    """The dataset side's points of an image file (:func:`dataset_points`) with fixed
    ``options`` and decoder limit; the query side keeps :func:`query_points`, which describes
    the file at several sides."""

    kind: ClassVar[str] = "orb"

    def __init__(
        self, options: KeypointOptions | None = None, *, max_pixels: int = DEFAULT_MAX_PIXELS
    ) -> None:
        self.options = options or KeypointOptions()
        self.max_pixels = max_pixels

    def fingerprint(self, data: bytes, *, name: str | None = None) -> Keypoints:
        """The file's stored points; raises the decoder's ``InputError``."""
        return dataset_points(data, self.options, name=name, max_pixels=self.max_pixels)
