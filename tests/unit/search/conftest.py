"""A small fingerprinted dataset of real photos, and a folder of every kind of bad input.

The dataset is the 18 CC-BY Flickr photos' credits (``credits.csv``) with, as its images,
*edited copies* of those photos (mirrored, framed, re-compressed) plus one flat grey image,
so a query with an original file must find them as ``same_image``. It is built once per
module (ingest + fingerprint take a few seconds) and only read by the tests.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint

PHOTOS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"

EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "0006400c1c224e19": ImageOps.mirror,
    "000adef7197e3118": lambda im: ImageOps.expand(im, 40, fill=(255, 255, 255)),
    "001ad258e358b14a": lambda im: im.resize((im.width // 2, im.height // 2)),
}
FLAT_KEY = "00416784a9cb1756"
"""This row's image is replaced by a flat grey picture (PDQ quality 0)."""


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def flat_grey() -> bytes:
    return jpeg(Image.new("RGB", (300, 200), (128, 128, 128)))


@pytest.fixture(scope="module")
def flat_bytes() -> bytes:
    """The dataset's flat image, byte for byte."""
    return flat_grey()


@pytest.fixture(scope="module")
def photo_dir(shared_data: Path) -> Path:
    return shared_data / PHOTOS


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, photo_dir: Path) -> Settings:
    """Settings of a home holding dataset ``credits``: edited copies, fingerprinted."""
    root = tmp_path_factory.mktemp("indexed")
    settings = Settings(home=root / "home")
    ingest(settings, photo_dir / "credits.csv", dataset="credits", release="main")
    folder = root / "images"
    folder.mkdir()
    for key, edit in EDITS.items():
        with Image.open(photo_dir / f"{key}.jpg") as image:
            (folder / f"{key}.jpg").write_bytes(jpeg(edit(image.convert("RGB"))))
    (folder / f"{FLAT_KEY}.jpg").write_bytes(flat_grey())
    [report] = fingerprint(settings, "credits", images=folder, workers=1)
    assert (report.images, report.errors) == (4, 0)
    return settings


def png_bomb(width: int, height: int) -> bytes:
    """A complete, valid 1-bit PNG of ``width x height`` black pixels, built in ~1 s.

    Its zlib stream of zeros compresses ~1000:1, so a 50k x 50k bomb is ~300 KB on disk and
    2.5 gigapixels once decoded.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    rows_per_step = 1000
    body = [packer.compress(row * rows_per_step) for _ in range(height // rows_per_step)]
    body.append(packer.compress(row * (height % rows_per_step)) + packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(body))
        + chunk(b"IEND", b"")
    )


_BAD_FILES: dict[str, str] = {
    "a-empty.jpg": "empty file",
    "b-truncated.jpg": "truncated",
    "c-bomb.png": "megapixels per image",
    "d-svg.jpg": "markup",
    "e-html.jpg": "markup",
    "f-dangling.jpg": "broken symbolic link",
    "g-loop.jpg": "symbolic links",
    "h-pipe.jpg": "named pipe",
    "i-folder.jpg": "directory",
    "j-huge-header.png": "more than the limit",
}
"""File name -> words its error must contain. Unreadable files: we run as root, so
``chmod 000`` does not stop a read; a dangling symlink, a symlink loop, a FIFO and a
directory named like an image are the honest ways to make a path unreadable here."""


@pytest.fixture(scope="module")
def bad_files() -> dict[str, str]:
    """Each bad file of ``bad_folder`` -> words its error message must contain."""
    return dict(_BAD_FILES)


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory: pytest.TempPathFactory, photo_dir: Path) -> Path:
    """Every kind of bad input, plus an edited copy (found) and an unrelated photo (not)."""
    folder = tmp_path_factory.mktemp("portfolio")
    good = (photo_dir / "0006400c1c224e19.jpg").read_bytes()
    (folder / "a-empty.jpg").write_bytes(b"")
    (folder / "b-truncated.jpg").write_bytes(good[: len(good) // 2])
    (folder / "c-bomb.png").write_bytes(png_bomb(50_000, 50_000))
    (folder / "d-svg.jpg").write_bytes(
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>'
    )
    (folder / "e-html.jpg").write_bytes(b"<!DOCTYPE html><html><body>photo</body></html>")
    os.symlink(folder / "nowhere.jpg", folder / "f-dangling.jpg")
    os.symlink("g-loop.jpg", folder / "g-loop.jpg")
    os.mkfifo(folder / "h-pipe.jpg")
    (folder / "i-folder.jpg").mkdir()
    (folder / "j-huge-header.png").write_bytes(png_bomb(12_000, 12_000))  # 144 MP
    (folder / "x-mine.jpg").write_bytes(good)
    with Image.open(photo_dir / "0099d4cbcd86d84d.jpg") as unrelated:
        (folder / "y-unrelated.jpg").write_bytes(jpeg(unrelated))
    return folder
