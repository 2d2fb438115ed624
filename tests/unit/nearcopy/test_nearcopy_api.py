"""``POST /api/nearcopy`` and the zip / rate limits it shares with the page."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from traindex.config import Settings
from traindex.server.app import create_app
from traindex.server.uploads import SearchForm, UploadLimits, UploadTooLargeError
from traindex.server.zipped import expand_zips

from .conftest import TrainingSet, edits

LIMITS = UploadLimits(max_file_bytes=1_000, max_files=3, max_request_bytes=5_000, max_pixels=10**6)


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _expanded(data: bytes) -> SearchForm:
    return expand_zips(SearchForm(files=[("folder.zip", data)]), LIMITS)


def test_a_zip_is_expanded_into_its_images() -> None:
    form = _expanded(_zip({"a/1.png": b"1" * 10, "__MACOSX/._1.png": b"x", "a/": b""}))
    assert form.files == [("folder.zip/a/1.png", b"1" * 10)]
    assert form.rejected == []


def test_unsafe_paths_oversized_and_bomb_members_are_refused_by_name() -> None:
    form = _expanded(
        _zip(
            {
                "../up.png": b"u",
                "/abs.png": b"a",
                "big.png": bytes(range(256)) * 5,
                "bomb.png": b"\0" * 100_000,
                "ok.png": b"k",
            }
        )
    )
    reasons = dict(form.rejected)
    assert "unsafe path" in reasons["folder.zip/../up.png"]
    assert "unsafe path" in reasons["folder.zip//abs.png"]
    assert "over the 1,000-byte limit" in reasons["folder.zip/big.png"]
    assert "zip bomb" in reasons["folder.zip/bomb.png"]
    assert [name for name, _ in form.files] == ["folder.zip/ok.png"]


def test_too_many_or_too_large_in_all_is_refused() -> None:
    with pytest.raises(UploadTooLargeError, match="more than 3 images"):
        _expanded(_zip({f"{i}.png": b"x" for i in range(4)}))
    stored = {f"{i}.png": bytes([i]) * 900 for i in range(3)}
    limits = UploadLimits(1_000, 10, 2_000, 10**6)
    with pytest.raises(UploadTooLargeError, match="expands to more than 2,000 bytes"):
        expand_zips(SearchForm(files=[("f.zip", _zip(stored, zipfile.ZIP_STORED))]), limits)


def test_a_broken_zip_is_a_per_file_error() -> None:
    form = _expanded(b"PK\x03\x04 not really")
    assert form.files == []
    assert "not a readable zip file" in form.rejected[0][1]


@pytest.mark.shared
def test_api_answers_the_cli_json_with_the_region(keypoint_set: TrainingSet) -> None:
    canvas = keypoint_set.novel[0][1].resize((768, 768))
    photo = keypoint_set.training[0][1]
    pasted, box = edits.pasted_at(photo, canvas, scale=0.6, place=(0.1, 0.5), angle=-2.0)
    files = [("image", ("out.jpg", edits.jpeg(pasted, 80), "image/jpeg"))]
    folder = _zip({"novel.jpg": edits.jpeg(keypoint_set.novel[1][1], 80)}, zipfile.ZIP_STORED)
    files.append(("image", ("more.zip", folder, "application/zip")))
    with TestClient(create_app(keypoint_set.settings)) as client:
        answer = client.post("/api/nearcopy", files=files, data={"dataset": "train"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [r["verdict"] for r in body["results"]] == ["near_copy", "novel"]
    assert body["results"][1]["image"] == "more.zip/novel.jpg"
    region = body["results"][0]["matches"][0]["region"]
    assert region["image_size"] == [768, 768]
    assert abs(region["box"][0] - box[0]) <= 8
    assert abs(region["box"][1] - box[1]) <= 8
    assert body["coverage"]["train/r1"]["not_used"] == []


def test_api_rate_limit_and_empty_requests(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", web_nearcopy_burst=2, web_nearcopy_per_minute=0.1)
    with TestClient(create_app(settings)) as client:
        empty = client.post("/api/nearcopy", files={"dataset": (None, "x")})  # counts too
        assert empty.status_code == 400
        assert "nothing to check" in empty.json()["detail"]
        first = client.post("/api/nearcopy", files=[("image", ("a.png", b"nope", "image/png"))])
        assert first.status_code == 200
        assert first.json()["results"][0]["error"]
        second = client.post("/api/nearcopy", files=[("image", ("a.png", b"nope", "image/png"))])
    assert second.status_code == 429
    assert "try again in" in second.json()["detail"]
    assert int(second.headers["Retry-After"]) >= 1
