"""PDQ perceptual hashes (Meta's 256-bit photo hash) computed through one canonical pipeline.

Pipeline: safe decode straight to luma with JPEG draft scaling (:func:`decode_image` with
``min_side=side, grayscale=True``), a box-filtered resize to ``side x side`` (default 64),
then ``pdqhash``. PDQ itself reduces
every image to a 64 x 64 luminance summary before its DCT, so feeding it 64 x 64 loses
nothing it would use; the fixed resize makes the hash independent of the resolution the
copy happens to have (measured on the shipped photos: resize 0.25-2x plus JPEG q30-q70
stays within 16 bits, against 28 bits when hashing full-size pixels) and makes hashing
cheaper than a plain full decode. The hash is therefore *traindex's* PDQ: compare it with
hashes made by this pipeline. Against reference PDQ (``pdqhash`` on full-resolution pixels,
what ThreatExchange-style hash lists hold) ``bench/pdq_interop.py`` measured, over the 106
photos in the shared data: median 14 bits, 90th percentile 30, and 93 of the 96 photos with a
usable reference hash (quality >= 50) within the 31-bit match radius (worst 34); hashes of
low-quality images (flat or tiny, quality < 50, which PDQ itself says not to match) are 84-120
bits apart. So an external reference hash finds traindex's hash of the same photo in ~97% of
usable cases at radius 31; docs/signals.md has the table.

Bit order is ThreatExchange's: the 256 bits of ``pdqhash.compute`` packed MSB first, so
``Fingerprint.hex`` is the usual 64-character PDQ hex.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pdqhash
from numpy.typing import NDArray
from PIL import Image

from traindex.fingerprint.base import Fingerprint, Fingerprinter
from traindex.fingerprint.images import DEFAULT_MAX_PIXELS, decode_image, to_rgb

__all__ = [
    "DEFAULT_HASH_SIDE",
    "DIHEDRAL_NAMES",
    "PdqFingerprinter",
    "canonical_pixels",
    "hamming",
    "pack_bits",
]

DEFAULT_HASH_SIDE = 64
DIHEDRAL_NAMES = (
    "original",
    "rot90",
    "rot180",
    "rot270",
    "flip_v",
    "flip_h",
    "transpose",
    "transverse",
)
"""Names of ``pdqhash.compute_dihedral``'s 8 outputs, in its order. Hash *k* is the hash of
the image after that transform (rotations counter-clockwise, as Pillow's ``ROTATE_90``;
``flip_v`` mirrors top-bottom, ``flip_h`` left-right), i.e. what a copy edited that way has."""


def canonical_pixels(image: Image.Image, side: int = DEFAULT_HASH_SIDE) -> NDArray[np.uint8]:
    """The exact pixels PDQ hashes: luma, box-resized to ``side x side``, as 3 equal channels.

    PDQ only uses luminance. Converting to luma first makes an RGB decode and a JPEG decoded
    straight to its Y channel (the fast path of :meth:`PdqFingerprinter.fingerprint`) hash
    alike, and makes the resize a third of the work.
    """
    if image.mode in ("RGB", "L"):
        luma = image.convert("L") if image.mode == "RGB" else image
    else:
        luma = to_rgb(image).convert("L")
    if luma.size != (side, side):
        luma = luma.resize((side, side), Image.Resampling.BOX)
    plane = np.asarray(luma, dtype=np.uint8)
    return np.ascontiguousarray(np.repeat(plane[:, :, None], 3, axis=2))


def pack_bits(bits: NDArray[np.integer]) -> bytes:
    """``pdqhash``'s 256 0/1 values to 32 bytes, most significant bit first."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


def hamming(a: bytes | Fingerprint, b: bytes | Fingerprint) -> int:
    """Number of differing bits between two equal-length digests."""
    left = a.digest if isinstance(a, Fingerprint) else a
    right = b.digest if isinstance(b, Fingerprint) else b
    if len(left) != len(right):
        raise ValueError(f"digests differ in length: {len(left)} != {len(right)} bytes")
    x = np.frombuffer(left, dtype=np.uint8) ^ np.frombuffer(right, dtype=np.uint8)
    return int(np.bitwise_count(x).sum())


class PdqFingerprinter(Fingerprinter[Fingerprint]):
    """PDQ hash + quality of an image file, through the canonical pipeline above.

    ``side`` is the canonical resize (dataset and query side must use the same value);
    ``max_pixels`` is the decompression-bomb limit passed to the decoder.
    """

    kind: ClassVar[str] = "pdq"

    def __init__(
        self, *, side: int = DEFAULT_HASH_SIDE, max_pixels: int = DEFAULT_MAX_PIXELS
    ) -> None:
        if side < 16:
            raise ValueError(f"side must be at least 16 pixels, got {side}")
        self.side = side
        self.max_pixels = max_pixels

    def fingerprint(self, data: bytes, *, name: str | None = None) -> Fingerprint:
        """Decode ``data`` (no more pixels than needed) and hash it."""
        decoded = decode_image(
            data, name=name, max_pixels=self.max_pixels, min_side=self.side, grayscale=True
        )
        return self.hash_image(decoded.image)

    def hash_image(self, image: Image.Image, variant: str = "original") -> Fingerprint:
        """PDQ of an already decoded image (e.g. a query-side crop), labelled ``variant``."""
        bits, quality = pdqhash.compute(canonical_pixels(image, self.side))
        return Fingerprint(
            kind=self.kind, digest=pack_bits(bits), quality=int(quality), variant=variant
        )

    def hash_dihedral(self, image: Image.Image) -> list[Fingerprint]:
        """The 8 flips/quarter-turns of ``image`` in one pass (PDQ shares the DCT between them)."""
        hashes, quality = pdqhash.compute_dihedral(canonical_pixels(image, self.side))
        return [
            Fingerprint(kind=self.kind, digest=pack_bits(bits), quality=int(quality), variant=name)
            for name, bits in zip(DIHEDRAL_NAMES, hashes, strict=True)
        ]
