"""Keyring and trust sources without a catalog: one key under concurrent first use, key
lists as published JSON or 64-hex lines, and forged list entries refused."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from traindex.config import Settings
from traindex.core.keyring import Keyring
from traindex.core.signing import SignatureError, key_fingerprint, public_key_hex
from traindex.core.trust import TrustedKeys


def test_concurrent_first_use_makes_one_key(tmp_path: Path) -> None:
    keyring = Keyring(tmp_path / "keys")
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: public_key_hex(keyring.signer.public_key), range(16)))
    assert len(keys) == 1
    assert len(keyring.entries()) == 1


def test_trusted_key_sources(tmp_path: Path) -> None:
    operator = Keyring(tmp_path / "operator").signer
    other = Keyring(tmp_path / "other")
    hex_file = tmp_path / "keys.txt"
    hex_file.write_text(f"# operator\n{public_key_hex(operator.public_key)}\n")
    json_file = tmp_path / "other.json"
    json_file.write_text(json.dumps(other.document()))
    settings = Settings(home=tmp_path / "me", trusted_keys=[hex_file, json_file])
    trusted = TrustedKeys.load(settings)
    key, fp = public_key_hex(operator.public_key), key_fingerprint(operator.public_key)
    verdict = trusted.judge(key, fp, pinned=None, accept_embedded=False)
    assert verdict.trusted
    assert verdict.source == "key list keys.txt"
    other_key = other.entries()[0].public_key
    assert trusted.judge(other_key, "x", pinned=None, accept_embedded=False).trusted
    stranger = trusted.judge("ab" * 32, "abab", pinned=None, accept_embedded=False)
    assert not stranger.trusted
    document = other.document()
    document["keys"][0]["binding"] = "00" * 64
    json_file.write_text(json.dumps(document))
    with pytest.raises(SignatureError, match="signature does not match"):
        TrustedKeys.load(settings)
