"""``traindex fingerprint --download``: one honest status per row, against a real server."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from traindex.cli.main import app

from .conftest import HOSTS, MakeRelease

pytestmark = pytest.mark.shared
runner = CliRunner()


def _table(home: Path, name: str, stage: str) -> list[dict[str, object]]:
    folder = next((home / "datasets" / name).iterdir()) / stage
    rows: list[dict[str, object]] = []
    for path in sorted(folder.glob("*.parquet")):
        rows.extend(pq.read_table(path).to_pylist())
    return rows


def test_every_row_gets_the_status_it_deserves(laion_like: MakeRelease) -> None:
    release = laion_like()
    result = runner.invoke(app, release.cli("fingerprint", "-d", "laionlike", "--download"))
    assert result.exit_code == 0, result.output
    statuses = _table(release.home, "laionlike", "downloads")
    by_url = {str(r["url"]): str(r["status"]) for r in statuses}
    assert len(statuses) == len(by_url) == len(release.expected), "one status per row"
    assert by_url == release.expected
    site = release.site
    for reserved in ("blocked.example", "aipref.example"):  # never asked for an image
        assert not any(host == reserved and path != "/robots.txt" for path, host in site.seen)
    assert site.seen[("/robots.txt", "aipref.example")] == 1
    prints = {int(str(r["row"])): r for r in _table(release.home, "laionlike", "fingerprints")}
    ok_rows = {int(str(r["row"])) for r in statuses if r["status"] == "ok"}
    assert set(prints) == ok_rows, "fingerprints exactly for the fetched images"
    bomb = next(r for r in statuses if str(r["url"]).endswith("/bomb.png"))
    assert "pixels" in str(prints[int(str(bomb["row"]))]["error"])
    for record in statuses:
        if record["status"] == "ok" and "/img/" in str(record["url"]):
            name = str(record["url"]).rsplit("/", 1)[1]
            assert record["sha256"] == hashlib.sha256(site.photos[name]).hexdigest()
            assert prints[int(str(record["row"]))]["sha256"] == record["sha256"]
    assert "not fetched" in result.output


def test_selectors_fetch_only_the_chosen_rows(laion_like: MakeRelease, tmp_path: Path) -> None:
    release = laion_like(special=False)
    picked = runner.invoke(
        app, release.cli("fingerprint", "-d", "laionlike", "--download", "--domain", HOSTS[1])
    )
    assert picked.exit_code == 0, picked.output
    urls = {str(r["url"]) for r in _table(release.home, "laionlike", "downloads")}
    assert urls == {u for u in release.expected if f"//{HOSTS[1]}:" in u}
    other = laion_like(name="listed", special=False)
    rows_file = tmp_path / "rows.txt"
    rows_file.write_text("# two rows\npart-00000.parquet:0\npart-00000.parquet:3\n")
    listed = runner.invoke(
        app, other.cli("fingerprint", "-d", "listed", "--download", "--rows", str(rows_file))
    )
    assert listed.exit_code == 0, listed.output
    assert sorted(int(str(r["row"])) for r in _table(other.home, "listed", "downloads")) == [0, 3]


def test_keep_images_writes_an_img2dataset_folder(laion_like: MakeRelease, tmp_path: Path) -> None:
    release = laion_like(special=False)
    kept = tmp_path / "kept"
    result = runner.invoke(
        app,
        release.cli(
            "fingerprint", "-d", "laionlike", "--download", "--keypoints",
            "--keep-images", str(kept),
        ),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    points = _table(release.home, "laionlike", "keypoints")
    assert sorted(int(str(r["row"])) for r in points) == list(range(len(release.expected)))
    assert all(int(str(r["count"])) > 0 for r in points), "keypoints from the downloaded bytes"
    assert "keypoints:" in result.output
    images = sorted(kept.glob("00000/*.jpg"))
    assert len(images) == len(release.expected)
    served = {hashlib.sha256(b).hexdigest() for b in release.site.photos.values()}
    assert {hashlib.sha256(p.read_bytes()).hexdigest() for p in images} == served
    assert all(p.with_suffix(".json").is_file() and p.with_suffix(".txt").is_file() for p in images)


def test_selectors_need_download(laion_like: MakeRelease) -> None:
    release = laion_like(special=False)
    result = runner.invoke(app, release.cli("fingerprint", "-d", "laionlike", "--domain", "x.com"))
    assert result.exit_code == 2
    assert "need --download" in result.output
    both = runner.invoke(
        app, release.cli("fingerprint", "-d", "laionlike", "--download", "--images", ".")
    )
    assert both.exit_code == 2
    assert "not both" in both.output


def test_downloaded_fingerprints_equal_the_local_path(
    laion_like: MakeRelease, tmp_path: Path
) -> None:
    """PDQ distances between dataset and query side need identical decoding: the bytes that
    ``--download`` hashed give the very fingerprints ``fingerprint`` computes from a folder."""
    release = laion_like(special=False)
    kept = tmp_path / "kept"
    args = ("fingerprint", "-d", "laionlike", "--download", "--keep-images", str(kept))
    assert runner.invoke(app, release.cli(*args)).exit_code == 0
    local = runner.invoke(app, release.cli("ingest", str(kept), "-d", "local"))
    assert local.exit_code == 0, local.output
    assert runner.invoke(app, release.cli("fingerprint", "-d", "local")).exit_code == 0
    columns = ("pdq", "pdq_quality", "pdq_trim", "width", "height", "error")

    def by_sha(name: str) -> dict[str, tuple[object, ...]]:
        rows = _table(release.home, name, "fingerprints")
        return {str(r["sha256"]): tuple(r[c] for c in columns) for r in rows}

    downloaded, folder = by_sha("laionlike"), by_sha("local")
    assert len(downloaded) == len(release.expected)
    assert downloaded == folder
    assert all(values[0] is not None for values in downloaded.values()), "every image hashed"
