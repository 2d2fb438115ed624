"""Operator keys: made once, rotated, published; PDFs carry a PAdES signature by the same
identity that pyHanko's own validator accepts intact and rejects after one changed byte."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from traindex.config import Settings
from traindex.core.keyring import Keyring, check_key_list
from traindex.core.signing import SignatureError
from traindex.evidence.pades import check_pdf_signature
from traindex.server.app import create_app


def _report(
    cli: Callable[..., str],
    empty_search: dict[str, object],
    settings: Settings,
    folder: Path,
    *outs: str,
) -> Path:
    search = folder / "search.json"
    search.write_text(json.dumps(empty_search))
    args = [a for name in outs for a in ("--out", str(folder / name))]
    cli(settings, "report", "--from", str(search), *args)
    return folder / outs[0]


def test_cli_pdf_is_pades_signed_by_the_operator_key(
    cli: Callable[..., str], empty_search: dict[str, object], settings: Settings, tmp_path: Path
) -> None:
    pdf = _report(cli, empty_search, settings, tmp_path, "report.pdf")
    keys = Keyring(settings.home / "keys")
    [entry] = keys.entries()
    check = check_pdf_signature(pdf.read_bytes(), entry.pdf_certificate.encode())
    assert check.ok, check
    assert entry.fingerprint in check.signer  # the PDF names the JSON seal's key
    sealed = json.loads(pdf.with_suffix(".json").read_bytes())
    assert sealed["signature"]["key_fingerprint"] == entry.fingerprint
    data = bytearray(pdf.read_bytes())
    data[len(data) // 3] ^= 0x01
    assert not check_pdf_signature(bytes(data), entry.pdf_certificate.encode()).ok


def test_api_pdf_download_is_pades_signed(
    empty_search: dict[str, object], settings: Settings
) -> None:
    client = TestClient(create_app(settings))
    made = client.post("/api/evidence/report", json={"search": empty_search, "format": "pdf"})
    assert made.status_code == 200
    [entry] = client.get("/.well-known/traindex-keys.json").json()["keys"]
    assert check_pdf_signature(made.content, entry["pdf_certificate"].encode()).ok


def test_rotation_keeps_old_reports_verifiable(
    cli: Callable[..., str], empty_search: dict[str, object], settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = _report(cli, empty_search, settings, tmp_path / "old", "report.json")
    before = json.loads(cli(settings, "keys", "show", "--json"))["fingerprint"]
    assert before in cli(settings, "keys", "rotate")
    after = json.loads(cli(settings, "keys", "show", "--json"))["fingerprint"]
    assert after != before
    assert "rotated out" in cli(settings, "report", "verify", str(old))
    new = _report(cli, empty_search, settings, tmp_path / "new", "report.json")
    output = cli(settings, "report", "verify", str(new))
    assert "this server's key" in output
    assert "rotated" not in output
    listed = TestClient(create_app(settings)).get("/.well-known/traindex-keys.json").json()
    assert [(k["fingerprint"], k["retired_at"] is None) for k in listed["keys"]] == [
        (before, False),
        (after, True),
    ]
    assert len(check_key_list(listed)) == 2


def test_key_list_with_swapped_certificate_is_refused(settings: Settings) -> None:
    document = Keyring(settings.home / "keys").document()
    other = Keyring(settings.home / "other").document()
    document["keys"][0]["pdf_certificate"] = other["keys"][0]["pdf_certificate"]
    with pytest.raises(SignatureError, match="certificate"):
        check_key_list(document)
    document["keys"][0]["pdf_certificate_sha256"] = other["keys"][0]["pdf_certificate_sha256"]
    with pytest.raises(SignatureError, match="signature does not match"):
        check_key_list(document)  # the binding was signed for the original certificate


def test_report_verify_checks_a_pdf_against_the_key_lists(
    cli: Callable[..., str], empty_search: dict[str, object], settings: Settings, tmp_path: Path
) -> None:
    pdf = _report(cli, empty_search, settings, tmp_path, "report.pdf")
    assert "this server's key" in cli(settings, "report", "verify", str(pdf))
    changed = tmp_path / "changed.pdf"
    data = bytearray(pdf.read_bytes())
    data[len(data) // 3] ^= 0x01
    changed.write_bytes(bytes(data))
    assert "changed after it was signed" in cli(settings, "report", "verify", str(changed), code=1)
    stranger = Settings(home=tmp_path / "stranger")
    assert "not by a certificate in a trusted key list" in cli(
        stranger, "report", "verify", str(pdf), code=1
    )
    keys = tmp_path / "operator-keys.json"
    keys.write_text(cli(settings, "keys", "list", "--json"))
    output = cli(stranger, "report", "verify", str(pdf), "--keys", str(keys))
    assert "key list operator-keys.json" in output
