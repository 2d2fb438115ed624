"""The registry's values: owners, selectors, claims, decisions (frozen dataclasses, not ORM rows).

Services hand these out so that callers (CLI, API, web pages) never hold a database session.
Vocabulary:

* **terms** an owner sets on a selector: ``do_not_train``, ``allow``,
  ``allow_with_attribution``, ``license_required`` (with ``contact`` text: who, what price);
* **decision** a builder gets per item: ``do_not_train``, ``license_required``,
  ``attribution_required``, ``allowed`` or ``unknown`` (no claim counted). When several claims
  match, the most restrictive one decides, in that order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from traindex.errors import TraindexError
from traindex.fingerprint.exact import file_digest
from traindex.registry.errors import ClaimRejected

__all__ = [
    "DECISION_OF_TERMS",
    "KEYPOINT_BYTES",
    "RESTRICTIVENESS",
    "SELECTOR_KINDS",
    "TERMS",
    "Claim",
    "ClaimRequest",
    "ClaimStatus",
    "Decision",
    "DecisionValue",
    "Owner",
    "Review",
    "Selector",
    "SelectorKind",
    "Terms",
    "VerificationInstructions",
    "to_json",
]

SelectorKind = Literal["url", "url_prefix", "domain", "flickr_owner", "image"]
Terms = Literal["do_not_train", "allow", "allow_with_attribution", "license_required"]
ClaimStatus = Literal["verified", "unverified", "rejected", "revoked"]
DecisionValue = Literal[
    "do_not_train", "license_required", "attribution_required", "allowed", "unknown"
]

KEYPOINT_BYTES = 36
"""Bytes per stored keypoint (``Keypoints.to_bytes``): a float16 position pair and a
32-byte ORB descriptor."""
SELECTOR_KINDS: tuple[str, ...] = ("url", "url_prefix", "domain", "flickr_owner", "image")
TERMS: tuple[str, ...] = ("do_not_train", "allow", "allow_with_attribution", "license_required")
DECISION_OF_TERMS: dict[str, DecisionValue] = {
    "do_not_train": "do_not_train",
    "license_required": "license_required",
    "allow_with_attribution": "attribution_required",
    "allow": "allowed",
}
RESTRICTIVENESS: dict[str, int] = {
    "unknown": 0,
    "allowed": 1,
    "attribution_required": 2,
    "license_required": 3,
    "do_not_train": 4,
}
"""Higher wins: a builder must honour the strictest matching claim."""


@dataclass(frozen=True, slots=True)
class Selector:
    """What a claim covers. ``value`` is the URL, prefix, domain, Flickr owner or image SHA-256.

    ``include_subdomains`` matters for ``domain`` only. Image selectors carry the SHA-256
    (same file), the MD5 (what img2dataset outputs store), the PDQ hash (same image) and
    the ISCC Image-Code body (16 hex; what content-bound declarations name) and the
    image's ORB keypoints as a query describes them (``Keypoints.to_bytes``; they find
    crops and overlays in releases fingerprinted with ``--keypoints``); build them with
    :meth:`for_image` from the uploaded bytes. A claim imported from a declaration has
    only the ISCC: its ``value`` is then ``iscc:<body>``. In JSON the keypoints appear as
    their number (``to_json``).
    """

    kind: SelectorKind
    value: str
    include_subdomains: bool = True
    sha256: str | None = None
    pdq: str | None = None
    md5: str | None = None
    iscc: str | None = None
    keypoints: bytes | None = field(default=None, repr=False)

    @classmethod
    def for_image(cls, data: bytes, *, name: str | None = None) -> Selector:
        """Fingerprint an uploaded image: SHA-256 and MD5 of the bytes, PDQ and ISCC
        Image-Code of the pixels.

        The bytes are not kept. An undecodable file raises ``ClaimRejected``; a low-quality
        PDQ (flat, tiny image) is left out.
        """
        # Imported here: PDQ needs the images extra; the other selectors do not.
        from traindex.fingerprint.iscc import IsccFingerprinter, image_code_body
        from traindex.fingerprint.keypoints import KeypointOptions, query_points
        from traindex.fingerprint.pdq import PdqFingerprinter

        try:
            pdq = PdqFingerprinter().fingerprint(data, name=name)
            iscc = image_code_body(IsccFingerprinter().fingerprint(data, name=name))
            points = query_points(data, KeypointOptions(), name=name)
        except (TraindexError, ValueError, OSError) as exc:
            raise ClaimRejected(f"image claim: cannot read the image ({exc})") from None
        sha256 = file_digest(data)
        md5 = file_digest(data, "md5")
        # A flat or tiny image's PDQ matches unrelated images (search never reports it
        # alone either): such claims match the same file only.
        return cls(
            "image",
            sha256,
            sha256=sha256,
            pdq=None if pdq.low_quality else pdq.hex,
            md5=md5,
            iscc=iscc,
            keypoints=points.to_bytes() if len(points) else None,
        )


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    """One claim to file (see ``RegistryService.add_claims``)."""

    selector: Selector
    terms: str = "do_not_train"
    contact: str | None = None
    expires_at: datetime | None = None
    declaration: str | None = None
    """The content-bound declaration this claim was imported from, as given (JSON text)."""


@dataclass(frozen=True, slots=True)
class Owner:
    """A registered account (a person, agency or site) that makes claims."""

    id: str
    name: str
    email: str | None
    created_at: datetime
    operator: bool = False
    """May review claims (``traindex registry grant-operator``)."""


@dataclass(frozen=True, slots=True)
class Review:
    """An operator's review of a claim that could not be proved automatically.

    ``status`` is ``pending``, ``approved`` (the claim is then verified) or ``rejected``
    (the claim is then ``rejected`` and counts nowhere); ``why`` says why it needed a
    person, ``reason`` is the operator's.
    """

    id: int
    claim_id: str
    status: Literal["pending", "approved", "rejected"]
    why: str
    requested_at: datetime
    decided_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """One owner's terms for one selector. ``status`` is ``verified`` only after proof (or
    an operator's approval); ``rejected`` when an operator refused it. ``review`` is the
    latest review, if the claim ever needed one."""

    id: str
    owner_id: str
    selector: Selector
    terms: Terms
    contact: str | None
    expires_at: datetime | None
    status: ClaimStatus
    created_at: datetime
    declaration: str | None = None
    """The imported declaration as given (its signature or credential recorded, not trusted)."""
    review: Review | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one checked item.

    ``claim_ids`` are the claims that decided (all at the deciding restrictiveness);
    ``verified`` says whether they are verified. ``unverified_claim_ids`` lists matching
    unverified claims that did *not* count (``count_unverified=False``), so a builder can
    still see them. ``error`` says why an item could not be read (it then decides nothing).
    """

    item: str
    decision: DecisionValue
    claim_ids: tuple[str, ...]
    verified: bool
    unverified_claim_ids: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class VerificationInstructions:
    """How to prove control of ``domain``: serve ``token`` at ``http_url`` or publish
    ``dns_value`` as a TXT record at ``dns_name``. Valid until ``expires_at``.

    For an account or URL-prefix claim, ``page_url`` is where the code (``token``) may be
    put instead (or on another page of the same account/prefix: ``page_scope``); a
    Flickr account has only this proof, so its domain fields are empty."""

    claim_id: str
    domain: str
    token: str
    http_url: str
    dns_name: str
    dns_value: str
    expires_at: datetime
    page_url: str | None = None
    page_scope: str | None = None


def to_json(
    value: Owner | Claim | Decision | VerificationInstructions | Review,
) -> dict[str, Any]:
    """The JSON form the CLI (``--json``) and the HTTP API share: datetimes as ISO 8601."""
    return _iso(asdict(value))


def _iso(fields: dict[str, Any]) -> dict[str, Any]:
    """Datetimes as ISO 8601; a selector's keypoints (binary) as how many there are."""
    return {key: _plain(key, item) for key, item in fields.items()}


def _plain(key: str, item: Any) -> Any:
    if isinstance(item, datetime):
        return item.isoformat()
    if isinstance(item, dict):
        return _iso(item)
    if key == "keypoints" and isinstance(item, bytes):
        return len(item) // KEYPOINT_BYTES
    return item
