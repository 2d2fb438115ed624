"""Safe decoding of every odd image type a crawl produces, made from real photos."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, features

from traindex.errors import InputError
from traindex.fingerprint.images import (
    DecodedImage,
    ImageDecodeError,
    ImageTooLargeError,
    decode_image,
    heif_supported,
    to_rgb,
)
from traindex.fingerprint.pdq import PdqFingerprinter, hamming

Encoder = Callable[..., bytes]


def _mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    left = np.asarray(a.convert("RGB"), dtype=np.int16)
    right = np.asarray(b.convert("RGB").resize(a.size), dtype=np.int16)
    return float(np.abs(left - right).mean())


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header claiming ``width x height`` RGB pixels, with a tiny IDAT."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def test_plain_jpeg_decodes_to_rgb_with_header_size(
    astronaut: Image.Image, encode: Encoder
) -> None:
    decoded = decode_image(encode(astronaut, quality=95), name="a.jpg")
    assert isinstance(decoded, DecodedImage)
    assert decoded.image.mode == "RGB"
    assert decoded.source_size == astronaut.size
    assert decoded.format == "JPEG"
    assert _mean_abs_diff(astronaut, decoded.image) < 4


def test_cmyk_jpeg_keeps_the_colours(astronaut: Image.Image, encode: Encoder) -> None:
    data = encode(astronaut.convert("CMYK"), quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    decoded = decode_image(data)
    assert decoded.image.mode == "RGB"
    assert _mean_abs_diff(astronaut, decoded.image) < 6


def test_palette_png_with_transparency_is_composited_on_white(
    astronaut: Image.Image, encode: Encoder
) -> None:
    palette = astronaut.quantize(colors=64)
    palette.info["transparency"] = 0
    decoded = decode_image(encode(palette, "PNG", transparency=0)).image
    indices = np.asarray(palette)
    pixels = np.asarray(decoded)
    assert (pixels[indices == 0] == 255).all()
    assert _mean_abs_diff(palette.convert("RGB"), decoded) < 8


def test_sixteen_bit_grayscale_png_is_scaled_not_clipped(
    photos: dict[str, Image.Image], encode: Encoder
) -> None:
    gray = np.asarray(photos["coffee"].convert("L"), dtype=np.uint16)
    sixteen = Image.fromarray(gray * 257)
    data = encode(sixteen, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    decoded = np.asarray(decode_image(data).image)[:, :, 0].astype(np.int16)
    assert np.abs(decoded - gray.astype(np.int16)).max() <= 1


def test_rgba_alpha_becomes_white(astronaut: Image.Image, encode: Encoder) -> None:
    rgba = astronaut.convert("RGBA")
    alpha = np.full(astronaut.size[::-1], 255, dtype=np.uint8)
    alpha[:, : astronaut.width // 2] = 0
    rgba.putalpha(Image.fromarray(alpha))
    pixels = np.asarray(decode_image(encode(rgba, "PNG")).image)
    assert (pixels[:, : astronaut.width // 2] == 255).all()
    assert (
        pixels[:, astronaut.width // 2 :] == np.asarray(astronaut)[:, astronaut.width // 2 :]
    ).all()


def test_grayscale_and_mode_conversions(astronaut: Image.Image) -> None:
    for mode in ("L", "1", "LA", "I", "F"):
        converted = to_rgb(astronaut.convert(mode))
        assert converted.mode == "RGB"
        assert converted.size == astronaut.size


def test_exif_orientation_is_applied(photos: dict[str, Image.Image], encode: Encoder) -> None:
    china = photos["china"]
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: a viewer rotates 90 degrees clockwise
    data = encode(china, quality=95, exif=exif.tobytes())
    decoded = decode_image(data)
    assert decoded.image.size == (china.height, china.width)
    assert decoded.source_size == (china.height, china.width)
    hasher = PdqFingerprinter()
    upright = hasher.hash_image(china.transpose(Image.Transpose.ROTATE_270))
    assert hamming(hasher.hash_image(decoded.image), upright) <= 10


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animated_images_give_their_first_frame(
    photos: dict[str, Image.Image], fmt: str, encode: Encoder
) -> None:
    first, second = photos["chelsea"], photos["coffee"].resize(photos["chelsea"].size)
    data = encode(first, fmt, save_all=True, append_images=[second], duration=100, loop=0)
    decoded = decode_image(data).image
    assert _mean_abs_diff(first, decoded) < _mean_abs_diff(second, decoded) / 2


def test_truncated_jpeg_raises_naming_the_source(astronaut: Image.Image, encode: Encoder) -> None:
    data = encode(astronaut, quality=90)
    with pytest.raises(ImageDecodeError, match="truncated") as info:
        decode_image(data[: len(data) // 2], name="photos/cut.jpg")
    assert info.value.path == "photos/cut.jpg"
    assert "photos/cut.jpg" in str(info.value)


def test_truncated_jpeg_raises_even_when_pillow_was_told_to_allow_it(
    astronaut: Image.Image, encode: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as WeasyPrint's import does
    data = encode(astronaut, quality=90)
    with pytest.raises(ImageDecodeError, match="truncated"):
        decode_image(data[: len(data) // 2], name="photos/cut.jpg")


def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageDecodeError, match="empty") as info:
        decode_image(empty)
    assert isinstance(info.value, InputError)
    assert info.value.path == str(empty)


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html><body>404 not found</body></html>",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',
    ],
)
def test_markup_renamed_to_jpg(tmp_path: Path, content: bytes) -> None:
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(content)
    with pytest.raises(ImageDecodeError, match="markup") as info:
        decode_image(fake)
    assert info.value.path == str(fake)


def test_random_bytes_are_not_an_image() -> None:
    noise = np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(ImageDecodeError, match="not an image"):
        decode_image(noise, name="noise.bin")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(ImageDecodeError, match="cannot read"):
        decode_image(tmp_path / "nope.jpg")


def test_a_directory_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(ImageDecodeError, match="cannot read") as info:
        decode_image(tmp_path)
    assert info.value.path == str(tmp_path)


def test_png_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(bomb_png(50_000, 50_000))
    assert bomb.stat().st_size < 200
    with pytest.raises(ImageTooLargeError) as info:
        decode_image(bomb)
    assert info.value.path == str(bomb)
    assert isinstance(info.value, ImageDecodeError)


def test_pixel_limit_is_configurable(astronaut: Image.Image, encode: Encoder) -> None:
    data = encode(astronaut, "PNG")
    with pytest.raises(ImageTooLargeError, match=r"512 x 512 = 0\.3 megapixels, .* 0\.1 mega"):
        decode_image(data, max_pixels=100_000)
    assert decode_image(data, max_pixels=512 * 512).image.size == (512, 512)


def test_draft_mode_decodes_fewer_pixels_but_enough(
    photos: dict[str, Image.Image], encode: Encoder
) -> None:
    big = photos["china"].resize((2048, 1366))
    decoded = decode_image(encode(big, quality=90), min_side=64)
    assert decoded.source_size == (2048, 1366)
    assert decoded.image.size == (256, 171)
    assert min(decode_image(encode(big), min_side=300).image.size) >= 300


def test_draft_is_ignored_for_formats_without_it(astronaut: Image.Image, encode: Encoder) -> None:
    assert decode_image(encode(astronaut, "PNG"), min_side=64).image.size == (512, 512)


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow has no AVIF codec")
def test_avif_decodes(astronaut: Image.Image, encode: Encoder) -> None:
    decoded = decode_image(encode(astronaut, "AVIF", quality=90))
    assert decoded.format == "AVIF"
    assert _mean_abs_diff(astronaut, decoded.image) < 8


@pytest.mark.skipif(not heif_supported(), reason="optional pillow-heif is not installed")
def test_heic_decodes(astronaut: Image.Image, encode: Encoder) -> None:
    decoded = decode_image(encode(astronaut, "HEIF", quality=90))
    assert decoded.format in {"HEIF", "HEIC"}
    assert _mean_abs_diff(astronaut, decoded.image) < 8


def test_grayscale_decode_is_luma_for_every_mode(astronaut: Image.Image, encode: Encoder) -> None:
    expected = np.asarray(astronaut.convert("L"), dtype=np.int16)
    for data in (
        encode(astronaut, quality=95),
        encode(astronaut.convert("CMYK"), quality=95),
        encode(astronaut.convert("RGBA"), "PNG"),
    ):
        decoded = decode_image(data, grayscale=True).image
        assert decoded.mode == "L"
        assert np.abs(np.asarray(decoded, dtype=np.int16) - expected).mean() < 4
