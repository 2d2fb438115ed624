"""A release that arrives in two parts, a creator's photos, and the CLI to drive them.

The rows are the 18 CC-BY Flickr photos' credits (real URLs, authors, titles), split into
``part1.csv`` (9 rows) and ``part2.csv`` (9 rows) so that the second ingest adds a new
source file (a new shard) to a release already watched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from traindex.cli.main import app

PHOTOS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"

Cli = Callable[..., Any]


@pytest.fixture
def photo_dir(shared_data: Path) -> Path:
    return shared_data / PHOTOS


@pytest.fixture
def parts(tmp_path: Path, photo_dir: Path) -> tuple[Path, Path]:
    """(part 1 alone, part 2 alone): copy them into one folder to grow a release."""
    lines = (photo_dir / "credits.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    one, two = tmp_path / "part1.csv", tmp_path / "part2.csv"
    one.write_text(header + "".join(rows[:9]), encoding="utf-8")
    two.write_text(header + "".join(rows[9:]), encoding="utf-8")
    return one, two


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """``cli("watch", "list")`` runs traindex on this test's home; ``json=True`` parses."""
    runner = CliRunner()
    home = tmp_path / "home"

    def run(*args: str, json_out: bool = False, code: int = 0) -> Any:
        result = runner.invoke(app, ["--home", str(home), *args])
        assert result.exit_code == code, result.output
        return json.loads(result.stdout) if json_out else result.output

    return run
