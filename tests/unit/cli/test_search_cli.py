"""The CLI's JSON contract and exit codes (through Typer's runner, in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

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


def test_search_json_contract(home: Path) -> None:
    result = runner.invoke(app, ["--home", str(home), "search", "--text", "wedding", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"query", "matches"}
    assert data["matches"], "the LAION sample has wedding captions"
    for match in data["matches"]:
        assert {"dataset", "release", "row", "url", "caption", "license", "method", "score"} <= set(
            match
        )
        assert match["method"] == "text"
        assert "wedding" in match["matched_terms"]
        assert "wedding" in match["caption"].lower()


def test_url_round_trip_and_datasets(home: Path, shared_data: Path) -> None:
    import pyarrow.parquet as pq

    row = pq.read_table(shared_data / "img2dataset/tests/test_files/test_1000.parquet").slice(17, 1)
    url = row.column("URL")[0].as_py()
    result = runner.invoke(app, ["--home", str(home), "search", "--url", url, "--json"])
    data = json.loads(result.stdout)
    assert [(m["row"], m["method"]) for m in data["matches"]][:1] == [(17, "exact_url")]
    listed = runner.invoke(app, ["--home", str(home), "datasets", "--json"])
    assert json.loads(listed.stdout)["datasets"][0]["name"] == "laion400m"


def test_user_errors_exit_2_without_traceback(home: Path) -> None:
    result = runner.invoke(app, ["--home", str(home), "search", "--domain", "co.uk"])
    assert result.exit_code == 2
    assert "public suffix" in result.output
    result = runner.invoke(app, ["--home", str(home), "search", "--url", "x", "--text", "y"])
    assert result.exit_code == 2
    missing = runner.invoke(app, ["--home", str(home), "search", "--text", "a", "-d", "nope"])
    assert missing.exit_code == 2
    assert "no dataset 'nope'" in missing.output
