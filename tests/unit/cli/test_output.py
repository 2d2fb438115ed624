"""What the CLI prints: whole values when piped, "…" plus a note on a narrow terminal,
a plain "nothing found" naming what was searched, clean help, one-line errors."""

from __future__ import annotations

import io
import json
import re
import types
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from traindex.catalog.store import Catalog
from traindex.cli import common
from traindex.cli.commands.search import print_result
from traindex.cli.main import app
from traindex.core.matches import Match, SearchResult
from traindex.jobs.ray import connect_ray

runner = CliRunner()
LONG = "http://farm1.staticflickr.com/1/" + "danielbuechele-" * 8 + "60614_abc.jpg"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "rows.parquet"
    urls = [LONG, "https://example.com/a.jpg"]
    pq.write_table(pa.table({"url": urls, "caption": ["a kitten", "a red bicycle"]}), path)
    home = tmp_path / "home"
    result = runner.invoke(
        app, ["--home", str(home), "ingest", str(path), "-d", "t", "-f", "table"]
    )
    assert result.exit_code == 0, result.output
    return home


def test_piped_tables_print_whole_urls_on_one_line(home: Path) -> None:
    result = runner.invoke(app, ["--home", str(home), "search", "--domain", "staticflickr.com"])
    assert result.exit_code == 0, result.output
    assert any(LONG in line for line in result.output.splitlines())


def test_narrow_terminal_prints_rows_as_blocks_with_whole_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    terminal = Console(file=out, width=60, force_terminal=True, color_system=None)
    monkeypatch.setattr(common, "console", terminal)
    match = Match("t", "main", "rows.parquet", 0, LONG, "a kitten", None, None, None, "domain", 1)
    query = {"kind": "domain", "value": "staticflickr.com", "offset": 0}
    print_result(SearchResult(query=query, matches=[match], total=1))
    lines = out.getvalue().splitlines()
    assert f"  url: {LONG}" in lines  # whole, on one line: the terminal wraps it, not Rich
    assert "  file:row: rows.parquet:0" in lines
    assert "…" not in out.getvalue()


def test_tables_that_fit_stay_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(common, "console", Console(file=out, width=400, force_terminal=True))
    match = Match("t", "main", "r.parquet", 0, LONG, "a kitten", None, None, None, "domain", 1)
    query = {"kind": "domain", "value": "x", "offset": 0}
    print_result(SearchResult(query=query, matches=[match], total=1))
    assert "┏" in out.getvalue()


def test_nothing_found_says_what_was_searched(home: Path) -> None:
    result = runner.invoke(app, ["--home", str(home), "search", "--url", "https://nope.org/x"])
    assert result.exit_code == 0
    assert result.output.startswith("nothing found: no row of t/main (2 rows searched)")
    assert "'https://nope.org/x' (and 'http://nope.org/x')" in result.output
    assert "┏" not in result.output  # no empty table
    empty = runner.invoke(app, ["--home", str(home / "none"), "search", "--text", "kitten"])
    assert empty.output.startswith("nothing searched for text 'kitten': no dataset is ingested")


def test_other_scheme_match_is_marked(home: Path) -> None:
    https = "https" + LONG[len("http") :]
    result = runner.invoke(app, ["--home", str(home), "search", "--url", https])
    assert "exact_url (as http)" in result.output
    data = json.loads(
        runner.invoke(app, ["--home", str(home), "search", "--url", https, "--json"]).stdout
    )
    assert data["query"]["also_searched"] == LONG
    assert [m["matched_url_form"] for m in data["matches"]] == ["other_scheme"]


def test_missing_image_file_exits_2(home: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--home", str(home), "search", "--image", str(tmp_path / "nonexistent.jpg")]
    )
    assert result.exit_code == 2
    assert "error: no image could be read" in result.output
    assert "no such file (file " in result.output


def _commands(group: typer.Typer, prefix: list[str]) -> list[list[str]]:
    found = [prefix]
    click_group = typer.main.get_command(group)
    for name, command in getattr(click_group, "commands", {}).items():
        sub = getattr(command, "commands", None)
        found.extend([[*prefix, name, s] for s in sub] if sub else [[*prefix, name]])
        if sub:
            found.append([*prefix, name])
    return found


def test_help_has_no_type_artefacts_on_flags() -> None:
    for args in _commands(app, []):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)
        assert not re.search(r"--[a-z-]+ +<bool>", result.output), (args, result.output)


def test_malformed_check_url_is_one_line_exit_2() -> None:
    result = runner.invoke(app, ["check", "http://[::1]:99999/"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        "error: cannot check 'http://[::1]:99999/': port 99999 is out of range (1-65535)"
    ]


def test_registry_list_shows_owner_names_and_whole_claim_ids(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "home")]
    added = runner.invoke(
        app,
        [*home, "registry", "add-claim", "--owner", "Ada Example", "--domain", "example.com",
         "--json"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    claim_id = json.loads(added.stdout)["id"]
    listed = runner.invoke(app, [*home, "registry", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Ada Example" in listed.output
    assert claim_id in listed.output
    as_json = json.loads(runner.invoke(app, [*home, "registry", "list", "--json"]).stdout)
    assert as_json["claims"][0]["owner"] == "Ada Example"


def test_what_ray_prints_after_joining_stays_off_the_answer(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ray's driver prints cluster events ("node ... marked dead") to sys.stdout from a thread
    # of its own; a fake Ray whose init does nothing stands for the join here.
    fake_ray = types.ModuleType("ray")
    fake_ray.init = lambda **_: None  # type: ignore[attr-defined]
    releases = Catalog.releases
    replaced = []  # held, as the fan-out holds it: CliRunner's stdout closes when dropped

    def join_then_chatter(catalog: Catalog) -> object:
        replaced.append(connect_ray(fake_ray, address="127.0.0.1:6379"))
        print("(raylet) The node with node id: 1234 has been marked dead")
        return releases(catalog)

    monkeypatch.setattr(Catalog, "releases", join_then_chatter)
    result = runner.invoke(app, ["--home", str(home), "datasets", "--json"])
    assert result.exit_code == 0, result.output
    assert [d["name"] for d in json.loads(result.stdout)["datasets"]] == ["t"]
    assert "marked dead" in result.stderr
