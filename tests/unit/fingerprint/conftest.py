"""Real photographs that ship inside installed wheels (scikit-image, scikit-learn)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
import skimage.data
import sklearn.datasets
from PIL import Image

SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
SKLEARN_DIR = Path(sklearn.datasets.__file__).parent / "images"


def load_photos() -> dict[str, Image.Image]:
    """Six real colour photos as RGB Pillow images, keyed by a short name."""
    photos = {
        name: Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
        for name in SKIMAGE_PHOTOS
    }
    for name in ("china", "flower"):
        with Image.open(SKLEARN_DIR / f"{name}.jpg") as image:
            photos[name] = image.convert("RGB")
    return photos


def encode_image(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    """Encode ``image`` in memory, as a dataset would store it."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


Encoder = Callable[..., bytes]


@pytest.fixture(scope="session")
def encode() -> Encoder:
    """``encode(image, fmt="JPEG", **save_params) -> bytes``."""
    return encode_image


@pytest.fixture(scope="session")
def photos() -> dict[str, Image.Image]:
    return load_photos()


@pytest.fixture(scope="session")
def astronaut(photos: dict[str, Image.Image]) -> Image.Image:
    return photos["astronaut"]
