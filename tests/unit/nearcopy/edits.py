"""Simulated model outputs that copy training photos, and the photos themselves.

Shared by the near-copy tests and ``bench/nearcopy_quality.py`` (loaded by file path, as
neither folder is a package). Each edit is how generated images have been seen to copy
training images: re-rendered at another size, colour shifted, partly regenerated (a region
replaced with noise or another photo), borders changed (padding, cut, outpainted), or a
copied region placed on a new background. ``build_release`` turns photos into a training
release the way a user would (ingest, fingerprint, region index).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image, ImageEnhance, ImageOps
from skimage import data as skdata

from traindex.catalog.indexes.tiles import index_tiles
from traindex.config import Settings
from traindex.fingerprint.keypoints import KeypointOptions
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint

__all__ = ["EDITS", "Edit", "build_release", "jpeg", "real_photos"]

CC3M = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"
SKIMAGE = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "retina", "camera")
Edit = Callable[[Image.Image, Image.Image, np.random.Generator], Image.Image]
"""(training photo, another photo for backgrounds, rng) -> simulated output."""


def real_photos(shared: Path) -> list[tuple[str, Image.Image]]:
    """Distinct real photos (scikit-image, scikit-learn, the CC3M sample), named."""
    photos = [(f"skimage-{n}", Image.fromarray(getattr(skdata, n)())) for n in SKIMAGE]
    import sklearn.datasets

    folder = Path(sklearn.datasets.__file__).parent / "images"
    photos += [(f"sklearn-{n}", Image.open(folder / f"{n}.jpg")) for n in ("china", "flower")]
    photos += [(p.stem, Image.open(p)) for p in sorted((shared / CC3M).glob("*.jpg"))]
    return [(name, image.convert("RGB")) for name, image in photos]


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def rerender(photo: Image.Image, other: Image.Image, rng: np.random.Generator) -> Image.Image:
    scale = float(rng.uniform(0.5, 1.6))
    return photo.resize((round(photo.width * scale), round(photo.height * scale)))


def colour_shift(photo: Image.Image, other: Image.Image, rng: np.random.Generator) -> Image.Image:
    warm = ImageEnhance.Color(photo).enhance(float(rng.uniform(0.3, 1.8)))
    return ImageEnhance.Brightness(warm).enhance(float(rng.uniform(0.85, 1.15)))


def _region(photo: Image.Image, rng: np.random.Generator, share: float) -> tuple[int, ...]:
    side_w, side_h = round(photo.width * share**0.5), round(photo.height * share**0.5)
    left = int(rng.integers(0, photo.width - side_w + 1))
    top = int(rng.integers(0, photo.height - side_h + 1))
    return left, top, side_w, side_h


def regen_noise(photo: Image.Image, other: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A fifth of the frame regenerated as unrelated (noise) content."""
    left, top, w, h = _region(photo, rng, 0.2)
    out = photo.copy()
    out.paste(Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)), (left, top))
    return out


def regen_photo(photo: Image.Image, other: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A fifth of the frame regenerated with content from another photo."""
    left, top, w, h = _region(photo, rng, 0.2)
    out = photo.copy()
    out.paste(other.resize((w, h)), (left, top))
    return out


def padded(photo: Image.Image, other: Image.Image, rng: np.random.Generator) -> Image.Image:
    """New uniform borders (a mat or letterbox)."""
    border = round(min(photo.size) * float(rng.uniform(0.04, 0.12)))
    return ImageOps.expand(photo, border=border, fill=(240, 236, 228))


def cut_borders(photo: Image.Image, other: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Borders cut away: the centre 80 % of the frame."""
    dx, dy = round(photo.width * 0.1), round(photo.height * 0.1)
    return photo.crop((dx, dy, photo.width - dx, photo.height - dy))


def outpainted(photo: Image.Image, other: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The photo in the middle of a wider canvas filled with new content (outpainting)."""
    canvas = other.resize((round(photo.width / 0.8), round(photo.height / 0.8)))
    canvas.paste(photo, ((canvas.width - photo.width) // 2, (canvas.height - photo.height) // 2))
    return canvas


def pasted_in_cell(photo: Image.Image, other: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The photo, shrunk, placed in one cell of a 3 x 3 layout on a new background."""
    canvas = other.resize((600, 600))
    row, col = (int(v) for v in rng.integers(0, 3, size=2))
    canvas.paste(photo.resize((200, 200)), (col * 200, row * 200))
    return canvas


def pasted_anywhere(
    photo: Image.Image, other: Image.Image, rng: np.random.Generator
) -> Image.Image:
    """The photo, shrunk to 30-70 % of the side, at a random place on a new background:
    the case PDQ cannot see unless the place happens to fall on a crop-grid window."""
    canvas = other.resize((600, 600))
    side = round(600 * float(rng.uniform(0.3, 0.7)))
    x, y = (int(v) for v in rng.integers(0, 600 - side + 1, size=2))
    canvas.paste(photo.resize((side, side)), (x, y))
    return canvas


def pasted_at(
    photo: Image.Image,
    canvas: Image.Image,
    *,
    scale: float,
    place: tuple[float, float],
    angle: float,
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """``photo`` resized so its longer side is ``scale`` of the canvas's shorter side,
    turned by ``angle`` degrees, pasted at ``place`` (0-1 of the free room in x and y);
    returns the output and the pasted picture's box (x, y, w, h) in it."""
    longer = round(min(canvas.size) * scale)
    ratio = longer / max(photo.size)
    small = photo.resize((max(1, round(photo.width * ratio)), max(1, round(photo.height * ratio))))
    turned = small.convert("RGBA").rotate(angle, Image.Resampling.BICUBIC, expand=True)
    x = round((canvas.width - turned.width) * place[0])
    y = round((canvas.height - turned.height) * place[1])
    out = canvas.convert("RGB")
    out.paste(turned, (x, y), turned)
    return out, (x, y, turned.width, turned.height)


def pasted_random(photo: Image.Image, other: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The photo at 30-90 % of the side, at a random place, turned up to 5 degrees, on a
    768 x 768 background: the generated-image case keypoints find (any place and scale).
    The drawn scale is kept in the output's ``info`` (the benchmark reports by scale)."""
    canvas = other.resize((768, 768))
    place = (float(rng.uniform()), float(rng.uniform()))
    scale, angle = float(rng.uniform(0.3, 0.9)), float(rng.uniform(-5, 5))
    out = pasted_at(photo, canvas, scale=scale, place=place, angle=angle)[0]
    out.info["scale"] = scale
    return out


def build_release(
    home: Path, folder: Path, photos: list[tuple[str, Image.Image]], *, keypoints: bool = False
) -> Settings:
    """Ingest ``photos`` as dataset ``train``, fingerprint them (with ``keypoints``, their
    ORB points too) and index their regions."""
    folder.mkdir(parents=True)
    rows = []
    for i, (name, image) in enumerate(photos):
        (folder / f"{1000 + i}.jpg").write_bytes(jpeg(image, 90))
        rows.append(
            {"URL": f"https://photos.example/{name}.jpg", "TEXT": name, "WIDTH": image.width,
             "HEIGHT": image.height, "hash": 1000 + i, "pwatermark": 0.9 if i % 3 == 0 else 0.1,
             "punsafe": 0.01}
        )  # fmt: skip
    meta = folder.parent / "meta"
    meta.mkdir()
    pq.write_table(pa.Table.from_pylist(rows), meta / "part-00000.parquet")
    settings = Settings(home=home)
    ingest(settings, meta, dataset="train", release="r1")
    points = KeypointOptions() if keypoints else None
    fingerprint(settings, "train", images=folder, workers=1, keypoints=points)
    index_tiles(settings, "train", images=folder)
    return settings


EDITS: dict[str, Edit] = {
    "rerender": rerender,
    "colour_shift": colour_shift,
    "regen_noise": regen_noise,
    "regen_photo": regen_photo,
    "padded": padded,
    "cut_borders": cut_borders,
    "outpainted": outpainted,
    "pasted_in_cell": pasted_in_cell,
    "pasted_anywhere": pasted_anywhere,
    "pasted_random": pasted_random,
}
