"""Border trimming, which both the dataset side and the query side apply: plain pads and
frames, caption bands (memes), and pictures whose own edge looks like the border."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
from PIL import Image, ImageDraw, ImageFont, ImageOps

from traindex.fingerprint.pdq import PdqFingerprinter, hamming
from traindex.fingerprint.variants import trim_uniform_border

HASHER = PdqFingerprinter()


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.fromarray(skimage.data.astronaut()).convert("RGB")


def meme(image: Image.Image, band: int = 128) -> Image.Image:
    """A white caption band with big black text above the picture (gaps >= 16 px)."""
    canvas = Image.new("RGB", (image.width, image.height + band), (255, 255, 255))
    canvas.paste(image, (0, band))
    font = ImageFont.load_default(size=band - 40)
    ImageDraw.Draw(canvas).text(
        (image.width // 2, band // 2), "LOL", font=font, fill=0, anchor="mm"
    )
    return canvas


def test_caption_band_is_trimmed_with_its_text(photo: Image.Image) -> None:
    captioned = meme(photo)
    trimmed = trim_uniform_border(captioned)
    assert trimmed is not None
    assert abs(trimmed.height - photo.height) <= 2
    assert trimmed.width == photo.width
    assert hamming(HASHER.hash_image(trimmed), HASHER.hash_image(photo)) <= 10
    plain = trim_uniform_border(captioned, majority=1.0)  # plain borders only: stops at text
    assert plain is not None
    assert plain.height > photo.height + 16


def test_padding_stops_where_a_white_sky_begins(photo: Image.Image) -> None:
    """A white pad above a nearly white (noisy) sky is trimmed, the sky is kept, even though
    the sky holds a perfectly white row of its own."""
    rng = np.random.default_rng(0)
    pixels = np.asarray(photo).copy()
    grey = rng.integers(230, 256, (60, pixels.shape[1], 1))  # ~65 % within 16 of white
    pixels[:60] = np.repeat(grey, 3, axis=2)
    pixels[30] = 255  # a clean white row inside the picture
    picture = Image.fromarray(pixels)
    padded = ImageOps.expand(picture, (0, 40, 0, 0), fill=(255, 255, 255))
    trimmed = trim_uniform_border(padded)
    assert trimmed is not None
    assert trimmed.size == picture.size


def test_padding_and_frames_are_undone(photo: Image.Image) -> None:
    for edited in (
        ImageOps.expand(photo, (30, 10, 30, 50), fill=(0, 0, 0)),
        ImageOps.expand(photo, 24, fill=(128, 128, 128)),
    ):
        trimmed = trim_uniform_border(edited)
        assert trimmed is not None
        assert trimmed.size == photo.size


def test_a_caption_wider_than_half_the_picture_is_crossed(photo: Image.Image) -> None:
    """On a narrow picture the caption's text covers most of its rows; lines still 35 %
    border-coloured count as the band (AugLy memes of portrait photos)."""
    narrow = photo.crop((0, 0, 220, 512))
    captioned = meme(narrow)
    trimmed = trim_uniform_border(captioned)
    assert trimmed is not None
    assert abs(trimmed.height - narrow.height) <= 2
    stopped = trim_uniform_border(captioned, majority=0.5)
    assert stopped is None or stopped.height > narrow.height + 16


def test_no_border_no_trim(photo: Image.Image) -> None:
    assert trim_uniform_border(photo) is None
    assert trim_uniform_border(Image.new("RGB", (80, 60), (255, 255, 255))) is None
