"""Portfolio search over bad input: every bad file is a per-file error; the run goes on.

Through the CLI (``traindex search --images DIR``, Typer's runner, in-process) and through
the library (``ImageSearch.search_paths``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from traindex.catalog.store import Catalog
from traindex.cli.main import app
from traindex.config import Settings
from traindex.search.images import ImageSearch

pytestmark = pytest.mark.shared

runner = CliRunner()


def _portfolio(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def _check_answer(data: dict[str, object], folder: Path, expected: dict[str, str]) -> None:
    errors = {Path(e["query"]).name: e["error"] for e in data["errors"]}  # type: ignore[attr-defined]
    assert set(errors) == set(expected)
    for name, words in expected.items():
        assert words in errors[name], (name, errors[name])
        assert str(folder / name) in errors[name]  # the message names the file itself
    # 14 of the 18 rows have no image: a file without a match was compared with only part
    # of the release, so it is "partly searched", never "not found"
    assert data["not_found"] == []
    assert [Path(n).name for n in data["partly_searched"]] == ["y-unrelated.jpg"]  # type: ignore[attr-defined]
    [match] = data["matches"]  # type: ignore[misc]
    assert match["query"] == str(folder / "x-mine.jpg")
    assert (match["method"], match["key"]) == ("same_image", "0006400c1c224e19")
    assert match["variant"] == "flip_h"  # the dataset copy is mirrored
    assert match["confidence"] in ("certain", "likely")
    assert 0 <= match["distance"] <= data["query"]["threshold"]  # type: ignore[index]


def test_cli_reports_each_bad_file_and_keeps_going(
    indexed: Settings, bad_folder: Path, bad_files: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "answer.json"
    args = ["--home", str(indexed.home), "search", "--images", str(bad_folder)]
    result = runner.invoke(app, [*args, "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    _check_answer(data, bad_folder, bad_files)
    assert json.loads(out.read_text()) == data
    assert data["query"]["files"] == [str(p) for p in _portfolio(bad_folder)]


def test_cli_summary_names_unreadable_files(
    indexed: Settings, bad_folder: Path, bad_files: dict[str, str]
) -> None:
    args = ["--home", str(indexed.home), "search", "--images", str(bad_folder)]
    result = runner.invoke(app, args, env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert (
        "12 image(s) searched: 1 found, 0 not found, 1 partly searched, 10 unreadable"
        in result.output
    )
    for name in bad_files:
        assert name in result.output


def test_library_keeps_input_order_and_reports_errors(
    indexed: Settings, bad_folder: Path, bad_files: dict[str, str]
) -> None:
    paths = _portfolio(bad_folder)
    progress: list[int] = []
    result = ImageSearch(Catalog(indexed)).search_paths(paths, batch=3, on_progress=progress.append)
    assert [q.name for q in result.queries] == [str(p) for p in paths]
    assert sum(progress) == len(paths)
    assert all(q.error is None for q in result.queries if Path(q.name).name.startswith("x"))
    _check_answer(result.to_json(), bad_folder, bad_files)


def test_bad_bytes_through_search(indexed: Settings) -> None:
    """``search`` (bytes in, as the web API uses it) gives the same per-file errors."""
    files = [("empty", b""), ("html", b"<html><body>x</body></html>"), ("junk", b"\x00" * 99)]
    result = ImageSearch(Catalog(indexed)).search(files)
    assert result.matches == []
    errors = {e["query"]: e["error"] for e in result.to_json()["errors"]}
    assert set(errors) == {"empty", "html", "junk"}
    assert "empty" in errors["empty"]
    assert "markup" in errors["html"]
    assert result.to_json()["not_found"] == []


def test_batches_are_bounded_by_files_and_bytes(
    indexed: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A portfolio never holds more than one batch of file contents in memory."""
    paths = []
    for i in range(10):
        path = tmp_path / f"{i}.jpg"
        path.write_bytes(b"\xff" * (1000 * (i + 1)))
        paths.append(path)
    search = ImageSearch(Catalog(indexed))
    seen: list[list[int]] = []
    original = search.search

    def spy(files, **kwargs):  # type: ignore[no-untyped-def]
        seen.append([len(data) for _, data in files])
        return original(files, **kwargs)

    monkeypatch.setattr(search, "search", spy)
    result = search.search_paths(paths, batch=4, batch_bytes=5_000)
    assert len(result.queries) == 10
    assert len(result.to_json()["errors"]) == 10
    assert sorted(size for sizes in seen for size in sizes) == [1000 * (i + 1) for i in range(10)]
    for sizes in seen:  # a batch closes at 4 files, or as soon as it holds >= 5,000 bytes
        assert len(sizes) <= 4
        assert sum(sizes[:-1]) < 5_000


@pytest.mark.slow
def test_hundred_thousand_files(indexed: Settings, tmp_path: Path) -> None:
    """100k tiny files: one clear error each, nothing skipped, the real photo still found."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(100_000):
        (folder / f"{i:06d}.jpg").touch()
    photo = next(Path(indexed.home).parent.glob("images/0006400c1c224e19.jpg"))
    (folder / "zz-mine.jpg").write_bytes(photo.read_bytes())
    args = ["--home", str(indexed.home), "search", "--images", str(folder), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output[-2000:]
    data = json.loads(result.stdout)
    assert len(data["query"]["files"]) == 100_001
    assert len(data["errors"]) == 100_000
    assert all("empty file" in e["error"] for e in data["errors"])
    assert [Path(m["query"]).name for m in data["matches"]] == ["zz-mine.jpg"]
    assert data["matches"][0]["method"] == "same_file"
