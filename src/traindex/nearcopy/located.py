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
described enlarged (``bench/nearcopy_quality.py`` measures it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from traindex.fingerprint.images import decode_image
from traindex.fingerprint.keypoints import KeypointOptions, Keypoints, query_keypoints
from traindex.fingerprint.variants import uniform_border_box
from traindex.index.keypoints import KeypointSearcher
from traindex.search.keypoints import KeypointMatch, KeypointRules, search_keypoints

__all__ = [
    "NEARCOPY_POINTS",
    "OutputFrame",
    "OutputPoints",
    "Region",
    "locate",
    "output_points",
    "search_outputs",
]

NEARCOPY_POINTS = KeypointOptions(query_features=4096, query_sides=(512, 1024, 2048))
"""4,096 points at each of three sizes (image search: 512 at two). Measured on 42 copies
pasted at 30-90 % of the side, random place, up to 5 degrees (``edits.pasted_random``):
32 found with 2,048 points per size, 34 with 2,048 at five sizes, 39 with these (1.3x the
time of 2,048); with image search's options, copies at 30 % were found 3 times in 14."""


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
    data: bytes, name: str, max_pixels: int, options: KeypointOptions = NEARCOPY_POINTS
) -> OutputPoints:
    """Describe one output file (raises the decoder's ``InputError``). The border box is
    computed on the same decoded picture as the points (``extract_keypoints`` trims it the
    same way), so the frame is exactly theirs."""
    decoded = decode_image(
        data, name=name, max_pixels=max_pixels, min_side=max(options.query_sides), grayscale=True
    )
    image = decoded.image
    box = uniform_border_box(image) or (0, 0, image.width, image.height)
    frame = OutputFrame(box, image.size, decoded.source_size)
    return OutputPoints(query_keypoints(image, options), frame)


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
) -> dict[tuple[int, int], KeypointMatch]:
    """Verified matches per (output number, catalog location), one index call for all."""
    return search_keypoints(index, [o.points if o else None for o in outputs], rules)
