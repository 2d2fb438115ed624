"""``search --images DIR --verify-candidates --domain D``: candidates proven by pixels."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import sklearn.datasets
from PIL import Image
from typer.testing import CliRunner

from traindex.cli.main import app
from traindex.config import Settings
from traindex.search.candidates import MetadataCandidates
from traindex.search.queries import Query
from traindex.search.service import SearchService
from traindex.search.verify import CandidateVerifier

from .conftest import HOSTS, MakeRelease

pytestmark = pytest.mark.shared
runner = CliRunner()
STRANGER = Path(sklearn.datasets.__file__).parent / "images" / "china.jpg"


def _save(data: bytes, path: Path, crop: float = 1.0, scale: float = 0.75) -> Path:
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
        w, h = rgb.size
        cw, ch = int(w * crop), int(h * crop)
        box = ((w - cw) // 2, (h - ch) // 2, (w + cw) // 2, (h + ch) // 2)
        part = rgb.crop(box)
        part.resize((int(part.width * scale), int(part.height * scale))).save(
            path, "JPEG", quality=75
        )
    return path


def test_candidates_are_downloaded_once_and_proven(laion_like: MakeRelease, tmp_path: Path) -> None:
    release = laion_like(special=False)
    names = sorted(release.site.photos)  # odd positions are served by cdn.example
    folder = tmp_path / "portfolio"
    folder.mkdir()
    _save(release.site.photos[names[1]], folder / "edited.jpg")
    _save(release.site.photos[names[3]], folder / "cropped.jpg", crop=0.55, scale=1.0)
    (folder / "stranger.jpg").write_bytes(STRANGER.read_bytes())
    args = release.cli(
        "search", "--images", str(folder), "-d", "laionlike", "--verify-candidates",
        "--domain", HOSTS[1], "--json", "--out", str(tmp_path / "answer.json"),
    )  # fmt: skip
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    answer = json.loads(first.stdout)
    found = {Path(m["query"]).name: m for m in answer["matches"]}
    assert set(found) == {"edited.jpg", "cropped.jpg"}, answer["matches"]
    edited = found["edited.jpg"]
    assert edited["method"] == "same_image"
    assert edited["url"].endswith(names[1])
    proof = edited["verified_by_download"]
    assert proof["http_status"] == 200
    assert list(edited)[-3:] == ["confidence", "explanation", "verified_by_download"]
    assert proof["url"] == edited["url"]
    assert edited["explanation"].startswith("verified by download at ")
    assert found["cropped.jpg"]["variant"] == "keypoints"
    assert answer["partly_searched"] == [str(folder / "stranger.jpg")]
    assert answer["not_found"] == [], "only candidates were compared"
    coverage = answer["coverage"]["releases"][0]
    assert coverage["rows_searched"] == len(names) // 2
    assert coverage["rows"] == len(names)
    fetched = {k: v for k, v in release.site.seen.items() if k[0].startswith("/img/")}
    assert set(fetched) == {(f"/img/{n}", HOSTS[1]) for n in names[1::2]}
    assert set(fetched.values()) == {1}
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    after = {k: v for k, v in release.site.seen.items() if k[0].startswith("/img/")}
    assert after == fetched, "a second search fetches nothing"
    report = tmp_path / "report.json"
    signed = runner.invoke(
        app, release.cli("report", "--from", str(tmp_path / "answer.json"), "--out", str(report))
    )
    assert signed.exit_code == 0, signed.output
    body = json.loads(report.read_text())["report"]
    proofs = [m["download_proof"] for m in body["matches"]]
    assert all(p and p["sha256"] and p["url"].startswith("http://cdn.example:") for p in proofs)
    assert {q["outcome"] for q in body["queries"]} == {"found", "partly searched"}


def test_progress_is_reported_per_candidate_image(laion_like: MakeRelease) -> None:
    release = laion_like(special=False)
    verifier = CandidateVerifier(Settings(home=release.home), max_candidates=4)
    views = verifier.search.views
    source = MetadataCandidates(Query("domain", HOSTS[0]), SearchService(views.catalog, views))
    seen: list[tuple[str, int, int]] = []
    files = [("me.jpg", STRANGER.read_bytes())]
    result = verifier.verify(files, source, on_progress=lambda *step: seen.append(step))
    assert result.candidates is not None
    assert result.candidates["picked"] == 4
    downloading = [step for step in seen if step[0] == "downloading"]
    assert sorted(downloading) == [("downloading", n, 4) for n in range(1, 5)]
    assert [step for step in seen if step[0] == "comparing"] == [
        ("comparing", n, 4) for n in range(1, 5)
    ]
    assert seen.index(downloading[-1]) < seen.index(("comparing", 1, 4))
