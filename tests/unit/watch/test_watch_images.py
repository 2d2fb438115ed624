"""Image watches: "not searched" over rows never fingerprinted, alerts once fingerprinted."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from tests.unit.watch.conftest import Cli

pytestmark = pytest.mark.shared

MINE = ("0006400c1c224e19", "000adef7197e3118")  # rows 0 and 1 of part 1
OTHER = "0053e4fc02b27650"  # row 5 of part 1: not one of the creator's photos


def _dataset_images(photo_dir: Path, folder: Path) -> Path:
    """The dataset's images: the creator's first photo mirrored and re-encoded (an edited
    copy, found by PDQ), the second byte for byte (same file), and an unrelated photo."""
    folder.mkdir()
    with Image.open(photo_dir / f"{MINE[0]}.jpg") as image:
        edited = io.BytesIO()
        ImageOps.mirror(image.convert("RGB")).save(edited, "JPEG", quality=80)
    (folder / f"{MINE[0]}.jpg").write_bytes(edited.getvalue())
    shutil.copy(photo_dir / f"{MINE[1]}.jpg", folder)
    shutil.copy(photo_dir / f"{OTHER}.jpg", folder)
    return folder


def test_not_searched_until_fingerprinted_then_found_once(
    cli: Cli, parts: tuple[Path, Path], photo_dir: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "portfolio"
    mine.mkdir()
    for key in MINE:
        shutil.copy(photo_dir / f"{key}.jpg", mine)
    cli("ingest", str(parts[0]), "-d", "cc")
    out = cli("watch", "add", "--images", str(mine))
    assert "not searched: none of its 9 rows has been fingerprinted (sha256, pdq, keypoints)" in out
    answer = cli("watch", "alerts", "--json", json_out=True)
    assert answer["alerts"] == []
    [gap] = answer["not_searched"]
    assert (gap["dataset"], gap["release"], gap["state"], gap["rows_searched"]) == (
        "cc", "main", "not searched", 0,
    )  # fmt: skip
    assert "not searched" in cli("watch", "alerts")

    images = _dataset_images(photo_dir, tmp_path / "dataset-images")
    out = cli("fingerprint", "-d", "cc", "--images", str(images))
    assert "2 new row(s)" in out
    answer = cli("watch", "alerts", "--json", json_out=True)
    found = {a["match"]["row"]: a["match"] for a in answer["alerts"]}
    assert sorted(found) == [0, 1]  # the unrelated photo (row 5) is not an alert
    assert found[0]["method"] == "same_image"
    assert found[0]["variant"] != "original"
    assert found[1]["method"] == "same_file"
    # 3 of 9 rows have images: the answer says "partly searched", never "not found"
    [gap] = answer["not_searched"]
    assert (gap["state"], gap["rows_searched"]) == ("partly searched", 3)

    cli("fingerprint", "-d", "cc", "--images", str(images))
    cli("watch", "run")
    assert len(cli("watch", "alerts", "--json", json_out=True)["alerts"]) == 2


def test_a_gone_folder_is_reported_not_silent(
    cli: Cli, parts: tuple[Path, Path], photo_dir: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "portfolio"
    mine.mkdir()
    shutil.copy(photo_dir / f"{MINE[0]}.jpg", mine)
    cli("watch", "add", "--images", str(mine))
    shutil.rmtree(mine)
    out = cli("ingest", str(parts[0]), "-d", "cc")
    assert "image folder is gone" in out
    runs = cli("watch", "run", "--json", json_out=True)["runs"]
    assert "image folder is gone" in runs[0]["error"]
