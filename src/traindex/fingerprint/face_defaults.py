"""Face-detection defaults, apart from :mod:`traindex.fingerprint.faces` so that the CLI can
show them in ``--help`` without loading dlib and Pillow (the faces extra)."""

from __future__ import annotations

__all__ = ["DEFAULT_MIN_FACE", "DEFAULT_UPSAMPLE"]

DEFAULT_MIN_FACE = 40
"""Shorter face side, in analysed pixels, below which no embedding is made."""
DEFAULT_UPSAMPLE = 1
