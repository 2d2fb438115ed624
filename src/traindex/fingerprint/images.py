"""Safe image decoding: untrusted bytes in, an 8-bit RGB Pillow image out, or a typed error.

Everything that hashes pixels goes through :func:`decode_image`, so the dataset side and the
query side see identical pixels for identical files. The contract:

* **Bombs are refused before decoding.** Only the header is read before the pixel count is
  compared with ``max_pixels``; a PNG claiming 50,000 x 50,000 never allocates anything.
* **No more pixels than needed.** ``min_side`` lets JPEG decode at 1/2, 1/4 or 1/8 scale
  (Pillow's draft mode, i.e. libjpeg DCT scaling) while keeping both sides >= ``min_side``;
  PDQ only looks at a 64 x 64 summary, so decoding a 24-megapixel photo in full is waste.
* **What a viewer shows is what gets hashed.** EXIF orientation is applied; CMYK, palette,
  16-bit, grayscale and alpha images become RGB (alpha composited on white, as a web page
  shows them); animated GIF/WebP/APNG give their first frame.
* **Bad input names its source.** Zero-byte, truncated, HTML/SVG-renamed-to-.jpg and
  unsupported files raise :class:`ImageDecodeError` (an ``InputError``) with ``path`` set.

Formats: whatever this Pillow reads (JPEG, PNG, GIF, WebP, TIFF, BMP, and AVIF natively from
Pillow 11.3), plus HEIC/HEIF when the optional ``pillow-heif`` plugin is installed.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from traindex.errors import InputError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DecodedImage",
    "ImageDecodeError",
    "ImageTooLargeError",
    "decode_image",
    "heif_supported",
    "thumbnail_jpeg",
    "to_rgb",
]

DEFAULT_MAX_PIXELS = 100_000_000
"""100 megapixels: above any camera a photographer uses, far below a decompression bomb.
Pillow's own guard (twice ``PIL.Image.MAX_IMAGE_PIXELS``, ~179 MP by default) still applies
on top, so a limit above that also needs Pillow's global raised by the application."""

_WHITE = (255, 255, 255)
_ORIENTATION_TAG = 0x0112
_QUARTER_TURNS = frozenset({5, 6, 7, 8})
_MARKUP_PREFIXES = (b"<?xml", b"<svg", b"<!doctype", b"<html", b"<head", b"<body", b"<")


class ImageDecodeError(InputError):
    """The bytes are not a decodable image (empty, truncated, markup, unknown format)."""


class ImageTooLargeError(ImageDecodeError):
    """The header declares more pixels than allowed; nothing was decoded."""


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """An RGB (or, when asked, grayscale) image plus what the file said about itself.

    ``source_size`` is the (width, height) in the file header after EXIF rotation, so a
    report can show the real dimensions even when ``image`` was decoded at 1/8 scale.
    """

    image: Image.Image
    source_size: tuple[int, int]
    format: str


def _register_heif() -> bool:
    """Register pillow-heif's HEIC/HEIF opener if the optional plugin is installed."""
    try:
        from pillow_heif import register_heif_opener  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return False
    register_heif_opener()
    return True


_HEIF = _register_heif()


def heif_supported() -> bool:
    """True when HEIC/HEIF files can be decoded (the optional ``pillow-heif`` is present)."""
    return _HEIF


def _describe_unknown(data: bytes) -> str:
    head = data[:256].lstrip().lower()
    if head.startswith(_MARKUP_PREFIXES):
        return "not an image: the file contains markup (HTML/SVG/XML), whatever its name says"
    return "not an image, or a format this installation cannot read"


def _open(data: bytes, name: str | None, max_pixels: int) -> Image.Image:
    """Open (header only) and enforce the pixel budget before any pixel is decoded."""
    if not data:
        raise ImageDecodeError("empty file (0 bytes)", path=name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise _too_large(None, max_pixels, name) from exc
    except UnidentifiedImageError as exc:
        raise ImageDecodeError(_describe_unknown(data), path=name) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageDecodeError(f"unreadable image header: {exc}", path=name) from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageDecodeError(f"image header declares an empty size {image.size}", path=name)
    if width * height > max_pixels:
        raise _too_large((width, height), max_pixels, name)
    return image


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:,.1f}".removesuffix(".0")


def _too_large(size: tuple[int, int] | None, max_pixels: int, name: str | None) -> Exception:
    """The refusal in the words a user was promised ("50 megapixels each").

    ``size`` is ``None`` when Pillow's own bomb guard refused the header: the image is then
    over that guard, hence over the smaller of it and ``max_pixels``.
    """
    limit = min(max_pixels, 2 * (Image.MAX_IMAGE_PIXELS or max_pixels))
    over = f"the limit of {_megapixels(limit)} megapixels per image; refused without decoding"
    if size is None:
        return ImageTooLargeError(f"the image is over {over}", path=name)
    pixels = _megapixels(size[0] * size[1])
    return ImageTooLargeError(
        f"the image is {size[0]:,} x {size[1]:,} = {pixels} megapixels, more than {over}",
        path=name,
    )


def _scale_to_8bit(image: Image.Image) -> Image.Image:
    """16-bit and 32-bit grayscale to 8-bit by value range (``convert('L')`` would clip)."""
    array = np.asarray(image)
    if image.mode == "F":
        peak = float(np.nanmax(array)) if array.size else 0.0
        scale = 255.0 if peak <= 1.0 else 255.0 / max(peak, 1.0)
        return Image.fromarray(np.clip(np.nan_to_num(array) * scale, 0, 255).astype(np.uint8))
    peak = int(array.max()) if array.size else 0
    divisor = 257.0 if peak > 255 else 1.0
    return Image.fromarray(np.clip(array / divisor, 0, 255).astype(np.uint8))


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit RGB, compositing transparency on white.

    Palette images with a transparency entry go through RGBA so the transparent colour is
    not shown as whatever the palette stores there.
    """
    mode = image.mode
    if mode == "RGB":
        return image
    if mode == "P":
        palette_alpha = image.palette is not None and image.palette.mode == "RGBA"
        has_alpha = "transparency" in image.info or palette_alpha
        image = image.convert("RGBA" if has_alpha else "RGB")
        mode = image.mode
    if mode.startswith("I") or mode == "F":
        image = _scale_to_8bit(image)
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _orientation(image: Image.Image) -> int:
    """EXIF orientation 1-8 (1 = upright); parsing is skipped when there is no EXIF block."""
    if "exif" not in image.info and image.format not in ("TIFF", "MPO"):
        return 1
    value = image.getexif().get(_ORIENTATION_TAG, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _load(
    image: Image.Image, name: str | None, min_side: int | None, orientation: int, gray: bool
) -> Image.Image:
    """First frame, draft-scaled JPEG, pixels actually decoded (truncation surfaces here)."""
    try:
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)
        if min_side is not None and image.format == "JPEG":
            colour = "L" if gray else "RGB"
            mode = colour if image.mode in ("RGB", "YCbCr", "L") else image.mode
            image.draft(mode, (min_side, min_side))
        # Pillow's truncation switch is process-wide and libraries flip it (WeasyPrint does
        # on import): a cut-off download must stay an error here whatever was imported.
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        image.load()
        oriented = ImageOps.exif_transpose(image) if orientation != 1 else image
    except Image.DecompressionBombError as exc:
        raise _too_large(None, 2 * (Image.MAX_IMAGE_PIXELS or 0), name) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageDecodeError(f"truncated or corrupt image data: {exc}", path=name) from exc
    return oriented if oriented is not None else image


def decode_image(
    source: bytes | str | Path,
    *,
    name: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int | None = None,
    grayscale: bool = False,
) -> DecodedImage:
    """Decode ``source`` (bytes or a file path) into 8-bit RGB, safely.

    ``name`` is what errors call the source (defaults to the path). ``min_side`` allows JPEG
    DCT scaling down to the smallest 1/2^k scale whose sides stay >= ``min_side``; other
    formats decode at full size. ``grayscale`` returns mode ``L`` (ITU-R 601 luma, after
    compositing alpha on white) instead: all PDQ uses, and colour JPEGs then skip chroma
    decoding altogether. Raises :class:`ImageTooLargeError` or
    :class:`ImageDecodeError`; never returns a partially decoded image.
    """
    if isinstance(source, (str, Path)):
        name = name if name is not None else str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise ImageDecodeError(f"cannot read file: {exc.strerror or exc}", path=name) from exc
    else:
        data = source
    image = _open(data, name, max_pixels)
    fmt = image.format or "unknown"
    header_w, header_h = image.size
    orientation = _orientation(image)
    loaded = _load(image, name, min_side, orientation, grayscale)
    quarter_turn = orientation in _QUARTER_TURNS
    source_size = (header_h, header_w) if quarter_turn else (header_w, header_h)
    if grayscale:
        pixels = loaded if loaded.mode == "L" else to_rgb(loaded).convert("L")
    else:
        pixels = to_rgb(loaded)
    return DecodedImage(image=pixels, source_size=source_size, format=fmt)


def thumbnail_jpeg(
    source: bytes | str | Path, side: int, *, name: str | None = None, quality: int = 75
) -> bytes | None:
    """A JPEG no larger than ``side`` px either way, or ``None`` when the source does not
    decode: pictures in pages and reports are a courtesy, the digests are the evidence."""
    try:
        image = decode_image(source, name=name, min_side=side).image
    except InputError:
        return None
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()
