"""Each CLI run builds its services once, in ``bootstrap.Services`` (``ctx.obj``): one
``Catalog`` per run whatever the command searches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from traindex.catalog.store import Catalog
from traindex.cli.main import app

pytestmark = pytest.mark.shared

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, shared_data: Path) -> Path:
    home = tmp_path / "home"
    source = shared_data / "img2dataset/tests/test_files/test_1000.parquet"
    result = runner.invoke(app, ["--home", str(home), "ingest", str(source), "-d", "laion400m"])
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[Catalog]:
    """Every ``Catalog`` constructed from now on (the real class, counted)."""
    made: list[Catalog] = []
    original = Catalog.__init__

    def counting(self: Catalog, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(Catalog, "__init__", counting)
    return made


@pytest.mark.parametrize(
    "command",
    [
        ["search", "--text", "wedding", "--json"],
        ["search", "--domain", "staticflickr.com", "--json"],
        ["datasets", "--json"],
        ["search", "--image", "PHOTO", "--json"],
    ],
)
def test_one_catalog_per_run(
    home: Path, built: list[Catalog], command: list[str], shared_data: Path
) -> None:
    photo = shared_data / "clip-retrieval/tests/test_clip_inference/test_images/416_264.jpg"
    args = [str(photo) if a == "PHOTO" else a for a in command]
    result = runner.invoke(app, ["--home", str(home), *args])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)  # a real answer was printed
    assert len(built) == 1
    assert built[0].root == home / "datasets"
