"""Signed snapshots: what verifies, and every way tampering is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from traindex.core.signing import SignatureError, load_or_create_signer, public_key_hex
from traindex.registry.models import Selector
from traindex.registry.service import RegistryService
from traindex.registry.snapshot import load_snapshot_index, verify_snapshot


@pytest.fixture
def snapshot(service: RegistryService, tmp_path: Path) -> tuple[Path, str]:
    owner, _ = service.register_owner("o")
    service.add_claim(owner, Selector("domain", "example.com"), verified=True)
    service.add_claim(owner, Selector("url", "https://b.org/x.jpg"))
    revoked = service.add_claim(owner, Selector("domain", "gone.org"))
    service.revoke_claim(owner, revoked.id)
    info = service.snapshot(tmp_path / "snap")
    key = public_key_hex(load_or_create_signer(service.settings.home / "keys").public_key)
    assert info.manifest["public_key"] == key
    return tmp_path / "snap", key


def test_snapshot_holds_active_claims_and_verifies(snapshot: tuple[Path, str]) -> None:
    path, key = snapshot
    info = verify_snapshot(path, key)
    assert info.claim_count == 2
    assert info.manifest["counts"]["status"] == {"unverified": 1, "verified": 1}
    rows = pq.read_table(path / "claims.parquet").to_pylist()
    lines = [json.loads(line) for line in (path / "claims.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [line["id"] for line in lines]
    _, index = load_snapshot_index(path, key)
    assert len(index) == 2


@pytest.mark.parametrize("target", ["claims.parquet", "claims.jsonl", "manifest.json"])
def test_tampered_files_are_refused(snapshot: tuple[Path, str], target: str) -> None:
    path, key = snapshot
    if target == "manifest.json":
        manifest = json.loads((path / target).read_text())
        manifest["counts"]["claims"] = 1
        (path / target).write_text(json.dumps(manifest))
    else:
        data = bytearray((path / target).read_bytes())
        data[len(data) // 2] ^= 0x01
        (path / target).write_bytes(bytes(data))
    with pytest.raises(SignatureError):
        verify_snapshot(path, key)


def test_wrong_key_and_missing_file_are_refused(snapshot: tuple[Path, str]) -> None:
    path, _ = snapshot
    with pytest.raises(SignatureError, match="signature does not match"):
        verify_snapshot(path, "ab" * 32)
    (path / "claims.jsonl").unlink()
    with pytest.raises(SignatureError, match="missing"):
        verify_snapshot(path, None)
