"""ISO 24138 (ISCC) Image-Codes: the content-bound identifier opt-out declarations name.

A TDM·AI-style declaration binds a reservation to an ISCC, not to a URL, so it survives
re-hosting and metadata stripping. To match such a declaration against dataset images,
traindex computes each image's ISCC Content-Code (subtype Image, 64 bits) with the
reference implementation (``iscc-core``) after the normalisation ``iscc-sdk`` applies
before it (``iscc_sdk.image.image_normalize``): EXIF orientation, transparency on white,
uniform border trimmed (the top-left pixel is the border colour), luma, 32 x 32 bicubic.
Decoding goes through :func:`traindex.fingerprint.images.decode_image` (bomb limits,
typed errors), at full size: ``iscc-sdk`` decodes at full size, and a declaration's code
was computed that way, so a JPEG draft decode would move codes for no gain.

Codes are compared by the Hamming distance of their 64-bit bodies, as ``iscc-core``'s own
``iscc_distance`` does; ``DEFAULT_ISCC_RADIUS`` was chosen by ``bench/iscc_vs_pdq.py``.
"""

from __future__ import annotations

from typing import ClassVar

import iscc_core
import numpy as np
from PIL import Image, ImageChops

from traindex.errors import InputError
from traindex.fingerprint.base import Fingerprinter
from traindex.fingerprint.images import DEFAULT_MAX_PIXELS, decode_image

__all__ = [
    "DEFAULT_ISCC_RADIUS",
    "ISCC_BITS",
    "IsccFingerprinter",
    "image_code",
    "image_code_body",
    "image_code_of_pixels",
    "iscc_distance",
    "iscc_from_body",
]

ISCC_BITS = 64
DEFAULT_ISCC_RADIUS = 8
"""Hamming radius over the 64-bit body: measured copies (resize, JPEG) lie at <= 2 bits,
the closest unrelated pair at 16 (``bench/iscc_vs_pdq.py``); 8 is 1/8 of the bits, as
PDQ's 31 is of 256."""


def _trim_border(image: Image.Image) -> Image.Image:
    """``iscc-sdk``'s border trim: crop to the box that differs from the top-left pixel."""
    background = Image.new(image.mode, image.size, image.getpixel((0, 0)))
    diff = ImageChops.difference(image, background)
    box = ImageChops.add(diff, diff).getbbox()
    if box is None or box == (0, 0, *image.size):
        return image
    return image.crop(box)


def image_code_of_pixels(image: Image.Image) -> str:
    """The ISCC Image-Code (``ISCC:EE...``, 64 bits) of a decoded RGB image."""
    small = _trim_border(image).convert("L").resize((32, 32), Image.Resampling.BICUBIC)
    pixels = np.asarray(small, dtype=np.uint8).ravel().tolist()
    result = iscc_core.gen_image_code_v0(pixels, bits=ISCC_BITS)
    return str(result["iscc"])


def image_code(
    data: bytes, *, name: str | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> str:
    """The ISCC Image-Code of an image file's bytes; raises the decoder's ``InputError``."""
    return image_code_of_pixels(decode_image(data, name=name, max_pixels=max_pixels).image)


class IsccFingerprinter(Fingerprinter[str]):
    """The ISCC Image-Code (``ISCC:EE...``) of an image file, with a fixed decoder limit."""

    kind: ClassVar[str] = "iscc-image"

    def __init__(self, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.max_pixels = max_pixels

    def fingerprint(self, data: bytes, *, name: str | None = None) -> str:
        """As :func:`image_code`; raises the decoder's ``InputError``."""
        return image_code(data, name=name, max_pixels=self.max_pixels)


def image_code_body(code: str) -> str:
    """The 64-bit body (16 hex) of the Image-Code unit in ``code``: a single Image-Code
    unit or a composite ISCC-CODE that contains one. Raises ``InputError`` otherwise."""
    text = code.strip()
    try:
        # a unit's type is decoded lazily: an unknown type raises from .subtype (KeyError)
        images = [
            unit
            for unit in map(iscc_core.Code, iscc_core.iscc_decompose(text))
            if unit.maintype == iscc_core.MT.CONTENT and unit.subtype == iscc_core.ST_CC.IMAGE
        ]
    except (ValueError, TypeError, KeyError) as exc:  # binascii.Error is a ValueError
        raise InputError(f"not a valid ISCC code {text[:80]!r}: {exc}") from None
    if images:
        return str(images[0].hash_hex)[: ISCC_BITS // 4]
    raise InputError(f"ISCC {text[:80]!r} has no Image-Code unit (content code of an image)")


def iscc_from_body(body: str) -> str:
    """The canonical ``ISCC:EE...`` Image-Code of a 16-hex body (for export)."""
    unit = iscc_core.encode_component(
        iscc_core.MT.CONTENT, iscc_core.ST_CC.IMAGE, iscc_core.VS.V0, ISCC_BITS, bytes.fromhex(body)
    )
    return f"ISCC:{unit}"


def iscc_distance(a: str, b: str) -> int:
    """Hamming distance of two 16-hex bodies."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
