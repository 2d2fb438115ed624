"""RFC 3161 tokens from a real timestamp authority on loopback: checked, refused when wrong."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from traindex.core.signing import SignatureError
from traindex.core.timestamps import check_timestamp, load_tsa_certificates, request_timestamp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from conftest import StartTsa


def test_token_names_authority_and_time_and_checks_the_bytes(loopback_tsa: StartTsa) -> None:
    tsa = loopback_tsa("Loopback TSA One")
    record = request_timestamp(tsa.url, b"signed bytes")
    trusted = load_tsa_certificates([tsa.certificate])
    check = check_timestamp(record, b"signed bytes", trusted)
    assert check.trusted
    assert "Loopback TSA One" in check.authority
    assert record["time"] == check.time.isoformat()
    with pytest.raises(SignatureError, match="changed"):
        check_timestamp(record, b"signed bytez", trusted)


def test_token_from_another_authority_is_refused(loopback_tsa: StartTsa) -> None:
    ours, theirs = loopback_tsa("Trusted TSA"), loopback_tsa("Rogue TSA")
    record = request_timestamp(theirs.url, b"report")
    with pytest.raises(SignatureError, match=r"Rogue TSA.*not by a trusted"):
        check_timestamp(record, b"report", load_tsa_certificates([ours.certificate]))
    untrusted = check_timestamp(record, b"report", [])  # no list: intact but not vouched for
    assert not untrusted.trusted
    assert "not trusted" in untrusted.describe()


def test_unreachable_authority_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SignatureError, match="timestamp authority"):
        request_timestamp("http://127.0.0.1:9/", b"x", timeout=2)


def test_readable_copies_next_to_the_token_must_be_the_tokens(loopback_tsa: StartTsa) -> None:
    tsa = loopback_tsa("Loopback TSA One")
    record = request_timestamp(tsa.url, b"signed bytes")
    trusted = load_tsa_certificates([tsa.certificate])
    earlier = {**record, "time": "2020-01-01T00:00:00+00:00"}
    with pytest.raises(SignatureError, match="says time '2020-01-01"):
        check_timestamp(earlier, b"signed bytes", trusted)
    other = {**record, "authority": "Court Time Service"}
    with pytest.raises(SignatureError, match="says authority 'Court Time Service'"):
        check_timestamp(other, b"signed bytes", trusted)
