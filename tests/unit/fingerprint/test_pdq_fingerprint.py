"""PDQ through traindex's canonical pipeline, on real photos and edited copies of them."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image

from traindex.fingerprint.base import MIN_PDQ_QUALITY, PDQ_MATCH_RADIUS, Fingerprint
from traindex.fingerprint.images import ImageDecodeError, decode_image
from traindex.fingerprint.pdq import (
    DIHEDRAL_NAMES,
    PdqFingerprinter,
    canonical_pixels,
    hamming,
    pack_bits,
)

Encoder = Callable[..., bytes]
HASHER = PdqFingerprinter()


def _resized(image: Image.Image, scale: float) -> Image.Image:
    size = (max(16, round(image.width * scale)), max(16, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def test_hash_is_256_bits_with_quality(astronaut: Image.Image, encode: Encoder) -> None:
    fingerprint = HASHER.fingerprint(encode(astronaut))
    assert fingerprint.kind == "pdq"
    assert len(fingerprint.digest) == 32
    assert len(fingerprint.hex) == 64
    assert fingerprint.quality is not None
    assert fingerprint.quality >= MIN_PDQ_QUALITY
    assert not fingerprint.low_quality


def test_bit_order_is_pdqhash_msb_first(astronaut: Image.Image) -> None:
    bits, _ = pdqhash.compute(canonical_pixels(astronaut))
    digest = HASHER.hash_image(astronaut).digest
    assert int.from_bytes(digest, "big") == int("".join(str(int(b)) for b in bits), 2)
    assert pack_bits(np.unpackbits(np.frombuffer(digest, np.uint8))) == digest


@pytest.mark.parametrize("scale", [0.25, 0.5, 0.75, 1.5, 2.0])
@pytest.mark.parametrize("quality", [30, 60, 90])
def test_resized_recompressed_copies_stay_within_threshold(
    photos: dict[str, Image.Image], encode: Encoder, scale: float, quality: int
) -> None:
    for name, photo in photos.items():
        original = HASHER.fingerprint(encode(photo, quality=95))
        copy = HASHER.fingerprint(encode(_resized(photo, scale), quality=quality))
        assert hamming(original, copy) <= PDQ_MATCH_RADIUS, name


def test_png_and_webp_copies_match_the_jpeg(
    photos: dict[str, Image.Image], encode: Encoder
) -> None:
    for photo in photos.values():
        reference = HASHER.fingerprint(encode(photo, quality=95))
        for fmt in ("PNG", "WEBP"):
            assert hamming(reference, HASHER.fingerprint(encode(photo, fmt))) <= 16


def test_different_photos_are_far_apart(photos: dict[str, Image.Image], encode: Encoder) -> None:
    hashes = {name: HASHER.fingerprint(encode(photo)) for name, photo in photos.items()}
    for (a, ha), (b, hb) in itertools.combinations(hashes.items(), 2):
        assert hamming(ha, hb) > 3 * PDQ_MATCH_RADIUS, (a, b)


def test_flat_images_are_low_quality(encode: Encoder) -> None:
    flat = Image.new("RGB", (300, 200), (120, 130, 140))
    fingerprint = HASHER.fingerprint(encode(flat, "PNG"))
    assert fingerprint.quality is not None
    assert fingerprint.quality < MIN_PDQ_QUALITY
    assert fingerprint.low_quality


def test_dihedral_hashes_equal_hashes_of_transformed_images(astronaut: Image.Image) -> None:
    square = astronaut.resize((64, 64), Image.Resampling.BOX)
    dihedral = {fp.variant: fp for fp in HASHER.hash_dihedral(square)}
    assert tuple(dihedral) == DIHEDRAL_NAMES
    transforms = {
        "rot90": Image.Transpose.ROTATE_90,
        "rot180": Image.Transpose.ROTATE_180,
        "rot270": Image.Transpose.ROTATE_270,
        "flip_v": Image.Transpose.FLIP_TOP_BOTTOM,
        "flip_h": Image.Transpose.FLIP_LEFT_RIGHT,
        "transpose": Image.Transpose.TRANSPOSE,
        "transverse": Image.Transpose.TRANSVERSE,
    }
    assert dihedral["original"].digest == HASHER.hash_image(square).digest
    for name, transform in transforms.items():
        assert dihedral[name].digest == HASHER.hash_image(square.transpose(transform)).digest, name


def test_decode_errors_propagate_with_the_name() -> None:
    with pytest.raises(ImageDecodeError) as info:
        HASHER.fingerprint(b"<html></html>", name="x.jpg")
    assert info.value.path == "x.jpg"


def test_hamming_checks_lengths() -> None:
    assert hamming(b"\x00\xff", b"\x01\xff") == 1
    with pytest.raises(ValueError, match="length"):
        hamming(b"\x00", Fingerprint("pdq", b"\x00\x00"))


def test_side_is_validated() -> None:
    with pytest.raises(ValueError, match="side"):
        PdqFingerprinter(side=8)


@pytest.mark.shared
def test_shared_photos_survive_resize_and_recompression(shared_data: Path) -> None:
    files = sorted((shared_data / "_generated").glob("img2dataset-*/files/*/*.jpg"))
    assert len(files) >= 10
    hashes = []
    for path in files:
        original = HASHER.fingerprint(path.read_bytes(), name=str(path))
        with Image.open(path) as image:
            half = _resized(image.convert("RGB"), 0.5)
        buffer = io.BytesIO()
        half.save(buffer, "JPEG", quality=50)
        assert hamming(original, HASHER.fingerprint(buffer.getvalue())) <= PDQ_MATCH_RADIUS, path
        hashes.append(original)
    for a, b in itertools.combinations(hashes, 2):
        assert hamming(a, b) > PDQ_MATCH_RADIUS


def test_fast_luma_path_hashes_like_an_rgb_decode(
    photos: dict[str, Image.Image], encode: Encoder
) -> None:
    for name, photo in photos.items():
        data = encode(photo, quality=90)
        rgb = decode_image(data).image
        assert rgb.mode == "RGB"
        assert hamming(HASHER.fingerprint(data), HASHER.hash_image(rgb)) <= 12, name
