"""``traindex ingest`` on the real LAION-400M sample: bad rows are skipped and logged by
default (row 4674's URL column holds "UNLIKELY"); ``--strict`` stops and names the option."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from traindex.cli.main import app

pytestmark = pytest.mark.shared

runner = CliRunner()


def _laion(shared_data: Path) -> str:
    return str(shared_data / "img2dataset/tests/test_files/test_10000.parquet")


def test_default_skips_and_logs_bad_rows(tmp_path: Path, shared_data: Path) -> None:
    home = tmp_path / "home"
    result = runner.invoke(app, ["--home", str(home), "ingest", _laion(shared_data), "-d", "l"])
    assert result.exit_code == 0, result.output
    logged = home / "datasets/l/main/rejected"
    assert "9,999 new rows searchable" in result.output
    assert "1 bad row(s) skipped" in result.output
    assert str(logged) in result.output
    (entry,) = pq.read_table(logged / "00000.parquet").to_pylist()
    assert (entry["row"], entry["column"]) == (4674, "url")
    assert "UNLIKELY" in entry["reason"]


def test_strict_stops_and_names_skip_bad_rows(tmp_path: Path, shared_data: Path) -> None:
    args = ["--home", str(tmp_path / "home"), "ingest", _laion(shared_data), "-d", "l"]
    result = runner.invoke(app, [*args, "--strict"])
    assert result.exit_code == 2
    assert "row 4674" in result.output
    assert "--skip-bad-rows" in result.output
    assert "Traceback" not in result.output


def test_help_shows_the_pair_without_type_artefacts() -> None:
    result = runner.invoke(app, ["ingest", "--help"])
    assert "--skip-bad-rows / --strict" in result.output
    assert "<bool>" not in result.output
