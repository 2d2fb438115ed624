"""``traindex registry ...`` and ``traindex filter`` through the real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from traindex.cli.main import app


def _run(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--home", str(home), *args])
    return result.exit_code, result.stdout


def test_registry_admin_cli_round_trip(tmp_path: Path, shared_data: Path) -> None:
    home = tmp_path / "home"
    code, out = _run(
        home,
        "registry",
        "add-claim",
        "--owner",
        "agency",
        "--domain",
        "dreamstime.com",
        "--terms",
        "do_not_train",
        "--verified",
        "--json",
    )
    assert code == 0, out
    claim = json.loads(out)
    assert claim["status"] == "verified"
    code, out = _run(home, "registry", "add-claim", "--owner", "agency", "--domain", "co.uk")
    assert code == 2
    code, out = _run(home, "registry", "list", "--json")
    assert [c["id"] for c in json.loads(out)["claims"]] == [claim["id"]]
    code, out = _run(
        home,
        "registry",
        "check",
        "https://www.dreamstime.com/x.jpg",
        "https://example.org/",
        "--json",
    )
    decisions = json.loads(out)["decisions"]
    assert [d["decision"] for d in decisions] == ["do_not_train", "unknown"]
    snap = tmp_path / "snap"
    code, out = _run(home, "registry", "snapshot", "--out", str(snap))
    assert code == 0, out
    pubkey = json.loads((snap / "manifest.json").read_text())["public_key"]
    assert _run(home, "registry", "verify-snapshot", str(snap), "--pubkey", pubkey)[0] == 0
    other_key = "11" * 32
    assert _run(home, "registry", "verify-snapshot", str(snap), "--pubkey", other_key)[0] == 2
    src = shared_data / "img2dataset" / "tests" / "test_files" / "test_1000.parquet"
    out_file, log = tmp_path / "out.parquet", tmp_path / "removed.parquet"
    code, out = _run(
        home,
        "filter",
        str(src),
        "--out",
        str(out_file),
        "--registry",
        str(snap),
        "--pubkey",
        pubkey,
        "--log",
        str(log),
        "--json",
    )
    assert code == 0, out
    (summary,) = json.loads(out)["files"]
    removed = pq.read_table(log)
    assert summary["rows"] - summary["kept"] == removed.num_rows > 0
    assert set(removed.column("source").to_pylist()) == {claim["id"]}
    assert pq.read_table(out_file).num_rows == summary["kept"]
