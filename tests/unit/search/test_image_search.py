"""Search by image against a dataset that holds *edited copies* of real photos.

The dataset (see conftest) holds a mirrored, a white-framed and a half-size copy of three
CC-BY photos, and a flat grey picture. Queries are the photographer's original files.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from traindex.catalog.store import Catalog
from traindex.cli.main import app
from traindex.config import Settings
from traindex.core.match_evidence import ImageEvidence
from traindex.core.matches import Match
from traindex.search.images import ImageSearch
from traindex.search.thresholds import Thresholds

pytestmark = pytest.mark.shared

runner = CliRunner()
MIRRORED, FRAMED, HALF = "0006400c1c224e19", "000adef7197e3118", "001ad258e358b14a"
FLAT = "00416784a9cb1756"


def _distance(match: Match) -> int:
    distance = match.evidence_as(ImageEvidence).distance
    assert distance is not None
    return distance


def _originals(photo_dir: Path, *keys: str) -> list[tuple[str, bytes]]:
    return [(f"{key}.jpg", (photo_dir / f"{key}.jpg").read_bytes()) for key in keys]


def test_each_edited_copy_is_found_with_its_own_row(indexed: Settings, photo_dir: Path) -> None:
    result = ImageSearch(Catalog(indexed)).search(_originals(photo_dir, MIRRORED, FRAMED, HALF))
    found = {m.query: m for m in result.matches}
    assert {name: m.key for name, m in found.items()} == {
        f"{k}.jpg": k for k in (MIRRORED, FRAMED, HALF)
    }
    assert {m.method for m in found.values()} == {"same_image"}
    assert found[f"{MIRRORED}.jpg"].evidence_as(ImageEvidence).variant == "flip_h"
    half = found[f"{HALF}.jpg"].evidence_as(ImageEvidence)
    assert (half.variant, half.confidence) == ("original", "certain")
    assert half.distance is not None
    assert half.distance <= 10
    for match in found.values():
        evidence = match.evidence_as(ImageEvidence)
        assert evidence.threshold == 31
        assert f"{evidence.distance} of 256" in evidence.explanation


def test_single_image_json_shape(indexed: Settings, photo_dir: Path) -> None:
    path = photo_dir / f"{FRAMED}.jpg"
    args = ["--home", str(indexed.home), "search", "--image", str(path), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["query"]["kind"] == "image"
    assert data["query"]["files"] == [str(path)]
    assert (data["total"], data["not_found"], data["errors"]) == (1, [], [])
    [match] = data["matches"]
    required = {"dataset", "release", "row", "url", "method", "score", "query", "distance"}
    assert required | {"confidence", "variant", "threshold", "query_sha256"} <= set(match)
    assert (match["dataset"], match["key"], match["query"]) == ("credits", FRAMED, str(path))
    assert match["method"] == "same_image"
    assert match["confidence"] in ("certain", "likely")


def test_a_tighter_radius_drops_farther_matches(indexed: Settings, photo_dir: Path) -> None:
    files = _originals(photo_dir, MIRRORED, FRAMED, HALF)
    wide = ImageSearch(Catalog(indexed)).search(files)
    radius = min(_distance(m) for m in wide.matches)
    tight = ImageSearch(Catalog(indexed), thresholds=Thresholds(radius=radius)).search(files)
    expected = {(m.query, m.key) for m in wide.matches if _distance(m) <= radius}
    assert {(m.query, m.key) for m in tight.matches} == expected
    assert len(expected) < len(wide.matches)  # the fixture's copies differ in distance


def test_flat_image_is_never_a_same_image_match(indexed: Settings, flat_bytes: bytes) -> None:
    """A flat picture hashes with quality 0: only its exact bytes may match, never its look."""
    same_bytes = flat_bytes
    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), (128, 128, 128)).save(buffer, "PNG")
    result = ImageSearch(Catalog(indexed)).search(
        [("same.jpg", same_bytes), ("grey.png", buffer.getvalue())]
    )
    assert [(m.query, m.method, m.key) for m in result.matches] == [("same.jpg", "same_file", FLAT)]
    assert result.matches[0].evidence_as(ImageEvidence).confidence == "certain"
    # the release has rows without images, so no match is "partly searched", not "not found"
    assert result.to_json()["partly_searched"] == ["grey.png"]
    assert result.queries[1].quality is not None
    assert result.queries[1].quality < 50
    assert result.queries[1].variants == 0  # no usable hash was searched


def test_missing_single_image_is_an_error_not_a_crash(indexed: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "gone.jpg"
    args = ["--home", str(indexed.home), "search", "--image", str(missing), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output  # nothing was searched: not a success
    data = json.loads(result.stdout)  # the JSON answer still says why
    assert data["matches"] == []
    assert data["not_found"] == []
    [error] = data["errors"]
    assert error["query"] == str(missing)
    assert "no such file" in error["error"]
