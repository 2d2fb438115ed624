"""Real face photos (../shared/data/face_recognition + skimage's astronaut) and a gallery
release built from them with ``traindex fingerprint --faces``.

``people.json`` says who is in which photo; that ground truth lives in the tests only.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from numpy.typing import NDArray
from PIL import Image

from traindex.config import Settings
from traindex.fingerprint.faces import FaceFingerprinter, FaceOptions
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint

PEOPLE = json.loads(Path(__file__).with_name("people.json").read_text())["people"]
KNN = "examples/knn_examples"
GALLERY: dict[str, tuple[str, set[str]]] = {
    # catalog key -> (photo, people in it)
    "obama_a": (f"{KNN}/train/obama/obama.jpg", {"obama"}),
    "obama_b": (f"{KNN}/train/obama/obama2.jpg", {"obama"}),
    "biden_a": (f"{KNN}/train/biden/biden.jpg", {"biden"}),
    "biden_b": (f"{KNN}/train/biden/biden2.jpg", {"biden"}),
    "alex_a": (f"{KNN}/train/alex_lacamoire/img1.jpg", {"alex"}),
    "kit_a": (f"{KNN}/train/kit_harington/john1.jpeg", {"kit"}),
    "kit_b": (f"{KNN}/train/kit_harington/john2.jpeg", {"kit"}),
    "rose_a": (f"{KNN}/train/rose_leslie/img1.jpg", {"rose"}),
    "rose_b": (f"{KNN}/train/rose_leslie/img2.jpg", {"rose"}),
    "pair": ("examples/two_people.jpg", {"obama", "biden"}),
    "lin": ("examples/lin-manuel-miranda.png", {"lin"}),
    "coffee": ("skimage:coffee", set()),
    "broken": ("broken", set()),
}


def encode(image: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def photo_bytes(root: Path, ref: str) -> bytes:
    """A photo by its ``people.json`` reference (``skimage:NAME`` for scikit-image's)."""
    if ref.startswith("skimage:"):
        return encode(Image.fromarray(getattr(skimage.data, ref.split(":", 1)[1])()))
    if ref == "broken":
        return b"<html>this is not an image</html>"
    return (root / ref).read_bytes()


@pytest.fixture(scope="session")
def face_root(shared_data: Path) -> Path:
    return shared_data / "face_recognition"


PhotoLoader = Callable[[str], bytes]
Encoder = Callable[..., bytes]


@pytest.fixture(scope="session")
def photo(face_root: Path) -> PhotoLoader:
    """``photo(ref) -> bytes`` for a ``people.json``-style reference."""
    return lambda ref: photo_bytes(face_root, ref)


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """``encoder(image, fmt="PNG", **save_params) -> bytes``."""
    return encode


@pytest.fixture(scope="session")
def fingerprinter() -> FaceFingerprinter:
    return FaceFingerprinter()


@pytest.fixture(scope="session")
def embeddings(
    face_root: Path, fingerprinter: FaceFingerprinter
) -> dict[str, tuple[str, NDArray[np.float32]]]:
    """``photo -> (person, embedding)`` for every photo of ``people.json`` (one face each)."""
    out = {}
    for person, refs in PEOPLE.items():
        for ref in refs:
            [face] = fingerprinter.scan(photo_bytes(face_root, ref), name=ref).embedded
            assert face.embedding is not None
            out[ref] = (person, face.embedding)
    return out


def write_gallery(face_root: Path, folder: Path, boxes: dict[str, str] | None = None) -> Path:
    """Image files named by key plus a CSV catalog of them; returns the CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for key, (ref, _) in GALLERY.items():
        suffix = Path(ref).suffix or ".png"
        (folder / f"{key}{suffix}").write_bytes(photo_bytes(face_root, ref))
        rows.append(
            {
                "key": key,
                "url": f"https://photos.example.org/{key}{suffix}",
                "caption": f"portrait of somebody named {key}",
                "face_bboxes": (boxes or {}).get(key, ""),
            }
        )
    table = folder.parent / "gallery.csv"
    with table.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return table


GalleryWriter = Callable[[Path, "dict[str, str] | None"], Path]


@pytest.fixture(scope="session")
def gallery_people() -> dict[str, set[str]]:
    """Catalog key of each gallery photo -> the people in it (test-only ground truth)."""
    return {key: people for key, (_, people) in GALLERY.items()}


@pytest.fixture(scope="session")
def gallery_writer(face_root: Path) -> GalleryWriter:
    """``gallery_writer(folder, boxes) -> csv``: the gallery as image files + a CSV catalog."""
    return lambda folder, boxes: write_gallery(face_root, folder, boxes)


@pytest.fixture(scope="session")
def gallery(tmp_path_factory: pytest.TempPathFactory, face_root: Path) -> Settings:
    """A release of the gallery photos, fingerprinted with faces (once per test worker)."""
    base = tmp_path_factory.mktemp("gallery")
    settings = Settings(home=base / "home")
    table = write_gallery(face_root, base / "images")
    ingest(settings, table, dataset="gallery", release="main")
    fingerprint(settings, "gallery", images=base / "images", workers=1, faces=FaceOptions())
    return settings
