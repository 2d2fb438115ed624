"""Exact fingerprints: a digest of the file's bytes, and digests a dataset already carries.

A byte digest answers "same file": the dataset holds exactly the bytes the photographer
published. SHA-256 is what traindex computes; many releases ship an ``md5`` (img2dataset)
or ``sha256`` column, and re-downloading billions of images to re-hash them is not an
option, so :func:`dataset_digest` turns those columns into comparable fingerprints and a
query simply computes the same algorithm over its own bytes.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar, Literal

from traindex.fingerprint.base import Fingerprint, Fingerprinter

__all__ = ["DIGEST_SIZES", "ExactAlgorithm", "ExactFingerprinter", "dataset_digest", "file_digest"]

ExactAlgorithm = Literal["sha256", "md5"]

DIGEST_SIZES: dict[str, int] = {"sha256": 32, "md5": 16}


class ExactFingerprinter(Fingerprinter[Fingerprint]):
    """SHA-256 (default) or MD5 of the original bytes; never decodes, so never fails."""

    kind: ClassVar[str] = "exact"

    def __init__(self, algorithm: ExactAlgorithm = "sha256") -> None:
        if algorithm not in DIGEST_SIZES:
            raise ValueError(f"unsupported digest {algorithm!r}; use one of {list(DIGEST_SIZES)}")
        self.algorithm: ExactAlgorithm = algorithm

    def fingerprint(self, data: bytes, *, name: str | None = None) -> Fingerprint:
        """Digest of ``data`` exactly as stored; ``name`` is unused (digests cannot fail)."""
        # MD5 only names files here (img2dataset's column), it protects nothing
        digest = hashlib.new(self.algorithm, data, usedforsecurity=False).digest()
        return Fingerprint(kind=self.algorithm, digest=digest)


_FINGERPRINTERS = {algorithm: ExactFingerprinter(algorithm) for algorithm in ("sha256", "md5")}


def file_digest(data: bytes, algorithm: ExactAlgorithm = "sha256") -> str:
    """Hex digest of an image file's bytes: what the ``sha256`` (``md5``) column and a
    query's "same file" look-up hold, computed in one place for the dataset side, queries,
    claims and cached thumbnails."""
    return _FINGERPRINTERS[algorithm].fingerprint(data).hex


def dataset_digest(value: str, algorithm: ExactAlgorithm) -> Fingerprint:
    """Reuse a digest from a dataset column (hex, any case, surrounding space allowed).

    Raises ``ValueError`` when the value is not hex of the algorithm's length, so a
    mislabelled column is caught at ingest instead of silently never matching.
    """
    size = DIGEST_SIZES.get(algorithm)
    if size is None:
        raise ValueError(f"unsupported digest {algorithm!r}; use one of {list(DIGEST_SIZES)}")
    fingerprint = Fingerprint.from_hex(algorithm, value.lower())
    if len(fingerprint.digest) != size:
        raise ValueError(f"{algorithm} digest must be {size * 2} hex characters, got {value!r}")
    return fingerprint
