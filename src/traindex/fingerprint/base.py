"""The ``Fingerprinter`` interface and the ``Fingerprint`` value the digest fingerprinters return.

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

from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

__all__ = ["MIN_PDQ_QUALITY", "PDQ_MATCH_RADIUS", "Fingerprint", "Fingerprinter"]

T_co = TypeVar("T_co", covariant=True)

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


@runtime_checkable
class Fingerprinter(Protocol[T_co]):
    """Turns one image file's bytes into its fingerprint: the one shape every algorithm has.

    ``kind`` names the algorithm (and, for a learned model, the model) and is stored beside
    every fingerprint it makes, so fingerprints of different kinds are never compared.
    ``fingerprint`` takes the original file bytes and ``name``, which errors use to name the
    source. What comes back depends on the algorithm, hence the type parameter:

    ========================================  ==============================================
    ``ExactFingerprinter``, ``PdqFingerprinter``  one :class:`Fingerprint` (a digest)
    ``KeypointFingerprinter``                 ``Keypoints`` (ORB points and descriptors)
    ``FaceFingerprinter``                     ``FaceScan`` (any number of face vectors)
    ``ClipEncoder``                           a unit-norm embedding vector
    ``IsccFingerprinter``                     an ISCC Image-Code string
    ========================================  ==============================================

    Batched, decoded-pixel and query-side entry points (PDQ's variants, CLIP's
    ``embed_images``, keypoints' ``query_points``) stay methods of the implementations: they
    differ per algorithm and are used where only that algorithm fits. Implementations are
    stateless apart from their settings (and, for learned models, loaded weights) and safe
    to call from several processes. Perceptual ones raise
    :class:`traindex.fingerprint.images.ImageDecodeError` (an ``InputError``) when they cannot
    decode the bytes.
    """

    @property
    def kind(self) -> str:
        """The algorithm's name, stored beside what it makes."""
        ...

    def fingerprint(self, data: bytes, *, name: str | None = None) -> T_co:
        """Fingerprint the file ``data``; ``name`` is how errors refer to the source."""
        ...
