"""Ed25519 signing over canonical JSON: round trip, tamper, key file handling."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traindex.core.signing import (
    SignatureError,
    canonical_json,
    load_or_create_signer,
    load_public_key,
    public_key_hex,
    verify_signature,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


def test_key_created_once_with_private_mode(tmp_path: Path) -> None:
    first = load_or_create_signer(tmp_path / "keys")
    assert first.path is not None
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    again = load_or_create_signer(tmp_path / "keys")
    assert public_key_hex(again.public_key) == public_key_hex(first.public_key)


@given(value=json_values)
def test_canonical_form_ignores_key_order(value: object) -> None:
    if isinstance(value, dict):
        reordered = dict(reversed(list(value.items())))
        assert canonical_json(reordered) == canonical_json(value)


def test_sign_verify_and_every_flipped_byte_fails(tmp_path: Path) -> None:
    signer = load_or_create_signer(tmp_path)
    payload = canonical_json({"b": [1, 2], "a": "Zoë"})
    signature = signer.sign(payload)
    public = load_public_key(public_key_hex(signer.public_key))
    verify_signature(public, payload, signature)
    for index in range(len(payload)):
        tampered = bytearray(payload)
        tampered[index] ^= 0x01
        with pytest.raises(SignatureError):
            verify_signature(public, bytes(tampered), signature)


def test_bad_keys_are_named(tmp_path: Path) -> None:
    with pytest.raises(SignatureError, match="64 hex"):
        load_public_key("not-a-key")
    (tmp_path / "ed25519.key").write_text("zz\n")
    with pytest.raises(SignatureError, match="not 32 hex"):
        load_or_create_signer(tmp_path)
