"""The ``Fingerprinter`` interface and the ``Fingerprint`` value every implementation returns.

Shape, and why:

* A fingerprint is a small immutable value: which algorithm (``kind``), the digest bytes,
  PDQ's quality score where the algorithm has one, and which query-side ``variant`` produced
  it (``original``, ``rot90``, ``crop:0.7@tl`` ...). Matches carry the variant that hit, so a
  report can say "found after undoing a 90-degree rotation" instead of a bare distance.
* A fingerprinter takes the **original file bytes**. Exact digests must see the bytes, not
  decoded pixels, and perceptual hashers decode through :mod:`traindex.fingerprint.images`
  so that the dataset side and the query side decode identically.
* Low quality is data, not an exception: a flat image still gets a PDQ hash, marked
  ``low_quality`` so search never reports it as a match on its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

__all__ = ["MIN_PDQ_QUALITY", "PDQ_MATCH_RADIUS", "Fingerprint", "Fingerprinter"]

MIN_PDQ_QUALITY = 50
"""PDQ quality below this means too little structure (flat, tiny, blank): never a match alone."""

PDQ_MATCH_RADIUS = 31
"""Differing bits (of 256) up to which two PDQ hashes are the same image: the threshold PDQ's
authors recommend. The one default for search, the index's design, near-copy and the filter."""


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """One digest of one image (or of one query-side variant of it).

    ``quality`` is PDQ's 0-100 gradient score and ``None`` for exact digests, which are
    either equal or not.
    """

    kind: str
    digest: bytes
    quality: int | None = None
    variant: str = "original"

    @property
    def hex(self) -> str:
        """Lower-case hex of ``digest`` (for PDQ: ThreatExchange's bit order, MSB first)."""
        return self.digest.hex()

    @property
    def low_quality(self) -> bool:
        """True when a perceptual hash is too weak to be reported as a match on its own."""
        return self.quality is not None and self.quality < MIN_PDQ_QUALITY

    @classmethod
    def from_hex(
        cls, kind: str, hex_digest: str, *, quality: int | None = None, variant: str = "original"
    ) -> Fingerprint:
        """Parse a stored hex digest (e.g. a dataset's ``sha256`` column or a PDQ hex)."""
        try:
            digest = bytes.fromhex(hex_digest.strip())
        except ValueError as exc:
            raise ValueError(f"not a hex digest: {hex_digest!r}") from exc
        return cls(kind=kind, digest=digest, quality=quality, variant=variant)


class Fingerprinter(ABC):
    """Turns one image file's bytes into one fingerprint.

    ``kind`` names the algorithm and is stored beside every digest it makes, so digests of
    different kinds are never compared. Implementations are stateless apart from their
    settings and safe to call from several processes.
    """

    kind: ClassVar[str]

    @abstractmethod
    def fingerprint(self, data: bytes, *, name: str | None = None) -> Fingerprint:
        """Fingerprint the file ``data``; ``name`` is how errors refer to the source.

        Raises :class:`traindex.fingerprint.images.ImageDecodeError` (an ``InputError``)
        when a perceptual fingerprinter cannot decode the bytes.
        """
