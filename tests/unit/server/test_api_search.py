"""``POST /api/search`` answers exactly what ``traindex search --json`` prints."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from traindex.cli.main import app as cli
from traindex.config import Settings

pytestmark = pytest.mark.shared


def _cli(settings: Settings, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["--home", str(settings.home), "search", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("text", "kitten"),
        ("domain", "staticflickr.com"),
        ("flickr_user", "danielbuechele"),
        ("url", "https://www.flickr.com/photos/spacexphotos/16511594820/"),
    ],
)
def test_query_fields_match_the_cli(
    client: TestClient, demo_settings: Settings, field: str, value: str
) -> None:
    expected = _cli(demo_settings, f"--{field.replace('_', '-')}", value, "--limit", "7")
    for send in ({"json": {field: value, "limit": 7}}, {"data": {field: value, "limit": "7"}}):
        response = client.post("/api/search", **send)
        assert response.status_code == 200, response.text
        assert response.json() == expected
    assert expected["total"] >= 1


def test_image_upload_matches_the_cli(
    client: TestClient, demo_settings: Settings, photos: Path
) -> None:
    expected = _cli(demo_settings, "--image", str(photos / "china.jpg"))
    data = (photos / "china.jpg").read_bytes()
    response = client.post("/api/search", files=[("image", ("china.jpg", data, "image/jpeg"))])
    assert response.status_code == 200, response.text
    answer = response.json()
    for match in expected["matches"]:
        match["query"] = "china.jpg"  # the CLI names the query by its path, the API by file name
    expected["query"]["files"] = ["china.jpg"]
    assert answer == expected
    assert [m["method"] for m in answer["matches"]] == ["same_file"]


def test_a_portfolio_finds_an_edited_copy_with_its_distance(
    client: TestClient, photos: Path
) -> None:
    edited = io.BytesIO()
    with Image.open(photos / "flower.jpg") as image:
        image.resize((image.width // 2, image.height // 2)).save(edited, "JPEG", quality=60)
    files = [
        ("image", ("china.jpg", (photos / "china.jpg").read_bytes(), "image/jpeg")),
        ("image", ("flower-small.jpg", edited.getvalue(), "image/jpeg")),
    ]
    answer = client.post("/api/search", files=files).json()
    by_file = {m["query"]: m for m in answer["matches"]}
    assert by_file["china.jpg"]["method"] == "same_file"
    assert by_file["flower-small.jpg"]["method"] == "same_image"
    assert 0 <= by_file["flower-small.jpg"]["distance"] <= 31
    assert answer["query"]["kind"] == "images"


def test_pages_concatenate_to_the_whole_result(client: TestClient) -> None:
    whole = client.post("/api/search", json={"domain": "staticflickr.com", "limit": 100}).json()
    pages = [
        client.post(
            "/api/search", json={"domain": "staticflickr.com", "limit": 3, "offset": offset}
        ).json()
        for offset in range(0, whole["total"], 3)
    ]
    assert all(p["total"] == whole["total"] for p in pages)
    assert [m for p in pages for m in p["matches"]] == whole["matches"]
    assert whole["total"] > 3


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"text": "a", "domain": "example.com"}, 400, "one thing to search"),
        ({}, 400, "nothing to search"),
        ({"domain": "co.uk"}, 400, "public suffix"),
        ({"text": "kitten", "dataset": "nope"}, 404, "no dataset 'nope'"),
        ({"text": "kitten", "limit": 0}, 400, "limit must be"),
        ({"text": ["a"]}, 400, "must be a string"),
    ],
)
def test_bad_requests_say_why(
    client: TestClient, body: dict[str, Any], status: int, message: str
) -> None:
    response = client.post("/api/search", json=body)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_non_object_and_unsupported_bodies_are_400(client: TestClient) -> None:
    assert (
        client.post(
            "/api/search", content=b"[1]", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/api/search", content=b"{", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert (
        client.post("/api/search", content=b"x", headers={"content-type": "text/plain"}).status_code
        == 400
    )


def test_datasets_and_rows_json(client: TestClient) -> None:
    datasets = {d["name"]: d for d in client.get("/api/datasets").json()["datasets"]}
    assert datasets["cc3m-img2dataset"]["coverage"] == 1.0
    assert datasets["laion400m-sample"]["images"] == 0
    row = client.get("/api/rows/demo-photos/demo", params={"shard": "photos.csv", "row": 0}).json()
    assert row["record"]["flickr_owner"] == "danielbuechele"
    assert row["local_image"] is True
    missing = client.get("/api/rows/demo-photos/demo", params={"shard": "photos.csv", "row": 999})
    assert missing.status_code == 404
