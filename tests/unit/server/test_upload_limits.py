"""Upload limits: bytes per request, files per request, bytes and pixels per file."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from traindex.config import Settings

pytestmark = pytest.mark.shared


def _file(name: str, data: bytes) -> tuple[str, tuple[str, bytes, str]]:
    return ("image", (name, data, "application/octet-stream"))


def test_too_many_files_is_413_with_the_limit(client: TestClient, photos: Path) -> None:
    data = (photos / "china.jpg").read_bytes()
    response = client.post("/api/search", files=[_file(f"{i}.jpg", data) for i in range(4)])
    assert response.status_code == 413
    assert "at most 3 images per search" in response.json()["detail"]


def test_declared_oversized_request_is_refused_unread(client: TestClient) -> None:
    response = client.post("/api/search", files=[_file("big.bin", b"\0" * 1_100_000)])
    assert response.status_code == 413
    assert "over the 1.0 MB limit per search" in response.json()["detail"]


def test_chunked_oversized_request_is_cut_off(client: TestClient) -> None:
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="x.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()

    def body() -> Iterator[bytes]:  # no Content-Length: the server must count
        yield head
        for _ in range(40):
            yield b"\xff" * 50_000
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        "/api/search",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert "larger than 1.0 MB" in response.json()["detail"]


def test_oversized_and_empty_files_are_per_file_errors(client: TestClient, photos: Path) -> None:
    files = [
        _file("china.jpg", (photos / "china.jpg").read_bytes()),
        _file("astronaut.png", (photos / "astronaut.png").read_bytes()[:400_000]),
        _file("empty.jpg", b""),
    ]
    answer = client.post("/api/search", files=files).json()
    errors = {e["query"]: e["error"] for e in answer["errors"]}
    assert errors["astronaut.png"] == "the file is 0.4 MB, over the 0.3 MB limit"
    assert "empty" in errors["empty.jpg"]
    assert [m["query"] for m in answer["matches"]] == ["china.jpg"]


def test_pixel_limit_is_checked_before_decoding(client: TestClient) -> None:
    bomb = io.BytesIO()
    Image.new("L", (4000, 1200)).save(bomb, "PNG")  # 4.8 MP of zeros: a few KB on the wire
    answer = client.post("/api/search", files=[_file("bomb.png", bomb.getvalue())]).json()
    (error,) = answer["errors"]
    assert "4,000 x 1,200 = 4.8 megapixels, more than the limit of 4 megapixels" in error["error"]


def test_duplicate_file_names_stay_apart(client: TestClient, photos: Path) -> None:
    data = (photos / "china.jpg").read_bytes()
    answer = client.post(
        "/api/search", files=[_file("a/x.jpg", data), _file("b\\x.jpg", data)]
    ).json()
    assert answer["query"]["files"] == ["x.jpg", "x.jpg (2)"]
    assert {m["query"] for m in answer["matches"]} == {"x.jpg", "x.jpg (2)"}


def test_limits_come_from_settings(demo_settings: Settings) -> None:
    from traindex.server.uploads import UploadLimits

    limits = UploadLimits.from_settings(demo_settings)
    assert (limits.max_files, limits.max_file_bytes) == (3, 300_000)
