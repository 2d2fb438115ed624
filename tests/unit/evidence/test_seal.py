"""Signed reports verify, and any edited byte makes verification fail."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from traindex.core.signing import SignatureError, Signer, canonical_json, public_key_hex
from traindex.evidence.model import EvidenceMatch, EvidenceReport, QueryRecord
from traindex.evidence.seal import body_digest, open_sealed, seal


def _report() -> EvidenceReport:
    match = EvidenceMatch(
        query="https://www.flickr.com/photos/sneakerdog/",
        dataset="cc3m-img2dataset",
        release="demo",
        source_file="00000.tar",
        row=1,
        key="000000",
        url="https://c2.staticflickr.com/2/1433/946782888_84c5811a41_o.jpg",
        caption="Fireworks and Morey\u2019s Pier",
        license="CC-BY-2.0",
        method="Flickr account",
        measure="the dataset records the searched Flickr account",
        confidence="certain",
        explanation="the dataset attributes the row to this Flickr account",
    )
    query = QueryRecord(
        kind="flickr_user", value="sneakerdog", datasets="all", outcome="found", matches=1, listed=1
    )
    return EvidenceReport(
        report_id="r-1",
        requested_by="Jane",
        created_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        traindex_version="0.1.0",
        releases=[],
        queries=[query],
        matches=[match],
    )


@pytest.fixture(scope="module")
def signed() -> bytes:
    key = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
    return seal(_report(), Signer(key, None)).to_bytes()


def test_intact_report_verifies_with_embedded_and_pinned_key(signed: bytes) -> None:
    sealed = open_sealed(signed)
    assert sealed.report == _report()
    assert sealed.signature.digest == body_digest(_report())
    key = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32).public_key()
    assert open_sealed(signed, public_key_hex(key)).report == _report()


def test_every_single_byte_edit_fails(signed: bytes) -> None:
    for position in range(len(signed)):
        edited = bytearray(signed)
        edited[position] ^= 0x01
        with pytest.raises(SignatureError):
            open_sealed(bytes(edited))


@given(st.data())
def test_insertions_and_deletions_fail(signed: bytes, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(signed) - 1))
    if data.draw(st.booleans()):
        edited = signed[:position] + signed[position + 1 :]
    else:
        edited = (
            signed[:position] + data.draw(st.binary(min_size=1, max_size=3)) + signed[position:]
        )
    with pytest.raises(SignatureError):
        open_sealed(edited)


def test_wrong_key_and_resigned_copy_are_refused(signed: bytes) -> None:
    other = Signer(Ed25519PrivateKey.from_private_bytes(b"\x09" * 32), None)
    original_key = json.loads(signed)["signature"]["public_key"]
    with pytest.raises(SignatureError, match="not by the given key"):
        open_sealed(signed, public_key_hex(other.public_key))
    forged = seal(_report().model_copy(update={"requested_by": "Mallory"}), other).to_bytes()
    assert open_sealed(forged).report.requested_by == "Mallory"  # intact, but whose?
    with pytest.raises(SignatureError, match="not by the given key"):
        open_sealed(forged, original_key)


def test_edit_with_recomputed_digest_still_fails(signed: bytes) -> None:
    document = json.loads(signed)
    document["report"]["matches"][0]["row"] = 2
    from hashlib import sha256

    document["signature"]["digest"] = sha256(canonical_json(document["report"])).hexdigest()
    with pytest.raises(SignatureError, match="signature does not match"):
        open_sealed(canonical_json(document))


def test_pretty_printed_copy_is_not_the_signed_file(signed: bytes) -> None:
    pretty = json.dumps(json.loads(signed), indent=2).encode()
    with pytest.raises(SignatureError, match="canonical"):
        open_sealed(pretty)
