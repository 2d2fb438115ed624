"""Exact digests of the original bytes, and reuse of a dataset's own md5/sha256 columns."""

from __future__ import annotations

import hashlib

import pytest

from traindex.fingerprint.base import Fingerprint
from traindex.fingerprint.exact import ExactFingerprinter, dataset_digest

DATA = b"\xff\xd8\xff\xe0 not really a jpeg, digests do not care"


def test_sha256_is_of_the_bytes_as_stored() -> None:
    fingerprint = ExactFingerprinter().fingerprint(DATA)
    assert fingerprint.kind == "sha256"
    assert fingerprint.hex == hashlib.sha256(DATA).hexdigest()
    assert fingerprint.quality is None
    assert not fingerprint.low_quality
    assert fingerprint.variant == "original"


def test_one_changed_byte_changes_the_digest() -> None:
    hasher = ExactFingerprinter()
    assert hasher.fingerprint(DATA) != hasher.fingerprint(DATA[:-1] + b"!")


def test_md5_for_datasets_that_ship_md5() -> None:
    fingerprint = ExactFingerprinter("md5").fingerprint(DATA)
    assert fingerprint.kind == "md5"
    assert fingerprint.hex == hashlib.md5(DATA).hexdigest()


def test_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        ExactFingerprinter("sha1")  # type: ignore[arg-type]


def test_dataset_column_digest_equals_query_digest() -> None:
    column_value = "  " + hashlib.md5(DATA).hexdigest().upper() + "\n"
    from_dataset = dataset_digest(column_value, "md5")
    assert from_dataset == ExactFingerprinter("md5").fingerprint(DATA)


@pytest.mark.parametrize(
    ("value", "algorithm"),
    [("abc", "md5"), ("zz" * 16, "md5"), (hashlib.md5(DATA).hexdigest(), "sha256")],
)
def test_malformed_dataset_digest_is_refused(value: str, algorithm: str) -> None:
    with pytest.raises(ValueError, match="digest"):
        dataset_digest(value, algorithm)  # type: ignore[arg-type]


def test_fingerprint_hex_round_trip() -> None:
    original = Fingerprint(kind="pdq", digest=bytes(range(32)), quality=80, variant="rot90")
    parsed = Fingerprint.from_hex("pdq", original.hex, quality=80, variant="rot90")
    assert parsed == original
