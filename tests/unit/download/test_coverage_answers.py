"""Coverage in answers: "not searched" before download, "not found" only for rows compared."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import sklearn.datasets
from PIL import Image
from typer.testing import CliRunner

from traindex.cli.main import app
from traindex.core.coverage import Coverage, ReleaseCoverage, outcome_without_match

from .conftest import LaionLike, MakeRelease

runner = CliRunner()
# a real photo that is not in cc3m (conceptual-captions' own test images are cc3m photos)
STRANGER = Path(sklearn.datasets.__file__).parent / "images" / "china.jpg"


def test_coverage_states_and_wording() -> None:
    none = ReleaseCoverage("laion", "r1", 9_999, {"pdq": 0, "sha256": 0}, shards=2)
    part = ReleaseCoverage(
        "laion", "r2", 9_999, {"pdq": 8_412, "sha256": 8_412},
        {"HTTP 404": 1_204, "reserved: X-Robots-Tag": 212}, 2, ("b.parquet",),
    )  # fmt: skip
    full = ReleaseCoverage("laion", "r3", 10, {"pdq": 10, "sha256": 10}, shards=1)
    signals = ("sha256", "pdq")
    assert none.state(signals) == "not searched"
    assert part.state(signals) == "partly searched"
    assert full.state(signals) == "searched"
    text = part.describe(signals)
    assert "searched 8,412 of 9,999 rows" in text
    assert "1,416 image(s) could not be fingerprinted: 1,204 HTTP 404, 212 reserved" in text
    assert outcome_without_match(Coverage(signals, (none,))) == "not searched"
    assert outcome_without_match(Coverage(signals, (none, full))) == "partly searched"
    assert outcome_without_match(Coverage(signals, (full,))) == "not found"
    assert outcome_without_match(Coverage(signals, ())) == "not searched"
    back = Coverage.from_json(Coverage(signals, (part,)).to_json())
    assert back == Coverage(signals, (part,))


def _edited(data: bytes, path: Path) -> Path:
    """A resized, re-encoded copy: what a creator's own file looks like next to LAION's."""
    with Image.open(io.BytesIO(data)) as image:
        small = image.convert("RGB").resize((image.width * 3 // 4, image.height * 3 // 4))
        small.save(path, "JPEG", quality=70)
    return path


def _search(release: LaionLike, photo: Path, name: str) -> dict[str, object]:
    args = release.cli("search", "--image", str(photo), "-d", name, "--json")
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


@pytest.mark.shared
def test_not_searched_before_download_then_found_or_not_found(
    laion_like: MakeRelease, tmp_path: Path, shared_data: Path
) -> None:
    release = laion_like(special=False)
    served = next(iter(release.site.photos.values()))
    mine = _edited(served, tmp_path / "mine.jpg")
    stranger = STRANGER
    before = _search(release, mine, "laionlike")
    assert before["not_searched"] == [str(mine)]
    assert before["not_found"] == []
    coverage = before["coverage"]
    assert isinstance(coverage, dict)
    assert coverage["state"] == "not searched"
    table = runner.invoke(app, release.cli("search", "--image", str(mine), "-d", "laionlike"))
    assert "1 not searched" in table.output
    assert "0 not found" in table.output
    assert "traindex fingerprint --dataset laionlike/" in table.output
    report = tmp_path / "before.json"
    signed = runner.invoke(
        app, release.cli("report", "--image", str(mine), "-d", "laionlike", "--out", str(report))
    )
    assert signed.exit_code == 0, signed.output
    body = json.loads(report.read_text())["report"]
    assert [q["outcome"] for q in body["queries"]] == ["not searched"]
    assert body["releases"][0]["coverage"]["state"] == "not searched"

    done = runner.invoke(app, release.cli("fingerprint", "-d", "laionlike", "--download"))
    assert done.exit_code == 0, done.output
    after = _search(release, mine, "laionlike")
    matches = after["matches"]
    assert isinstance(matches, list)
    assert matches[0]["method"] == "same_image"
    absent = _search(release, stranger, "laionlike")
    assert absent["not_found"] == [str(stranger)], "every row was compared"


@pytest.mark.shared
def test_partly_searched_when_images_could_not_be_fetched(
    laion_like: MakeRelease, tmp_path: Path, shared_data: Path
) -> None:
    release = laion_like(special=True)
    done = runner.invoke(app, release.cli("fingerprint", "-d", "laionlike", "--download"))
    assert done.exit_code == 0, done.output
    stranger = STRANGER
    answer = _search(release, stranger, "laionlike")
    assert answer["not_found"] == []
    assert answer["partly_searched"] == [str(stranger)]
    coverage = answer["coverage"]
    assert isinstance(coverage, dict)
    failures = coverage["releases"][0]["failures"]
    assert failures["HTTP 404"] == 1
    assert failures["reserved: robots.txt"] == 1
    assert failures["reserved: Content-Usage"] == 2  # robots.txt rule, and a header
    assert failures["unreadable image"] == 1  # the decompression bomb
    report = tmp_path / "after.json"
    html = tmp_path / "after.html"
    args = ("report", "--image", str(stranger), "-d", "laionlike", "--out", str(report))
    signed = runner.invoke(app, release.cli(*args, "--out", str(html)))
    assert signed.exit_code == 0, signed.output
    body = json.loads(report.read_text())["report"]
    assert [q["outcome"] for q in body["queries"]] == ["partly searched"]
    summary = body["releases"][0]["coverage"]["summary"]
    assert "HTTP 404" in summary
    assert "2 reserved: Content-Usage" in summary  # the report names the draft signal
    page = html.read_text()
    assert "laionlike / main (image search): searched 19 of 31 rows" in page
    assert "reserved: Content-Usage" in page
    assert "Not searched: 1 search(es) found nothing, but not every row was compared" in page
