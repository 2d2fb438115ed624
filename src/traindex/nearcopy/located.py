"""Where a training image sits inside a generated one: keypoints, verified by geometry.

PDQ hashes whole frames (and the check's fixed grid tiles and centre crops), so a training
photo pasted at an arbitrary place and scale on a new background is as far from the
training hash as an unrelated photo. When the release has keypoints (``traindex
fingerprint --keypoints``), the output's ORB points are searched in the release's keypoint
index and verified with RANSAC (``search/keypoints.py``, the same code as image search):
a pasted, scaled, slightly turned, re-compressed or partly covered copy maps many of its
points onto the training image through one similarity transform. That transform maps
output points onto the training image; its inverse maps the training image's corners
into the output, which gives the region's outline and box in the output's pixels.

The output is described with more points, at more sizes, than an image-search query
(:data:`NEARCOPY_POINTS`): a copy pasted at 30 % of the side holds about a tenth of the
output's points, and is found again at its own scale only when the output is also
described enlarged. It is also described in overlapping windows, each on its own
(:data:`NEARCOPY_WINDOWS`): histogram equalisation and the point budget are per picture,
so a dark photo (a star field) pasted on a bright background stays too dark for FAST's
corners once the whole output is equalised, and a busy background takes the points; a
window that holds the copy shows it as the dataset side saw it
(``bench/nearcopy_quality.py`` measures both).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from traindex.fingerprint.images import decode_image
from traindex.fingerprint.keypoints import (
    KeypointOptions,
    Keypoints,
    extract_keypoints,
    query_keypoints,
)
from traindex.fingerprint.variants import uniform_border_box
from traindex.index.keypoints import KeypointSearcher
from traindex.search.keypoints import KeypointMatch, KeypointRules, keypoint_matches

__all__ = [
    "NEARCOPY_POINTS",
    "NEARCOPY_WINDOWS",
    "OutputFrame",
    "OutputPoints",
    "Region",
    "Windows",
    "locate",
    "output_points",
    "search_outputs",
    "window_points",
]

NEARCOPY_POINTS = KeypointOptions(query_features=4096, query_sides=(512, 1024, 2048))
"""4,096 points at each of three sizes (image search: 512 at two). Measured on 42 copies
pasted at 30-90 % of the side, random place, up to 5 degrees (``edits.pasted_random``):
32 found with 2,048 points per size, 34 with 2,048 at five sizes, 39 with these (1.3x the
time of 2,048); with image search's options, copies at 30 % were found 3 times in 14."""


@dataclass(frozen=True, slots=True)
class Windows:
    """Windows ``fraction`` of the picture's width and height, at ``steps`` (0-1 of the
    free room) in x and y, each described with ``features`` points at ``side`` px."""

    fraction: float = 0.5
    steps: tuple[float, ...] = (0.0, 0.5, 1.0)
    side: int = 1024
    features: int = 1024


NEARCOPY_WINDOWS = Windows()
"""3 x 3 half-size windows. On 168 pasted copies (30-90 %, JPEG q50-95, 12 draws per
training photo) with :data:`NEARCOPY_POINTS` alone 20 were missed; these windows found 11
of the 20 (most of them small copies of the star field) and no unrelated image gained
more than 5 agreeing points; they add about as much time as the 2,048-px description."""


def window_points(picture: Image.Image, windows: Windows) -> Keypoints:
    """Points of each window of ``picture``, in units of the picture's longer side (the
    units of :func:`query_keypoints` on the same, border-trimmed, picture)."""
    options = KeypointOptions(query_features=windows.features, query_sides=(windows.side,))
    width, height = picture.size
    w, h = max(1, round(width * windows.fraction)), max(1, round(height * windows.fraction))
    parts = []
    for fy in windows.steps:
        for fx in windows.steps:
            x, y = round((width - w) * fx), round((height - h) * fy)
            found = extract_keypoints(
                picture.crop((x, y, x + w, y + h)), windows.features, options, windows.side,
                trim=False,
            )  # fmt: skip
            shifted = (found.points * max(w, h) + np.array([x, y], np.float32)) / max(width, height)
            parts.append(Keypoints(shifted.astype(np.float32), found.descriptors))
    return Keypoints.concat(parts)


@dataclass(frozen=True, slots=True)
class OutputFrame:
    """How keypoint units of one output map to its pixels: the border-trimmed box the
    points were found in (decoded pixels), the decoded size and the file's own size."""

    box: tuple[int, int, int, int]
    decoded: tuple[int, int]
    source: tuple[int, int]

    def to_pixels(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Points in units of the trimmed picture's longer side -> the file's pixels."""
        left, top, right, bottom = self.box
        side = max(right - left, bottom - top)
        scale = np.array([self.source[0] / self.decoded[0], self.source[1] / self.decoded[1]])
        pixels: NDArray[np.float64] = (points * side + np.array([left, top])) * scale
        return pixels


@dataclass(frozen=True, slots=True)
class OutputPoints:
    """An output's keypoints and the frame they were measured in."""

    points: Keypoints
    frame: OutputFrame


def output_points(
    data: bytes,
    name: str,
    max_pixels: int,
    options: KeypointOptions = NEARCOPY_POINTS,
    windows: Windows | None = NEARCOPY_WINDOWS,
) -> OutputPoints:
    """Describe one output file (raises the decoder's ``InputError``). The border box is
    computed on the same decoded picture as the points (``extract_keypoints`` trims it the
    same way), so the frame is exactly theirs; windows are cut from inside that box."""
    decoded = decode_image(
        data, name=name, max_pixels=max_pixels, min_side=max(options.query_sides), grayscale=True
    )
    image = decoded.image
    box = uniform_border_box(image) or (0, 0, image.width, image.height)
    frame = OutputFrame(box, image.size, decoded.source_size)
    points = query_keypoints(image, options)
    if windows is not None:
        points = Keypoints.concat([points, window_points(image.crop(box), windows)])
    return OutputPoints(points, frame)


@dataclass(frozen=True, slots=True)
class Region:
    """Where the training image was found in the output, in the output's pixels:
    ``outline`` its four corners (top-left, top-right, bottom-right, bottom-left; turned
    with the copy) and ``box`` (x, y, width, height) around them, clipped to the output."""

    outline: tuple[tuple[float, float], ...]
    box: tuple[int, int, int, int]
    size: tuple[int, int]
    match: KeypointMatch

    def to_json(self) -> dict[str, Any]:
        return {
            "box": list(self.box),
            "outline": [[round(x, 1), round(y, 1)] for x, y in self.outline],
            "image_size": list(self.size),
            "inliers": self.match.inliers,
        }


def _corners(width: int, height: int) -> NDArray[np.float64]:
    """The training picture's corners in its keypoint units (longer side = 1)."""
    longer = max(width, height)
    w, h = width / longer, height / longer
    return np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]])


def locate(
    match: KeypointMatch, frame: OutputFrame, training_size: tuple[Any, Any]
) -> Region | None:
    """The region of the output showing the training image, or ``None`` when it cannot be
    drawn: no transform, or the dataset row records no usable width and height (the
    training picture's shape is what the corners are made of)."""
    width, height = training_size
    if len(match.transform) != 6 or not isinstance(width, int) or not isinstance(height, int):
        return None
    if width <= 0 or height <= 0:
        return None
    model = np.array(match.transform, np.float64).reshape(2, 3)
    try:
        inverse = np.linalg.inv(model[:, :2])
    except np.linalg.LinAlgError:
        return None
    in_output = (_corners(width, height) - model[:, 2]) @ inverse.T
    pixels = frame.to_pixels(in_output)
    x0, y0 = np.clip(pixels.min(axis=0), 0, frame.source)
    x1, y1 = np.clip(pixels.max(axis=0), 0, frame.source)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    box = (math.floor(x0), math.floor(y0), math.ceil(x1 - x0), math.ceil(y1 - y0))
    outline = tuple((float(x), float(y)) for x, y in pixels)
    return Region(outline, box, frame.source, match)


def search_outputs(
    index: KeypointSearcher, outputs: Sequence[OutputPoints | None], rules: KeypointRules
) -> tuple[dict[tuple[int, int], KeypointMatch], tuple[str, ...]]:
    """Verified matches per (output number, catalog location), one index call for all;
    and the index shards a fanned-out index could not reach."""
    return keypoint_matches(index, [o.points if o else None for o in outputs], rules)
