"""``traindex nearcopy`` and ``nearcopy-index`` through the real CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from traindex.catalog.store import Catalog
from traindex.cli.main import app
from traindex.nearcopy.check import NearCopyChecker
from traindex.nearcopy.report import render_report

from .conftest import TrainingSet, edits

pytestmark = pytest.mark.shared


@pytest.fixture
def outputs(training_set: TrainingSet, tmp_path: Path) -> Path:
    folder = tmp_path / "outputs"
    folder.mkdir()
    rng = np.random.default_rng(2)
    (_name, photo), other = training_set.training[0], training_set.novel[0][1]
    (folder / "a_copy.jpg").write_bytes(edits.jpeg(edits.rerender(photo, other, rng)))
    (folder / "b_regen.jpg").write_bytes(edits.jpeg(edits.regen_photo(photo, other, rng)))
    (folder / "c_novel.jpg").write_bytes(edits.jpeg(other))
    (folder / "d_broken.png").write_bytes(b"not an image")
    return folder


def _run(training_set: TrainingSet, *args: str) -> str:
    result = CliRunner().invoke(app, ["--home", str(training_set.settings.home), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_json_per_output(training_set: TrainingSet, outputs: Path, tmp_path: Path) -> None:
    answer = json.loads(_run(training_set, "nearcopy", str(outputs), "--json", "-d", "train"))
    verdicts = {Path(r["image"]).name: r["verdict"] for r in answer["results"]}
    assert verdicts == {"a_copy.jpg": "copy", "b_regen.jpg": "near_copy", "c_novel.jpg": "novel",
                        "d_broken.png": None}  # fmt: skip
    first = answer["results"][0]
    assert first["watermark_flag"] is True  # training row 0 has pwatermark 0.9
    assert first["matches"][0]["pwatermark"] == 0.9
    assert answer["counts"] == {"copy": 1, "near_copy": 1, "similar": 0, "novel": 1, "error": 1}


def test_table_and_side_by_side_report(
    training_set: TrainingSet, outputs: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report.html"
    chosen = [str(outputs / "a_copy.jpg"), str(outputs / "b_regen.jpg")]
    printed = _run(training_set, "nearcopy", *chosen, "--report", str(report))
    assert "copy" in printed
    assert "near_copy" in printed
    assert "FLAG" in printed
    html = report.read_text()
    assert html.count("data:image/jpeg;base64,") == 4  # two outputs, two local training images
    assert not re.search(r"""(src|href)=["']?https?:""", html)  # nothing fetched from the web
    assert "watermarked source" in html
    assert "tile:" in html


def test_index_command_reports_resume(training_set: TrainingSet) -> None:
    printed = " ".join(_run(training_set, "nearcopy-index", "-d", "train").split())
    assert "0 images" in printed
    assert "1 of 1 shards already done" in printed


def test_report_never_shows_rows_flagged_unsafe(training_set: TrainingSet, outputs: Path) -> None:
    checker = NearCopyChecker.from_settings(training_set.settings)
    result = checker.check_paths([outputs / "a_copy.jpg"])
    catalog = Catalog(training_set.settings)
    shown = render_report(result, catalog, unsafe=0.5)
    hidden = render_report(result, catalog, unsafe=0.0)  # every row's punsafe (0.01) is above
    assert shown.count("data:image/jpeg;base64,") == 2
    assert hidden.count("data:image/jpeg;base64,") == 1  # the output only
    assert "no local image" in hidden


def test_cli_says_when_a_release_has_no_keypoints(training_set: TrainingSet, outputs: Path) -> None:
    printed = " ".join(_run(training_set, "nearcopy", str(outputs / "c_novel.jpg")).split())
    assert "no keypoints, so a copy pasted at an arbitrary place and scale is not found" in printed
    assert "traindex fingerprint --keypoints" in printed


def test_cli_shows_where_a_pasted_copy_sits(keypoint_set: TrainingSet, tmp_path: Path) -> None:
    canvas = keypoint_set.novel[2][1].resize((768, 768))
    pasted, box = edits.pasted_at(keypoint_set.training[0][1], canvas, scale=0.5,
                                  place=(0.5, 0.5), angle=2.0)  # fmt: skip
    path = tmp_path / "pasted.jpg"
    path.write_bytes(edits.jpeg(pasted, 80))
    answer = json.loads(_run(keypoint_set, "nearcopy", str(path), "--json"))
    region = answer["results"][0]["matches"][0]["region"]
    assert answer["results"][0]["verdict"] == "near_copy"
    assert abs(region["box"][0] - box[0]) <= 8
    assert "near_copy" in _run(keypoint_set, "nearcopy", str(path))
    report = tmp_path / "report.html"
    _run(keypoint_set, "nearcopy", str(path), "--report", str(report))
    assert '<polygon class="outline"' in report.read_text()
