"""The expensive anonymous endpoints meet a per-client limit (issue 16 item 6): image search
(API and web upload), evidence building, and a row page's live signal check."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from traindex.config import Settings
from traindex.server.app import create_app


def _client(tmp_path: Path) -> TestClient:
    settings = Settings(
        home=tmp_path / "home", api_expensive_burst=3, api_expensive_rate_per_minute=0.01
    )
    return TestClient(create_app(settings))


def test_api_image_search_is_limited_per_client_but_lookups_are_not(tmp_path: Path) -> None:
    client = _client(tmp_path)
    image = {"image": ("a.jpg", b"not an image", "image/jpeg")}
    answers = [client.post("/api/search", files=image) for _ in range(5)]
    assert 429 not in [a.status_code for a in answers[:3]]
    assert [a.status_code for a in answers[3:]] == [429, 429]
    assert set(answers[3].json()) == {"detail"}
    assert int(answers[3].headers["Retry-After"]) >= 1
    lookup = client.post("/api/search", json={"url": "https://a.example/1.jpg"})
    assert lookup.status_code != 429


def test_evidence_building_is_limited_per_client(tmp_path: Path) -> None:
    client = _client(tmp_path)
    body = {"query": {"kind": "url", "value": "https://a.example/1.jpg"}}
    statuses = [client.post("/api/evidence/report", json=body).status_code for _ in range(5)]
    assert 429 not in statuses[:3]
    assert statuses[3:] == [429, 429]
    # the cheap signature check is not limited
    assert client.post("/api/evidence/verify", json={"report": {}}).status_code == 200


def test_row_signal_checks_are_limited_but_plain_row_pages_are_not(tmp_path: Path) -> None:
    client = _client(tmp_path)
    url = "/rows/none/main?shard=x.parquet&row=0"
    statuses = [client.get(url + "&signals=1").status_code for _ in range(5)]
    assert 429 not in statuses[:3]
    assert statuses[3:] == [429, 429]
    assert client.get(url).status_code != 429


def test_web_upload_search_is_limited_per_client(tmp_path: Path) -> None:
    client = _client(tmp_path)
    statuses = [
        client.post("/search", files={"image": ("a.jpg", b"not an image")}).status_code
        for _ in range(5)
    ]
    assert 429 not in statuses[:3]
    assert statuses[3:] == [429, 429]
