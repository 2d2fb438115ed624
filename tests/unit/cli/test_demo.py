"""The demo builds a searchable catalog with and without ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from traindex.cli.main import app

runner = CliRunner()


def _search(home: Path, *args: str) -> dict[str, object]:
    result = runner.invoke(app, ["--home", str(home), "search", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def pip_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo built once without ../shared/data: (home, its output)."""
    home = tmp_path_factory.mktemp("demo") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRAINDEX_SHARED_DATA", str(home.parent / "absent"))
        result = runner.invoke(app, ["--home", str(home), "demo"])
    assert result.exit_code == 0, result.output
    return home, result.output


def test_demo_without_shared_data_uses_pip_photos(pip_demo: tuple[Path, str]) -> None:
    home, output = pip_demo
    assert "../shared/data not found" in output
    found = _search(home, "--flickr-user", "https://www.flickr.com/people/danielbuechele/")
    matches = found["matches"]
    assert isinstance(matches, list)
    assert [(m["dataset"], m["license"], m["flickr_photo_id"]) for m in matches] == [
        ("demo-photos", "CC-BY-2.0", 6061409035)
    ]
    astronaut = _search(home, "--flickr-photo", "16504233985")
    assert astronaut["total"] == 1


@pytest.mark.shared
def test_demo_with_shared_data_ingests_real_rows(tmp_path: Path, shared_data: Path) -> None:
    home = tmp_path / "home"
    result = runner.invoke(app, ["--home", str(home), "demo", "--shared", str(shared_data)])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["--home", str(home), "datasets", "--json"])
    names = {d["name"]: d for d in json.loads(listed.stdout)["datasets"]}
    assert set(names) == {"demo-photos", "laion400m-sample", "cc3m-img2dataset", "coyo700m-preview"}
    cc3m = _search(home, "--flickr-user", "sneakerdog", "--dataset", "cc3m-img2dataset")
    assert cc3m["total"] == 1
    rerun = runner.invoke(app, ["--home", str(home), "demo", "--shared", str(shared_data)])
    assert rerun.exit_code == 0
    assert "already there" in rerun.output


def test_demo_shows_crop_and_near_copy_search(pip_demo: tuple[Path, str]) -> None:
    home, output = pip_demo
    assert "Crop search" in output
    assert "1 output(s): 1 near_copy" in output
    # the region index is built, so `traindex nearcopy` works on the demo catalog
    crop = home / "demo-queries" / "crop-china.jpg"
    checked = runner.invoke(app, ["--home", str(home), "nearcopy", str(crop), "--json"])
    assert checked.exit_code == 0, checked.output
    (verdict,) = json.loads(checked.stdout)["results"]
    assert verdict["verdict"] in ("copy", "near_copy")
    assert "no region index" not in output
    assert "Not searched by image" not in output  # every demo photo is fingerprinted


@pytest.mark.shared
def test_demo_says_what_it_cannot_show_and_counts_agree(tmp_path: Path, shared_data: Path) -> None:
    home = tmp_path / "home"
    result = runner.invoke(app, ["--home", str(home), "demo", "--shared", str(shared_data)])
    assert result.exit_code == 0, result.output
    assert "Not searched by image: coyo700m-preview (7 rows), laion400m-sample (9,999 rows)" in (
        result.output
    )
    listed = runner.invoke(app, ["--home", str(home), "datasets", "--json"])
    for d in json.loads(listed.stdout)["datasets"]:
        line = next(x for x in result.output.splitlines() if x.startswith(f"  {d['name']}:"))
        failed = sum(sum(s["failed"].values()) for s in d["sources"])
        rejected = sum(s["rejected"] for s in d["sources"])
        assert f"{failed:,} failed downloads counted, {rejected:,} bad rows skipped" in line
