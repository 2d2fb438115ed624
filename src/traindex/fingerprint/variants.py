"""Query-side variants: hashes that anticipate how a dataset copy was edited.

Plain PDQ survives resizing and re-encoding but not a 10% crop, padding or a 5-degree
rotation. The index is fast enough to look up dozens of hashes per query, so instead of a
more tolerant (and less precise) hash, the query image is edited in the ways copies are
edited and every edit is hashed:

* ``dihedral`` - the 8 flips/quarter-turns (``original``, ``rot90`` ...), one PDQ pass;
* ``aspects`` - centred crops to common aspect ratios (``aspect:1:1``): what img2dataset's
  ``center_crop`` resize mode and square thumbnails do to every image of a dataset;
* ``crops`` - a grid of scales x positions (``crop:0.7@tl``): a copy that kept 70% of the
  frame anchored top-left is close to this crop of the original. PDQ is very sensitive to
  framing (measured: a 2% crop already costs 24-56 bits), so only crops close to a grid
  point are recovered; the grid targets the crops people and tools actually make;
* ``rotations`` - small rotations as many tools make them (same canvas, black corners:
  ``rotate:+4``; the corners dominate the hash, so a 4-degree grid covers up to ~10
  degrees) and, on a 1-degree grid over the same range, cropped to the largest upright
  rectangle (``rotate:+5/crop``, what AugLy and most editors' "straighten" produce). A
  cropped rotation tolerates only about half a degree (measured: a 5-degree copy is found
  by 97 % of ``+5/crop`` and 71 % of ``+4/crop`` variants), hence the fine grid; search
  looks the grid up at a tighter radius (``Thresholds.rotation_grid_radius``), which
  keeps 16 lookups cheaper than the former 4 (see ``search/images.py``);
* ``trim`` - uniform borders and caption bands removed (``trim``). :func:`trim_uniform_border`
  is public so the dataset side trims identically and stores a second hash when a frame,
  padding or a meme's caption band was found.

``CROPPED_ROTATION`` is the variant-name suffix of the cropped rotations, so a caller can
treat that family apart (search gives it its own radius).

Each variant is a named :class:`Fingerprint`; a match reports the variant that hit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from traindex.fingerprint.base import Fingerprint
from traindex.fingerprint.images import to_rgb
from traindex.fingerprint.pdq import PdqFingerprinter

__all__ = [
    "CROPPED_ROTATION",
    "DEFAULT_PLAN",
    "POSITIONS",
    "VariantPlan",
    "aspect_variants",
    "crop_variants",
    "inscribed_size",
    "query_variants",
    "rotation_grid",
    "rotation_variants",
    "trim_uniform_border",
    "uniform_border_box",
    "working_copy",
]

POSITIONS: dict[str, tuple[float, float]] = {
    "tl": (0.0, 0.0),
    "tr": (1.0, 0.0),
    "bl": (0.0, 1.0),
    "br": (1.0, 1.0),
    "c": (0.5, 0.5),
}
"""Where a crop window sits, as fractions of the free space (x, y)."""


@dataclass(frozen=True, slots=True)
class VariantPlan:
    """Which variant families a query computes; the default is about 57 hashes per image."""

    dihedral: bool = True
    aspects: tuple[tuple[int, int], ...] = ((1, 1), (4, 3), (3, 4), (16, 9))
    crop_scales: tuple[float, ...] = (0.9, 0.8, 0.7, 0.6, 0.5)
    crop_positions: tuple[str, ...] = ("tl", "tr", "bl", "br", "c")
    rotations: tuple[float, ...] = (-8.0, -4.0, 4.0, 8.0)
    """Same-canvas rotations (``rotate:+4``); their range also bounds the cropped grid."""
    rotation_crop: bool = True
    """Also hash rotations cropped to their upright interior (``rotate:+5/crop``) at every
    multiple of ``rotation_step`` within the range of ``rotations`` (0 excluded)."""
    rotation_step: float = 1.0
    trim: bool = True
    working_side: int = 128
    """Variants are cut from a copy whose shorter side is at most this: PDQ sees 64 x 64, so
    a 128-pixel copy keeps a 50% crop at full hash resolution while rotating and cropping
    16x fewer pixels than a 512-pixel one."""


DEFAULT_PLAN = VariantPlan()


def crop_variants(
    image: Image.Image, scales: tuple[float, ...], positions: tuple[str, ...]
) -> Iterator[tuple[str, Image.Image]]:
    """Yield ``("crop:<scale>@<pos>", cropped)`` keeping ``scale`` of each side."""
    width, height = image.size
    for scale in scales:
        if not 0.0 < scale <= 1.0:
            raise ValueError(f"crop scale must be in (0, 1], got {scale}")
        crop_w, crop_h = max(1, round(width * scale)), max(1, round(height * scale))
        for position in positions:
            fx, fy = POSITIONS[position]
            left, top = round((width - crop_w) * fx), round((height - crop_h) * fy)
            yield f"crop:{scale:g}@{position}", image.crop((left, top, left + crop_w, top + crop_h))


def aspect_variants(
    image: Image.Image, aspects: tuple[tuple[int, int], ...]
) -> Iterator[tuple[str, Image.Image]]:
    """Yield ``("aspect:W:H", centred crop)`` for each ratio the image is not already at (±2%)."""
    width, height = image.size
    for ratio_w, ratio_h in aspects:
        target = ratio_w / ratio_h
        if abs(width / height - target) <= 0.02 * target:
            continue
        crop_w, crop_h = (
            (round(height * target), height)
            if width / height > target
            else (
                width,
                round(width / target),
            )
        )
        left, top = (width - crop_w) // 2, (height - crop_h) // 2
        yield f"aspect:{ratio_w}:{ratio_h}", image.crop((left, top, left + crop_w, top + crop_h))


def inscribed_size(width: int, height: int, degrees: float) -> tuple[int, int]:
    """Largest upright rectangle inside a ``width x height`` image rotated by ``degrees``."""
    sin_a, cos_a = abs(math.sin(math.radians(degrees))), abs(math.cos(math.radians(degrees)))
    long_side, short_side = max(width, height), min(width, height)
    if short_side <= 2.0 * sin_a * cos_a * long_side or abs(sin_a - cos_a) < 1e-10:
        half = 0.5 * short_side
        if width >= height:
            inner_w, inner_h = half / sin_a, half / cos_a
        else:
            inner_w, inner_h = half / cos_a, half / sin_a
    else:
        cos_2a = cos_a * cos_a - sin_a * sin_a
        inner_w = (width * cos_a - height * sin_a) / cos_2a
        inner_h = (height * cos_a - width * sin_a) / cos_2a
    return max(1, int(inner_w)), max(1, int(inner_h))


CROPPED_ROTATION = "/crop"


def rotation_grid(degrees: tuple[float, ...], step: float) -> tuple[float, ...]:
    """Every non-zero multiple of ``step`` within ``[-max |degrees|, +max |degrees|]``."""
    if step <= 0:
        raise ValueError(f"rotation step must be positive, got {step}")
    reach = max((abs(angle) for angle in degrees), default=0.0)
    count = int(reach / step + 1e-9)
    return tuple(k * step for k in range(-count, count + 1) if k)


def rotation_variants(
    image: Image.Image, degrees: tuple[float, ...], *, cropped: tuple[float, ...] = ()
) -> Iterator[tuple[str, Image.Image]]:
    """Yield ``("rotate:+4", rotated)`` for each of ``degrees`` (counter-clockwise, same
    canvas, black corners), then ``("rotate:+5/crop", ...)`` for each of ``cropped``: the
    rotation cut to its upright interior."""
    width, height = image.size
    for angle in degrees:
        yield f"rotate:{angle:+g}", image.rotate(angle, resample=Image.Resampling.BILINEAR)
    for angle in cropped:
        inner_w, inner_h = inscribed_size(width, height, angle)
        left, top = (width - inner_w) // 2, (height - inner_h) // 2
        rotated = image.rotate(angle, resample=Image.Resampling.BILINEAR)
        box = (left, top, left + inner_w, top + inner_h)
        yield f"rotate:{angle:+g}{CROPPED_ROTATION}", rotated.crop(box)


def _uniform_run(lines: np.ndarray, tolerance: int, majority: float) -> int:
    """How many leading lines (axis 0) are border: the outermost line's colour, give or take
    ``tolerance``.

    A line is *clean* when every pixel has that colour and *mostly border* when at least
    ``majority`` of them do. The border is the leading clean lines; it also takes a block
    of mostly-border lines (the text rows of a caption band: a meme) when the block ends
    on a clean line right before the picture, so a sky that merely resembles a white pad
    is never cut into.
    """
    reference = np.median(lines[0].reshape(-1, lines.shape[-1]), axis=0)
    lines = lines[: max(1, lines.shape[0] // 2 + 1)]
    deviation = np.abs(lines.astype(np.int16) - reference.astype(np.int16)).max(axis=2)
    border = deviation <= tolerance
    clean = border.all(axis=1)
    mostly = border.mean(axis=1) >= majority
    band = int(np.argmin(mostly)) if not mostly.all() else lines.shape[0]
    if band > 0 and clean[band - 1]:
        return band
    return int(np.argmin(clean)) if not clean.all() else lines.shape[0]


def uniform_border_box(
    image: Image.Image,
    *,
    tolerance: int = 16,
    min_keep: float = 0.3,
    majority: float = 0.35,
) -> tuple[int, int, int, int] | None:
    """The ``(left, top, right, bottom)`` box inside uniform-colour borders (padding, mats,
    frames, caption bands); ``None`` when there are none.

    Each side is trimmed independently (letterbox bars differ from side bars) while its rows
    or columns stay within ``tolerance`` (0-255, per channel) of that side's outermost line;
    lines where at least ``majority`` of the pixels do (text on a caption band) are crossed
    when a clean line closes them off from the picture (see ``_uniform_run``;
    ``majority=1`` trims plain borders only; 0.35 rather than 0.5 also crosses a caption
    whose text fills most of a narrow picture's width: AugLy memes 0.56 -> 0.75 found).
    Returns ``None`` if nothing is trimmed or less than ``min_keep`` of a side would remain
    (a flat image is not a frame around nothing).
    """
    pixels = np.asarray(image if image.mode in ("RGB", "L") else image.convert("RGB"))
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    height, width = pixels.shape[:2]
    columns = pixels.transpose(1, 0, 2)
    top = _uniform_run(pixels, tolerance, majority)
    bottom = _uniform_run(pixels[::-1], tolerance, majority)
    left = _uniform_run(columns, tolerance, majority)
    right = _uniform_run(columns[::-1], tolerance, majority)
    keep_w, keep_h = width - left - right, height - top - bottom
    if top + bottom + left + right == 0 or keep_w < min_keep * width or keep_h < min_keep * height:
        return None
    return left, top, width - right, height - bottom


def trim_uniform_border(
    image: Image.Image,
    *,
    tolerance: int = 16,
    min_keep: float = 0.3,
    majority: float = 0.35,
) -> Image.Image | None:
    """``image`` cropped to :func:`uniform_border_box`; ``None`` when it has no border."""
    box = uniform_border_box(image, tolerance=tolerance, min_keep=min_keep, majority=majority)
    return None if box is None else image.crop(box)


def working_copy(image: Image.Image, side: int) -> Image.Image:
    """Luma copy whose shorter side is at most ``side``: PDQ uses luma only, so every crop
    and rotation below moves one channel instead of three."""
    luma = image.convert("L") if image.mode in ("RGB", "L") else to_rgb(image).convert("L")
    shorter = min(luma.size)
    if shorter <= side:
        return luma
    scale = side / shorter
    size = (max(1, round(luma.width * scale)), max(1, round(luma.height * scale)))
    return luma.resize(size, Image.Resampling.BOX)


def query_variants(
    image: Image.Image, hasher: PdqFingerprinter, plan: VariantPlan = DEFAULT_PLAN
) -> list[Fingerprint]:
    """PDQ of ``image`` and of every variant in ``plan``; the first entry is ``original``.

    Low-quality variants are kept (and flagged) so callers can see them, but search must
    not report them as matches on their own.
    """
    work = working_copy(image, plan.working_side)
    results = hasher.hash_dihedral(work) if plan.dihedral else [hasher.hash_image(work)]
    edits: list[tuple[str, Image.Image]] = []
    edits.extend(aspect_variants(work, plan.aspects))
    edits.extend(crop_variants(work, plan.crop_scales, plan.crop_positions))
    cropped = rotation_grid(plan.rotations, plan.rotation_step) if plan.rotation_crop else ()
    edits.extend(rotation_variants(work, plan.rotations, cropped=cropped))
    if plan.trim:
        trimmed = trim_uniform_border(work)
        if trimmed is not None:
            edits.append(("trim", trimmed))
    results.extend(hasher.hash_image(edited, variant=name) for name, edited in edits)
    return results
