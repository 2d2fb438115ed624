"""Watches fire once and only once per (watch, row) across repeated ingests and runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.unit.watch.conftest import Cli

pytestmark = pytest.mark.shared


def _rows(cli: Cli) -> list[tuple[str, str, int]]:
    found = cli("watch", "alerts", "--json", json_out=True)["alerts"]
    return [(a["watch"], a["match"]["shard"], a["match"]["row"]) for a in found]


def test_new_shards_alert_once_across_repeated_ingests(
    cli: Cli, parts: tuple[Path, Path], tmp_path: Path
) -> None:
    one, two = parts
    release = tmp_path / "release"
    release.mkdir()
    shutil.copy(one, release / "part1.csv")
    cli("ingest", str(release), "-d", "cc", "-r", "v1")
    added = cli("watch", "add", "--domain", "staticflickr.com")
    assert "9 new row(s)" in added
    domain = cli("watch", "list", "--json", json_out=True)[0]["id"]
    cli("watch", "add", "--text", "Laugharne Castle", "--no-run")  # part 1, row 3
    cli("watch", "add", "--flickr-user", "https://www.flickr.com/people/oldrebel/", "--no-run")

    # a new part of the release arrives: only its rows are new for the domain watch, and
    # the watches added with --no-run see the whole release for the first time
    shutil.copy(two, release / "part2.csv")
    out = cli("ingest", str(release), "-d", "cc", "-r", "v1")
    assert "watches: 11 new alert(s)" in out
    first = _rows(cli)
    assert len(first) == len(set(first)) == 18 + 1 + 1
    assert {s for w, s, _ in first if w == domain} == {"part1.csv", "part2.csv"}

    # again and again: nothing is new, nothing is recorded or announced twice
    out = cli("ingest", str(release), "-d", "cc", "-r", "v1")
    assert "watches: 0 new alert(s)" in out
    assert cli("watch", "run", "--json", json_out=True)["runs"][0]["new_alerts"] == 0
    cli("watch", "run")
    assert _rows(cli) == first

    # a new release of the same dataset (LAION's next version) is new in full
    out = cli("ingest", str(release), "-d", "cc", "-r", "v2")
    assert "watches: 20 new alert(s)" in out
    assert len(_rows(cli)) == 40


def test_alerts_carry_the_row_and_its_links(cli: Cli, parts: tuple[Path, Path]) -> None:
    cli("ingest", str(parts[0]), "-d", "cc")
    cli("watch", "add", "--text", "Laugharne Castle")
    [alert] = cli("watch", "alerts", "--json", json_out=True)["alerts"]
    match = alert["match"]
    assert (match["dataset"], match["release"], match["shard"], match["row"]) == (
        "cc", "main", "part1.csv", 3,
    )  # fmt: skip
    assert match["method"] == "text"
    links = alert["links"]
    assert links["row"] == "http://127.0.0.1:8000/rows/cc/main?shard=part1.csv&row=3"
    assert links["report"] == f"http://127.0.0.1:8000/watches/alerts/{alert['id']}#report"
    assert links["claim"].startswith("http://127.0.0.1:8000/claims/new?kind=url&value=https")


def test_bad_watches_are_refused_and_nothing_is_saved(cli: Cli, tmp_path: Path) -> None:
    assert "public suffix" in cli("watch", "add", "--domain", "co.uk", code=2)
    assert "not a folder" in cli("watch", "add", "--images", str(tmp_path / "none"), code=2)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no image files" in cli("watch", "add", "--images", str(empty), code=2)
    both = cli("watch", "add", "--domain", "a.com", "--text", "x", code=2)
    assert "exactly one" in both
    assert cli("watch", "list", "--json", json_out=True) == []


def test_remove_forgets_the_watch_and_its_alerts(cli: Cli, parts: tuple[Path, Path]) -> None:
    cli("ingest", str(parts[0]), "-d", "cc")
    cli("watch", "add", "--domain", "staticflickr.com")
    [watch] = cli("watch", "list", "--json", json_out=True)
    assert watch["alerts"] == 9
    cli("watch", "remove", watch["id"])
    assert cli("watch", "list", "--json", json_out=True) == []
    assert cli("watch", "alerts", "--json", json_out=True)["alerts"] == []


def test_edit_changes_where_alerts_go_and_keeps_what_was_found(
    cli: Cli, parts: tuple[Path, Path]
) -> None:
    cli("ingest", str(parts[0]), "-d", "cc")
    cli("watch", "add", "--domain", "staticflickr.com", "--email", "old@example.org")
    [before] = cli("watch", "list", "--json", json_out=True)
    out = cli("watch", "edit", before["id"], "--email", "new@example.org")
    assert "now tells: new@example.org" in out
    [after] = cli("watch", "list", "--json", json_out=True)
    assert after == before | {"email": "new@example.org"}  # same id, search and alerts
    assert "at least one of" in cli("watch", "edit", before["id"], code=2)
    assert "not an e-mail address" in cli("watch", "edit", before["id"], "--email", "x", code=2)
    assert "no watch" in cli("watch", "edit", "nope", "--email", "a@example.org", code=2)
    assert cli("watch", "list", "--json", json_out=True) == [after]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--domain", "flickr.com"),
        ("--text", "wedding dress"),
        ("--url-prefix", "https://i.pinimg.com/"),
    ],
)
def test_a_watch_finds_exactly_what_search_finds(
    cli: Cli, shared_data: Path, option: str, value: str
) -> None:
    """On 9,999 real LAION-400M rows: the rows a watch records are the rows `search` lists."""
    laion = shared_data / "img2dataset/tests/test_files/test_10000.parquet"
    cli("ingest", str(laion), "-d", "laion", "-r", "sample")
    cli("watch", "add", option, value)
    answer = cli("search", option, value, "--limit", "10000", "--json", json_out=True)
    searched = {(m["shard"], m["row"]) for m in answer["matches"]}
    assert len(searched) == answer["total"] > 0
    rows = _rows_of(cli)
    assert len(rows) == len(set(rows))
    assert set(rows) == searched


def _rows_of(cli: Cli) -> list[tuple[str, int]]:
    return [(s, r) for _, s, r in _rows(cli)]
