"""Guardrails: face search off by default on a server, rate limits per client, counts-only
audit, nothing about the query kept; and the CLI's ``search --face`` contract."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from traindex.cli.main import app as cli
from traindex.config import Settings
from traindex.errors import RateLimitedError
from traindex.search.face_guard import FaceAudit, RateLimiter
from traindex.server.app import create_app

pytestmark = pytest.mark.shared

PhotoLoader = Callable[[str], bytes]
runner = CliRunner()
URL = "/api/faces/search"


class Clock:
    """A clock the test moves by hand (tests never depend on real time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_face_search_is_off_by_default_on_a_server(settings: Settings, photo: PhotoLoader) -> None:
    assert Settings().face_search_enabled is False
    client = TestClient(create_app(settings))
    response = client.post(URL, content=photo("examples/obama.jpg"))
    assert response.status_code == 403
    assert "TRAINDEX_FACE_SEARCH_ENABLED" in response.json()["error"]
    assert list(FaceAudit(settings.home).counts().values()) == [{"disabled": 1}]


def test_enabled_server_searches_refuses_and_rate_limits(
    gallery: Settings, tmp_path: Path, photo: PhotoLoader, caplog: pytest.LogCaptureFixture
) -> None:
    shutil.copytree(gallery.home, tmp_path / "home")  # this test counts audits: own home
    settings = Settings(home=tmp_path / "home", face_search_enabled=True, face_search_rate_limit=3)
    client = TestClient(create_app(settings))
    caplog.set_level(logging.DEBUG)
    found = client.post(URL, content=photo("examples/obama.jpg"))
    assert found.status_code == 200
    assert {m["key"] for m in found.json()["matches"]} == {"obama_a", "obama_b", "pair"}
    group = client.post(URL, content=photo("examples/two_people.jpg"))
    assert group.status_code == 422
    assert len(group.json()["faces"]) == 2
    assert client.post(URL, content=b"not an image").status_code == 422
    limited = client.post(URL, content=photo("examples/obama.jpg"))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    [today] = FaceAudit(settings.home).counts().values()
    assert today == {"searched": 1, "refused": 2, "rate_limited": 1}
    audit_text = (settings.home / "audit" / "face_searches.json").read_text()
    assert "obama" not in audit_text
    assert "testclient" not in audit_text
    assert not [r for r in caplog.records if "obama" in r.getMessage()]
    stray = [p for p in settings.home.rglob("*") if p.is_file() and "query" in p.name]
    assert stray == []


def test_oversized_body_is_refused_before_decoding(settings: Settings) -> None:
    enabled = Settings(home=settings.home, face_search_enabled=True, face_search_max_bytes=2048)
    response = TestClient(create_app(enabled)).post(URL, content=b"\xff" * 4096)
    assert response.status_code == 413


def test_rate_limiter_is_per_client_and_slides() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=2, window=60.0, clock=clock)
    limiter.admit("a")
    limiter.admit("a")
    limiter.admit("b")  # another client has its own budget
    with pytest.raises(RateLimitedError) as caught:
        limiter.admit("a")
    assert caught.value.retry_after == pytest.approx(60.0)
    clock.now += 30
    with pytest.raises(RateLimitedError):
        limiter.admit("a")
    clock.now += 30.001
    limiter.admit("a")  # the first two requests left the window


def test_audit_counts_per_day_and_nothing_else(tmp_path: Path) -> None:
    audit = FaceAudit(tmp_path)
    audit.record("searched", today="2026-11-22")
    audit.record("searched", today="2026-11-23")
    audit.record("searched", today="2026-11-23")
    audit.record("refused", today="2026-11-23")
    assert audit.counts() == {
        "2026-11-22": {"searched": 1},
        "2026-11-23": {"refused": 1, "searched": 2},
    }


def test_cli_face_search_json_and_refusals(gallery: Settings, face_root: Path) -> None:
    home = str(gallery.home)
    query = face_root / "examples/knn_examples/test/johnsnow_test1.jpg"
    result = runner.invoke(cli, ["--home", home, "search", "--face", str(query), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["query"]["kind"] == "face"
    assert {m["key"] for m in data["matches"]} == {"kit_a", "kit_b"}
    assert {m["method"] for m in data["matches"]} == {"same_face"}
    group = face_root / "examples/two_people.jpg"
    refused = runner.invoke(cli, ["--home", home, "search", "--face", str(group)])
    assert refused.exit_code == 2
    assert "2 were found" in refused.output
    table = runner.invoke(cli, ["--home", home, "search", "--face", str(query)])
    assert table.exit_code == 0
    assert "2 match(es) within distance 0.6" in table.output
    missing = runner.invoke(cli, ["--home", home, "search", "--face", "nope.jpg"])
    assert missing.exit_code == 2
    assert "not a file" in missing.output


def test_cli_says_when_no_release_has_a_face_index(settings: Settings, face_root: Path) -> None:
    query = face_root / "examples/obama.jpg"
    result = runner.invoke(cli, ["--home", str(settings.home), "search", "--face", str(query)])
    assert result.exit_code == 0, result.output
    assert "0 match(es)" in result.output
    assert "no release has a face index yet" in result.output
    assert "not searched: no release selected" in result.output


def test_cli_fingerprint_with_faces_then_search(
    tmp_path: Path, gallery_writer: Callable[[Path, dict[str, str] | None], Path], face_root: Path
) -> None:
    home = str(tmp_path / "home")
    table = gallery_writer(tmp_path / "images", None)
    assert runner.invoke(cli, ["--home", home, "ingest", str(table), "-d", "g"]).exit_code == 0
    flags = ["--face-detector", "hog", "--upsample", "1", "--min-face", "40", "--workers", "1"]
    images = ["--images", str(tmp_path / "images")]
    done = runner.invoke(
        cli, ["--home", home, "fingerprint", "-d", "g", *images, "--faces", *flags]
    )
    assert done.exit_code == 0, done.output
    assert "faces: 13 images scanned, 12 faces indexed" in done.output
    query = str(face_root / "examples/knn_examples/test/alex_lacamoire1.jpg")
    found = runner.invoke(cli, ["--home", home, "search", "--face", query, "--json"])
    assert {m["key"] for m in json.loads(found.stdout)["matches"]} == {"alex_a"}
    bad = runner.invoke(
        cli, ["--home", home, "fingerprint", "-d", "g", "--faces", "--face-detector", "x"]
    )
    assert bad.exit_code == 2
    assert "hog or cnn" in bad.output
