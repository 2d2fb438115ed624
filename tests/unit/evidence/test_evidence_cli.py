"""`traindex report`, `report verify`, `keys show`, `letter` and `licenses` end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from traindex.cli.main import app
from traindex.config import Settings

pytestmark = pytest.mark.shared

runner = CliRunner()


def _run(settings: Settings, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, ["--home", str(settings.home), *args])
    assert result.exit_code == code, result.output
    return result.output


def test_report_from_search_json_verifies_and_tampering_is_caught(
    demo_settings: Settings, tmp_path: Path
) -> None:
    search = tmp_path / "search.json"
    _run(demo_settings, "search", "--flickr-user", "sneakerdog", "--out", str(search))
    out = tmp_path / "report.csv"
    _run(
        demo_settings, "report", "--from", str(search), "--out", str(out), "--requested-by", "Jane"
    )
    signed = out.with_suffix(".json")  # the signed JSON is always written alongside
    [row] = list(csv.DictReader(out.open(encoding="utf-8")))
    assert row["caption"] == "Fireworks and Morey's Pier in North Wildwood July 2007"
    key = json.loads(_run(demo_settings, "keys", "show", "--json"))
    assert "verified" in _run(
        demo_settings, "report", "verify", str(signed), "--pubkey", key["public_key"]
    )
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(signed.read_bytes().replace(b'"row":1', b'"row":2'))
    output = _run(demo_settings, "report", "verify", str(tampered), code=1)
    assert "NOT VERIFIED" in output
    assert "edited" in output
    letter = tmp_path / "letter.md"
    _run(
        demo_settings,
        "letter",
        "--report",
        str(tampered),
        "--kind",
        "removal",
        "--out",
        str(letter),
        code=2,
    )
    assert not letter.exists()
    _run(
        demo_settings,
        "letter",
        "--report",
        str(signed),
        "--kind",
        "gdpr-access",
        "--lang",
        "de",
        "--out",
        str(letter),
    )
    assert "Art. 15 DSGVO" in letter.read_text(encoding="utf-8")


def test_key_is_created_once_with_private_mode(settings: Settings) -> None:
    first = json.loads(_run(settings, "keys", "show", "--json"))
    assert json.loads(_run(settings, "keys", "show", "--json")) == first
    assert Path(first["private_key_file"]).stat().st_mode & 0o777 == 0o600


def test_report_from_image_writes_every_format(
    demo_settings: Settings, portfolio: list[Path], tmp_path: Path
) -> None:
    outs = [tmp_path / f"r.{ext}" for ext in ("json", "html")]
    _run(
        demo_settings,
        "report",
        "--image",
        str(portfolio[2]),
        *[a for o in outs for a in ("--out", str(o))],
    )
    body = json.loads(outs[0].read_bytes())["report"]
    assert [m["method"] for m in body["matches"]] == ["same image"]
    assert body["matches"][0]["dataset_image"]["pdq"] in outs[1].read_text(encoding="utf-8")
    _run(
        demo_settings,
        "report",
        "--image",
        str(portfolio[2]),
        "--text",
        "x",
        "--out",
        str(outs[0]),
        code=2,
    )


def test_licenses_command_writes_attribution_list(demo_settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "credits.csv"
    output = _run(
        demo_settings, "licenses", "-d", "cc3m-img2dataset", "--attribution-list", str(target)
    )
    assert "100.0% licensed for commercial use" in output
    assert len(list(csv.DictReader(target.open(encoding="utf-8")))) == 18
    audit = json.loads(_run(demo_settings, "licenses", "-d", "laion400m-sample", "--json"))
    assert audit[0]["by_family"] == {"unknown": 9999}
    _run(demo_settings, "licenses", "-d", "no-such-dataset", code=2)
