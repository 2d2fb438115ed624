"""Issue 16.5/16.8 for snapshots: whose key signed it, refusal of swapped-in snapshots by
``filter``, extra files refused by ``verify-snapshot``, and RFC 3161 timestamps."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from traindex.cli.main import app
from traindex.config import Settings
from traindex.core.signing import SignatureError, Signer
from traindex.core.timestamps import load_tsa_certificates
from traindex.core.trust import TrustedKeys, UntrustedKeyError
from traindex.registry.models import Selector
from traindex.registry.service import RegistryService
from traindex.registry.snapshot import load_snapshot_index, verify_snapshot, write_snapshot

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from conftest import StartTsa

LAION_1000 = "img2dataset/tests/test_files/test_1000.parquet"


def _run(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--home", str(home), *args])
    return result.exit_code, result.output


def _snapshot(settings: Settings, out: Path) -> Path:
    service = RegistryService.open(settings)
    try:
        owner, _ = service.register_owner("agency")
        service.add_claim(owner, Selector("domain", "dreamstime.com"), verified=True)
        service.snapshot(out)
    finally:
        service.close()
    return out


def test_filter_refuses_a_swapped_in_snapshot(tmp_path: Path, shared_data: Path) -> None:
    operator = Settings(home=tmp_path / "operator")
    snap = _snapshot(operator, tmp_path / "snap")
    src = shared_data / LAION_1000

    def removed(home: Path, *extra: str) -> tuple[int, str, int]:
        run = len(list(tmp_path.iterdir()))
        log, out = tmp_path / f"log-{run}.parquet", tmp_path / f"out-{run}.parquet"
        code, text = _run(
            home, "filter", str(src), "--out", str(out), "--registry", str(snap), "--log",
            str(log), "--json", *extra,
        )  # fmt: skip
        if code != 0:
            return code, text, -1
        [summary] = json.loads(text)["files"]
        return code, text, summary["rows"] - summary["kept"]

    code, _, genuine = removed(operator.home)  # the operator's own key: trusted
    assert code == 0
    assert genuine > 0
    attacker = Signer(Ed25519PrivateKey.generate(), None)
    for name in ("claims.parquet", "claims.jsonl", "manifest.json", "manifest.sig"):
        (snap / name).unlink()
    write_snapshot(iter([]), snap, attacker)  # an empty snapshot, re-signed, swapped in
    code, text, _ = removed(operator.home)
    assert code == 2
    assert "not this server's key" in text
    code, _, none = removed(operator.home, "--accept-embedded-key")  # explicit choice only
    assert (code, none) == (0, 0)
    with pytest.raises(UntrustedKeyError, match="accept-embedded-key"):
        load_snapshot_index(snap, trusted=TrustedKeys.load(operator))


def test_verify_snapshot_says_whose_key_and_refuses_extra_files(tmp_path: Path) -> None:
    operator = Settings(home=tmp_path / "operator")
    snap = _snapshot(operator, tmp_path / "snap")
    code, out = _run(operator.home, "registry", "verify-snapshot", str(snap))
    assert code == 0, out
    assert "this server's key" in out
    code, out = _run(tmp_path / "stranger", "registry", "verify-snapshot", str(snap))
    assert code == 1
    assert "not trusted" in out
    (snap / "claims-extra.parquet").write_bytes((snap / "claims.parquet").read_bytes())
    with pytest.raises(SignatureError, match=r"claims-extra\.parquet"):
        verify_snapshot(snap, None)
    code, _ = _run(operator.home, "registry", "verify-snapshot", str(snap))
    assert code == 2


def test_snapshot_timestamp_names_the_authority(tmp_path: Path, loopback_tsa: StartTsa) -> None:
    tsa, rogue = loopback_tsa("Registry Time Authority"), loopback_tsa("Other Authority")
    operator = Settings(home=tmp_path / "operator", tsa_url=tsa.url)
    snap = _snapshot(operator, tmp_path / "snap")
    record = json.loads((snap / "manifest.tsr.json").read_text())
    assert "Registry Time Authority" in record["authority"]
    info = verify_snapshot(snap, None, tsa_certificates=load_tsa_certificates([tsa.certificate]))
    assert info.timestamp is not None
    assert info.timestamp.trusted
    assert "Registry Time Authority" in info.timestamp.authority
    with pytest.raises(SignatureError, match="not by a trusted"):
        verify_snapshot(snap, None, tsa_certificates=load_tsa_certificates([rogue.certificate]))
    code, out = _run(
        operator.home, "registry", "verify-snapshot", str(snap), "--tsa-cert", str(tsa.certificate)
    )
    assert code == 0, out
    assert "Registry Time Authority" in out
