"""A portfolio report lists each dataset row once, with every file that matched it, and
never the sender's local paths (file name and SHA-256 only)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from traindex.cli.main import app
from traindex.config import Settings
from traindex.demo import demo_images

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def seven_files(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Six copies of one photo (same bytes in three folders, one with the same name,
    resized and re-encoded) and one other photo: seven files, two distinct dataset rows."""
    images = demo_images(demo_settings)
    home = tmp_path_factory.mktemp("home") / "me" / "photos"
    files = []
    for i, folder in enumerate(("2019", "2020", "backup")):
        (home / folder).mkdir(parents=True)
        files.append(shutil.copy(images / "china.jpg", home / folder / "china.jpg"))
        with Image.open(images / "china.jpg") as image:
            small = home / folder / f"china-{i}.jpg"
            image.resize((image.width * 3 // 4, image.height * 3 // 4)).save(small, quality=70)
            files.append(small)
    files.append(shutil.copy(images / "flower.jpg", home / "2019" / "flower.jpg"))
    return [Path(f) for f in files]


def test_each_row_once_with_every_file_that_matched_it(
    demo_settings: Settings, seven_files: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    letter = tmp_path / "letter.md"
    runner = CliRunner()
    folder = seven_files[0].parent.parent
    args = ["--home", str(demo_settings.home), "report", "--images", str(folder)]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_bytes())["report"]
    rows = [(m["dataset"], m["release"], m["source_file"], m["row"]) for m in report["matches"]]
    assert len(rows) == len(set(rows))
    china = next(m for m in report["matches"] if m["url"].endswith("/6061409035/"))
    by = {(q["query"], q["query_image"]["sha256"]) for q in china["matched_by"]}
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in seven_files[:6]}
    assert {sha for _, sha in by} == digests
    assert {name for name, _ in by} == {
        "china.jpg", "china.jpg (2)", "china.jpg (3)", "china-0.jpg", "china-1.jpg", "china-2.jpg"
    }  # fmt: skip
    assert china["confidence"] == "certain"  # the most certain of its matches is on top
    letter_args = ["letter", "--report", str(out), "--kind", "gdpr-access", "--out", str(letter)]
    answer = runner.invoke(app, ["--home", str(demo_settings.home), *letter_args])
    assert answer.exit_code == 0, answer.output
    assert f"Evidence: {len(set(rows))} matching dataset row(s)" in letter.read_text()


@pytest.mark.parametrize("fmt", ["json", "html", "csv"])
def test_reports_never_show_local_paths(
    demo_settings: Settings, seven_files: list[Path], tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"report.{fmt}"
    folder = tmp_path / "home" / "me" / "photos"
    folder.mkdir(parents=True)
    for path in seven_files[:2]:
        shutil.copy(path, folder / path.name)
    (folder / "gone.jpg").symlink_to(folder / "deleted.jpg")  # listed, unreadable
    args = ["--home", str(demo_settings.home), "report", "--images", str(folder)]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "gone.jpg" in text
    assert "china.jpg" in text
    assert str(folder) not in text
    assert "/me/photos" not in text
