"""The photos, distractor tiles and AugLy edit families of ``bench/image_robustness.py``.

Originals: the 18 CC-BY-2.0 Flickr photos, the clip-retrieval and CC12M samples and two C2PA
sample photos under ``../shared/data``, plus scikit-image / scikit-learn photos. Distractor
tiles come from *other* photos (face_recognition's, large scikit-image images), so a hit on
one is a false positive. ``meme_format`` is broken in AugLy 1.0 with Pillow >= 10
(``FreeTypeFont.getsize_multiline`` is gone) and is rebuilt here with Pillow.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import augly.image as imaugs
import augly.utils
import numpy as np
import skimage.data
import sklearn.datasets
from PIL import Image, ImageDraw, ImageFont

from traindex.fingerprint.pdq import PdqFingerprinter

__all__ = ["FAMILIES", "Family", "encode", "originals", "unique_tiles"]

SHARED = Path(
    os.environ.get("TRAINDEX_SHARED_DATA")
    or Path(__file__).resolve().parent.parent.parent / "shared" / "data"
)
FLICKR = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"
ORIGINAL_FILES = (
    f"{FLICKR}/*.jpg",
    "clip-retrieval/tests/test_clip_inference/test_images/*.jpg",
    "conceptual-12m/images/*.jpg",
    "optout-signals/images/c2pa-python_A.jpg",
    "optout-signals/images/c2pa-python_cloud.jpg",
)
ORIGINAL_SKIMAGE = ("astronaut", "coffee", "chelsea", "rocket", "camera")
TILE_FILES = ("face_recognition/**/*.jpg",)
TILE_SKIMAGE = ("hubble_deep_field", "retina", "immunohistochemistry", "brick", "grass", "moon")


HASHER = PdqFingerprinter()

Edit = Callable[[Image.Image, np.random.Generator], Image.Image]


@dataclass(frozen=True)
class Family:
    name: str
    tier: str  # "mild" (target recall >= 0.97), "hard" (>= 0.80), "info" (not in the totals)
    edits: tuple[tuple[str, Edit], ...]


def _rgb(array: np.ndarray) -> Image.Image:
    image = Image.fromarray(array)
    return image.convert("RGB")


def _shared(patterns: Iterable[str]) -> list[tuple[str, Image.Image]]:
    found = []
    for pattern in patterns:
        for path in sorted(SHARED.glob(pattern)):
            with Image.open(path) as image:
                found.append((str(path.relative_to(SHARED)), image.convert("RGB")))
    return found


def originals() -> list[tuple[str, Image.Image]]:
    """The photographer's photos: distinct real photos, none of them a crop of another."""
    photos = _shared(ORIGINAL_FILES)
    photos += [(f"skimage:{n}", _rgb(getattr(skimage.data, n)())) for n in ORIGINAL_SKIMAGE]
    folder = Path(sklearn.datasets.__file__).parent / "images"
    for name in ("china", "flower"):
        with Image.open(folder / f"{name}.jpg") as image:
            photos.append((f"sklearn:{name}", image.convert("RGB")))
    return photos


def tiles(side: int) -> list[tuple[str, Image.Image]]:
    """Non-overlapping ``side``-px tiles of other photos: real content, never an original."""
    sources = _shared(TILE_FILES)
    sources += [(f"skimage:{n}", _rgb(getattr(skimage.data, n)())) for n in TILE_SKIMAGE]
    out = []
    for name, photo in sources:
        for top in range(0, photo.height - side + 1, side):
            for left in range(0, photo.width - side + 1, side):
                tile = photo.crop((left, top, left + side, top + side))
                out.append((f"{name}@{left},{top}", tile))
    return out


def _crop(keep: float) -> Edit:
    def edit(im: Image.Image, rng: np.random.Generator) -> Image.Image:
        x, y = rng.uniform(0, 1 - keep, 2)
        return imaugs.crop(im, x1=x, y1=y, x2=x + keep, y2=y + keep)

    return edit


def meme(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """AugLy's ``meme_format`` (white band, black "LOL" in its meme font, text fitted to the
    band), rebuilt on Pillow >= 10 APIs; the band is a quarter of the height (AugLy: 250 px)."""
    band = max(40, im.height // 4)
    size = band - 10
    while True:
        font = ImageFont.truetype(augly.utils.MEME_DEFAULT_FONT, size)
        left, top, right, bottom = font.getbbox("LOL")
        if right - left <= im.width - 10 and bottom - top <= band - 10:
            break
        size -= 5
    canvas = Image.new("RGB", (im.width, im.height + band), (255, 255, 255))
    canvas.paste(im, (0, band))
    position = (round((im.width - (right - left)) / 2), round((band - (bottom - top)) / 2) - top)
    ImageDraw.Draw(canvas).text(position, "LOL", font=font, fill=(0, 0, 0))
    return canvas


def _logo(im: Image.Image, rng: np.random.Generator, size: float) -> Image.Image:
    logo = Image.fromarray(skimage.data.logo())  # RGBA, real transparency
    side = max(8, round(min(im.size) * size))
    logo = logo.resize((side, side))
    x, y = (int(v) for v in rng.integers(0, [im.width - side + 1, im.height - side + 1]))
    out = im.copy()
    out.paste(logo, (x, y), logo)
    return out


def _jitter(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    b, c, s = rng.uniform([0.7, 0.7, 0.5], [1.3, 1.3, 1.5])
    return imaugs.color_jitter(im, brightness_factor=b, contrast_factor=c, saturation_factor=s)


def _text(size: float) -> Edit:
    def edit(im: Image.Image, rng: np.random.Generator) -> Image.Image:
        glyphs = [int(g) for g in rng.integers(0, 100, 12)]
        return imaugs.overlay_text(im, text=glyphs, font_size=size, y_pos=rng.uniform(0.1, 0.7))

    return edit


def _emoji(size: float) -> Edit:
    def edit(im: Image.Image, rng: np.random.Generator) -> Image.Image:
        x, y = rng.uniform(0, 1 - size, 2)
        return imaugs.overlay_emoji(im, emoji_size=size, x_pos=x, y_pos=y)

    return edit


def _fixed(function: Callable[[Image.Image], Image.Image]) -> Edit:
    return lambda im, rng: function(im)


FAMILIES: tuple[Family, ...] = (
    Family("resize 0.25-2x", "mild", tuple(
        (f"scale {f:g}", _fixed(lambda im, f=f: imaugs.scale(im, factor=f)))
        for f in (0.25, 0.5, 0.75, 1.5, 2.0))),
    Family("JPEG q10-90", "mild", tuple(
        (f"q{q}", _fixed(lambda im, q=q: imaugs.encoding_quality(im, quality=q)))
        for q in (10, 30, 50, 70, 90))),
    Family("crop keep 90%", "mild", tuple((f"random {i}", _crop(0.9)) for i in range(3))),
    Family("pad / frame", "mild", (
        ("pad 10% black", _fixed(lambda im: imaugs.pad(im, w_factor=0.1, h_factor=0.1))),
        ("pad 25% white", _fixed(lambda im: imaugs.pad(im, color=(255, 255, 255)))),
        ("pad to square", _fixed(imaugs.pad_square)),
        ("frame 5% grey", _fixed(lambda im: imaugs.pad(
            im, w_factor=0.05, h_factor=0.05, color=(128, 128, 128))))),
    ),
    Family("flip", "mild", (("hflip", _fixed(imaugs.hflip)), ("vflip", _fixed(imaugs.vflip)))),
    Family("grayscale", "mild", (("grayscale", _fixed(imaugs.grayscale)),)),
    Family("colour jitter", "mild", tuple((f"random {i}", _jitter) for i in range(3))),
    Family("blur", "mild", tuple(
        (f"radius {r}", _fixed(lambda im, r=r: imaugs.blur(im, radius=r))) for r in (1, 2, 3))),
    Family("sharpen", "mild", tuple(
        (f"factor {f}", _fixed(lambda im, f=f: imaugs.sharpen(im, factor=f))) for f in (2, 4))),
    Family("overlay text, small", "mild", (("12 glyphs 10%", _text(0.1)),) * 2),
    Family("overlay emoji/logo, small", "mild", (
        ("emoji 15%", _emoji(0.15)), ("logo 15%", lambda im, rng: _logo(im, rng, 0.15)))),
    Family("crop keep 70%", "hard", tuple((f"random {i}", _crop(0.7)) for i in range(3))),
    Family("crop keep 50%", "hard", tuple((f"random {i}", _crop(0.5)) for i in range(3))),
    Family("crop keep 90/70/50%, centred (on the grid; not in ALL)", "info", tuple(
        (f"{k:g}", _fixed(lambda im, k=k: imaugs.crop(
            im, x1=(1 - k) / 2, y1=(1 - k) / 2, x2=(1 + k) / 2, y2=(1 + k) / 2)))
        for k in (0.9, 0.7, 0.5))),
    Family("rotate +-5 deg", "hard", tuple(
        (f"{d:+d} deg", _fixed(lambda im, d=d: imaugs.rotate(im, degrees=d))) for d in (5, -5))),
    Family("rotate +-2.5/6.5 deg, between grid angles (not in ALL)", "info", tuple(
        (f"{d:+g} deg", _fixed(lambda im, d=d: imaugs.rotate(im, degrees=d)))
        for d in (2.5, -2.5, 6.5, -6.5))),
    Family("rotate 90 deg", "hard", (
        ("90", _fixed(lambda im: im.transpose(Image.Transpose.ROTATE_90))),
        ("270", _fixed(lambda im: im.transpose(Image.Transpose.ROTATE_270))))),
    Family("overlay text/emoji/logo, large", "hard", (
        ("text 25%", _text(0.25)), ("emoji 40%", _emoji(0.4)),
        ("logo 40%", lambda im, rng: _logo(im, rng, 0.4)))),
    Family("meme format (Pillow re-implementation)", "hard", (("LOL band", meme),)),
    Family("screenshot-like border", "hard", (
        ("overlay_onto_screenshot", _fixed(imaugs.overlay_onto_screenshot)),)),
)  # fmt: skip


def encode(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def unique_tiles(side: int) -> list[tuple[str, Image.Image]]:
    """Tiles with enough structure for PDQ (quality >= 50), one per distinct PDQ hash."""
    seen: set[bytes] = set()
    kept = []
    for name, tile in tiles(side):
        fp = HASHER.hash_image(tile)
        if not fp.low_quality and fp.digest not in seen:
            seen.add(fp.digest)
            kept.append((name, tile))
    return kept
