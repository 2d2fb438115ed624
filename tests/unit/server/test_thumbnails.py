"""Thumbnails come only from local images, and never for unsafe or blocked rows."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from traindex.config import Settings
from traindex.demo import demo_photo_path
from traindex.errors import InputError
from traindex.fingerprint.pdq import PdqFingerprinter
from traindex.ingest.base import ReaderOptions
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.server.app import create_app
from traindex.server.thumbnails import BlockList

ROWS = [  # file, punsafe, nsfw: real scikit-image photos with made-up safety flags
    ("coffee.png", "0.01", "UNLIKELY"),
    ("astronaut.png", "0.93", "UNLIKELY"),
    ("rocket.jpg", "", "NSFW"),
    ("camera.png", "0.02", ""),
    ("chelsea.png", "0.05", "UNLIKELY"),
]


def _catalog(tmp_path: Path) -> tuple[Settings, Path]:
    images = tmp_path / "images"
    images.mkdir()
    table = tmp_path / "rows.csv"
    with table.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["url", "caption", "key", "punsafe", "nsfw"])
        for name, punsafe, nsfw in ROWS:
            shutil.copyfile(demo_photo_path(f"skimage:{name}"), images / name)
            writer.writerow(
                [f"https://img.example.org/{name}", f"photo {name}", name, punsafe, nsfw]
            )
    chelsea = io.BytesIO()  # block chelsea by the PDQ of an edited copy, camera by SHA-256
    with Image.open(images / "chelsea.png") as image:
        image.convert("RGB").resize((200, 150)).save(chelsea, "JPEG", quality=70)
    pdq = PdqFingerprinter().fingerprint(chelsea.getvalue()).hex
    sha = hashlib.sha256((images / "camera.png").read_bytes()).hexdigest()
    block = tmp_path / "block.txt"
    block.write_text(f"# reviewed\nsha256:{sha}\npdq:{pdq}  # edited copy\n", encoding="utf-8")
    settings = Settings(home=tmp_path / "home", web_block_hashes=block)
    ingest(settings, table, dataset="flags", release="r1", fmt="table", options=ReaderOptions())
    fingerprint(settings, "flags", images=images, workers=1)
    return settings, images


def test_only_safe_unblocked_local_images_get_thumbnails(tmp_path: Path) -> None:
    settings, _ = _catalog(tmp_path)
    with TestClient(create_app(settings)) as client:
        page = client.get("/search", params={"q": "photo", "kind": "text"}).text
        shown = set(re.findall(r'src="(/thumbs/[^"]+)"', page))
        assert shown == {"/thumbs/flags/r1/0/0.jpg"}  # coffee only
        assert "img.example.org" not in "".join(re.findall(r"<img [^>]*>", page))
        thumb = client.get("/thumbs/flags/r1/0/0.jpg")
        assert thumb.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(thumb.content)) as image:
            assert max(image.size) == settings.web_thumbnail_side
        for row in range(1, len(ROWS)):  # asking directly does not help
            assert client.get(f"/thumbs/flags/r1/0/{row}.jpg").status_code == 404
        detail = client.get("/rows/flags/r1", params={"shard": "rows.csv", "row": 1}).text
        assert "flags it as" in detail
        assert "/thumbs/" not in detail


def test_a_replaced_image_file_is_not_shown(tmp_path: Path) -> None:
    settings, images = _catalog(tmp_path)
    shutil.copyfile(images / "astronaut.png", images / "coffee.png")
    with TestClient(create_app(settings)) as client:
        assert client.get("/thumbs/flags/r1/0/0.jpg").status_code == 404


def test_block_list_lines_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "block.txt"
    path.write_text("sha256:abc\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 1"):
        BlockList.load(path, 31)
    assert not BlockList.load(None, 31).blocks("0" * 64, bytes(32))


def test_a_row_seen_in_two_releases(tmp_path: Path) -> None:
    settings, images = _catalog(tmp_path)
    ingest(settings, tmp_path / "rows.csv", dataset="flags", release="r2", fmt="table")
    fingerprint(settings, "flags/r2", images=images, workers=1)
    with TestClient(create_app(settings)) as client:
        assert '<option value="flags" >flags (all 2 releases)</option>' in client.get("/").text
        both = client.get("/search", params={"q": "coffee", "kind": "text", "dataset": "flags"})
        assert both.text.count("photo coffee.png") == 2
        row = client.get("/api/rows/flags/r1", params={"shard": "rows.csv", "row": 0}).json()
        elsewhere = {(m["release"], m["method"]) for m in row["elsewhere"]}
        assert elsewhere == {("r2", "same_file")}  # one card per row, strongest evidence
