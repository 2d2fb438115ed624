"""Reports timestamped by an RFC 3161 authority on loopback: the JSON names which authority
vouched for which time, a wrong authority is refused, and the PDF signature carries a token."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

from traindex.config import Settings
from traindex.core.keyring import Keyring
from traindex.core.signing import canonical_json, key_fingerprint, public_key_hex
from traindex.core.timestamps import request_timestamp
from traindex.evidence.pades import check_pdf_signature

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from conftest import StartTsa


def test_report_carries_a_token_checked_against_the_trusted_authority(
    cli: Callable[..., str],
    empty_search: dict[str, object],
    settings: Settings,
    tmp_path: Path,
    loopback_tsa: StartTsa,
) -> None:
    tsa, rogue = loopback_tsa("Loopback Time Authority"), loopback_tsa("Rogue Time Authority")
    search = tmp_path / "search.json"
    search.write_text(json.dumps(empty_search))
    out = tmp_path / "report.pdf"
    made = cli(settings, "report", "--from", str(search), "--tsa", tsa.url, "--out", str(out))
    assert "Loopback Time Authority" in made
    document = json.loads(out.with_suffix(".json").read_bytes())
    assert "Loopback Time Authority" in document["timestamp"]["authority"]
    report = str(out.with_suffix(".json"))
    verified = cli(settings, "report", "verify", report, "--tsa-cert", str(tsa.certificate))
    assert "Loopback Time Authority (a trusted authority)" in verified.replace("\n", " ")
    assert document["timestamp"]["time"] in verified.replace("\n", "")
    refused = cli(
        settings, "report", "verify", report, "--tsa-cert", str(rogue.certificate), code=1
    )
    assert "not by a trusted timestamp authority" in refused
    [entry] = Keyring(settings.home / "keys").entries()
    certificate = entry.pdf_certificate.encode()
    check = check_pdf_signature(out.read_bytes(), certificate, tsa.certificate.read_bytes())
    assert check.ok, check  # PAdES B-T: the signature's own token, from the trusted TSA
    assert check.timestamp is not None
    rogue_check = check_pdf_signature(out.read_bytes(), certificate, rogue.certificate.read_bytes())
    assert not rogue_check.ok
    said = " ".join(cli(settings, "report", "verify", str(out)).split())
    assert "by Common Name: Loopback Time Authority (an authority you have not trusted)" in said
    trusting = ["--tsa-cert", str(tsa.certificate)]
    said = " ".join(cli(settings, "report", "verify", str(out), *trusting).split())
    assert (
        f"timestamped {check.timestamp} by Common Name: Loopback Time Authority (a trusted" in said
    )
    refused = cli(
        settings, "report", "verify", str(out), "--tsa-cert", str(rogue.certificate), code=1
    )
    assert "NOT VERIFIED" in refused


def test_report_without_authority_says_the_clock_is_the_machines(
    cli: Callable[..., str], empty_search: dict[str, object], settings: Settings, tmp_path: Path
) -> None:
    search = tmp_path / "search.json"
    search.write_text(json.dumps(empty_search))
    out = tmp_path / "report.html"
    cli(settings, "report", "--from", str(search), "--out", str(out))
    assert "this machine&#39;s clock" in out.read_text(encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    cli(settings, "report", "--from", str(search), "--out", str(pdf))
    said = " ".join(cli(settings, "report", "verify", str(pdf)).split())
    assert "no timestamp in the signature: its signing time is the signing machine's clock" in said
    assert "timestamp" not in json.loads(out.with_suffix(".json").read_bytes())
    edited = json.loads(out.with_suffix(".json").read_bytes())
    edited["timestamp"] = {"authority": "Anyone", "time": "2020-01-01T00:00:00", "token": "AA=="}
    forged = tmp_path / "forged.json"
    forged.write_bytes(json.dumps(edited, sort_keys=True, separators=(",", ":")).encode())
    assert "timestamp token is unreadable" in cli(settings, "report", "verify", str(forged), code=1)


def test_a_report_older_than_a_model_field_still_matches_its_token(
    cli: Callable[..., str],
    empty_search: dict[str, object],
    settings: Settings,
    tmp_path: Path,
    loopback_tsa: StartTsa,
) -> None:
    tsa = loopback_tsa("Loopback Time Authority")
    search = tmp_path / "search.json"
    search.write_text(json.dumps(empty_search))
    out = tmp_path / "report.json"
    cli(settings, "report", "--from", str(search), "--out", str(out))
    body = json.loads(out.read_bytes())["report"]
    assert body["queries"][0]["image"] is None
    del body["queries"][0]["image"]  # as written before searches carried image digests
    signer = Keyring(settings.home / "keys").signer
    payload = canonical_json(body)
    signature = {
        "algorithm": "Ed25519", "signed": "sha256 of the canonical JSON of report",
        "digest": hashlib.sha256(payload).hexdigest(),
        "public_key": public_key_hex(signer.public_key),
        "key_fingerprint": key_fingerprint(signer.public_key), "value": signer.sign(payload),
    }  # fmt: skip
    stamp = request_timestamp(tsa.url, canonical_json({"report": body, "signature": signature}))
    old = tmp_path / "old.json"
    old.write_bytes(canonical_json({"report": body, "signature": signature, "timestamp": stamp}))
    said = cli(settings, "report", "verify", str(old), "--tsa-cert", str(tsa.certificate))
    assert "Loopback Time Authority (a trusted authority)" in " ".join(said.split())
