"""The face tab: absent unless enabled; with it, one photo finds the same face, rate-limited."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from traindex.config import Settings
from traindex.fingerprint.faces import FaceOptions
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.server.app import create_app

pytestmark = [pytest.mark.shared, pytest.mark.slow]
TRAIN = "face_recognition/examples/knn_examples/train"


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Settings:
    base = tmp_path_factory.mktemp("faces")
    images = base / "images"
    images.mkdir()
    table = base / "gallery.csv"
    with table.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["key", "url", "caption"])
        for key, ref in (("obama_b", "obama/obama2.jpg"), ("biden_a", "biden/biden.jpg")):
            shutil.copyfile(shared_data / TRAIN / ref, images / f"{key}.jpg")
            writer.writerow([key, f"https://photos.example.org/{key}.jpg", f"portrait {key}"])
    settings = Settings(home=base / "home", face_search_enabled=True, face_search_rate_limit=2)
    ingest(settings, table, dataset="gallery", release="main")
    fingerprint(settings, "gallery", images=images, workers=1, faces=FaceOptions())
    return settings


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_tab_is_off_by_default(gallery: Settings) -> None:
    off = gallery.model_copy(update={"face_search_enabled": False})
    with TestClient(create_app(off)) as client:
        assert 'id="face-form"' not in client.get("/").text
        assert client.post("/faces", data={}).status_code in (404, 405)


def test_a_photo_finds_the_same_face_then_the_rate_limit_applies(
    gallery: Settings, shared_data: Path
) -> None:
    query = (shared_data / TRAIN / "obama/obama.jpg").read_bytes()
    with TestClient(create_app(gallery)) as client:
        home = client.get("/").text
        assert 'id="face-form"' in home
        send = {
            "files": [("image", ("me.jpg", query, "image/jpeg"))],
            "data": {"csrf_token": _csrf(home)},
        }
        found = client.post("/faces", **send)  # type: ignore[arg-type]
        assert found.status_code == 200, found.text
        assert "Same face" in found.text
        assert "photos.example.org/obama_b.jpg" in found.text
        assert "biden_a" not in found.text
        assert client.post("/faces", **send).status_code == 200  # type: ignore[arg-type]
        limited = client.post("/faces", **send)  # type: ignore[arg-type]
        assert limited.status_code == 429
