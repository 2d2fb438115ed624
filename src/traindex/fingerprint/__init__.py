"""Fingerprints of images: exact digests of the bytes and PDQ perceptual hashes.

Computing a fingerprint lives here; searching many of them lives in :mod:`traindex.index`.
"""

from __future__ import annotations

__all__: list[str] = []
