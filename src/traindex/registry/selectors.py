"""Validate and normalise selectors, and derive the keys claims are matched and proved by.

Every selector is normalised once, when the claim is made, with the same functions the
decision index applies to checked items, so "the same URL" means the same thing on both
sides (``traindex.core.urls``). URL and prefix keys drop the scheme: ``http://`` and
``https://`` spellings of one address are one resource to an owner who opted it out.

Refused, with ``ClaimRejected`` saying why: anything over ``MAX_SELECTOR_CHARS`` (checked
before any parsing, so a 1 MB selector costs nothing), wildcards, public suffixes
(``co.uk``, ``github.io``: nobody owns those), values that are not what the kind says.
"""

from __future__ import annotations

import hashlib
import re

from traindex.core.flickr import flickr_owner
from traindex.core.signing import canonical_json
from traindex.core.urls import UrlError, is_public_suffix, url_parts
from traindex.registry.errors import ClaimRejected
from traindex.registry.models import KEYPOINT_BYTES, SELECTOR_KINDS, TERMS, Selector

__all__ = [
    "MAX_SELECTOR_CHARS",
    "claim_identity",
    "flickr_key",
    "normalise_selector",
    "proof_domain",
    "url_key",
]

MAX_SELECTOR_CHARS = 8192
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX16 = re.compile(r"[0-9a-f]{16}")


def url_key(canonical: str) -> str:
    """Scheme-less match key of a canonical URL: ``//host/path?query``."""
    return canonical[canonical.index("://") + 1 :]


def flickr_key(owner: str) -> str:
    """NSIDs as Flickr writes them; path aliases case-folded (Flickr ignores their case)."""
    return owner if "@" in owner else owner.lower()


def _host(value: str, what: str) -> tuple[str, str]:
    """Canonical URL and host of ``value``, refusing hosts that are public suffixes."""
    try:
        parts = url_parts(value, max_chars=MAX_SELECTOR_CHARS)
    except UrlError as exc:
        raise ClaimRejected(f"{what} selector: {exc}") from None
    if is_public_suffix(parts.host):
        raise ClaimRejected(
            f"{what} selector: {parts.host!r} is a public suffix, which nobody owns; "
            "claim your own domain under it"
        )
    return parts.url, parts.host


def _domain(value: str) -> str:
    if "*" in value:
        raise ClaimRejected(
            "domain selector: wildcards are not allowed; claim the domain itself "
            "(subdomains are included unless include_subdomains is false)"
        )
    text = value.strip().removeprefix(".")
    if not text or any(c in text for c in "/:@?#\\ "):
        raise ClaimRejected(f"domain selector: {value[:80]!r} is not a bare domain name")
    return _host(f"http://{text}/", "domain")[1]


def _image(selector: Selector) -> Selector:
    iscc = selector.iscc.strip().lower() if selector.iscc else None
    if iscc is not None and not _HEX16.fullmatch(iscc):
        raise ClaimRejected("image selector: iscc must be 16 hex characters (Image-Code body)")
    sha256 = (selector.sha256 or selector.value).strip().lower()
    if iscc is not None and not selector.sha256 and sha256 in ("", f"iscc:{iscc}"):
        return Selector("image", f"iscc:{iscc}", True, iscc=iscc)  # a declaration's claim
    if not _HEX64.fullmatch(sha256):
        raise ClaimRejected("image selector: sha256 must be 64 hex characters")
    pdq = selector.pdq.strip().lower() if selector.pdq else None
    if pdq is not None and not _HEX64.fullmatch(pdq):
        raise ClaimRejected("image selector: pdq must be 64 hex characters")
    md5 = selector.md5.strip().lower() if selector.md5 else None
    if md5 is not None and not _HEX32.fullmatch(md5):
        raise ClaimRejected("image selector: md5 must be 32 hex characters")
    keypoints = selector.keypoints
    if keypoints is not None and len(keypoints) % KEYPOINT_BYTES:
        raise ClaimRejected(f"image selector: keypoints are {KEYPOINT_BYTES} bytes each")
    return Selector("image", sha256, True, sha256, pdq, md5, iscc, keypoints)


def normalise_selector(selector: Selector) -> Selector:
    """The canonical form of ``selector``; raises ``ClaimRejected`` if it cannot be claimed."""
    if selector.kind not in SELECTOR_KINDS:
        raise ClaimRejected(
            f"unknown selector kind {str(selector.kind)[:40]!r}; one of {', '.join(SELECTOR_KINDS)}"
        )
    if not isinstance(selector.value, str) or len(selector.value) > MAX_SELECTOR_CHARS:
        size = len(selector.value) if isinstance(selector.value, str) else 0
        raise ClaimRejected(
            f"{selector.kind} selector is {size:,} characters long, "
            f"more than {MAX_SELECTOR_CHARS:,}"
        )
    if selector.kind == "image":
        return _image(selector)
    if selector.kind == "domain":
        return Selector("domain", _domain(selector.value), selector.include_subdomains)
    if selector.kind == "flickr_owner":
        owner = flickr_owner(selector.value, bare_alias=True)
        if owner is None:
            raise ClaimRejected(
                f"flickr_owner selector: {selector.value[:80]!r} is neither an NSID "
                "(12345678@N00), a path alias nor a Flickr profile URL"
            )
        return Selector("flickr_owner", flickr_key(owner))
    canonical = _host(selector.value, selector.kind.replace("_", " "))[0]
    return Selector(selector.kind, canonical)


def proof_domain(selector: Selector) -> str | None:
    """The host whose control proves ownership of a normalised selector (None: no web proof)."""
    if selector.kind == "domain":
        return selector.value
    if selector.kind in ("url", "url_prefix"):
        return url_parts(selector.value).host
    return None


def claim_identity(owner_id: str, selector: Selector, terms: str) -> str:
    """Stable id of (owner, selector, terms): equal for repeats, so claims are idempotent."""
    if terms not in TERMS:
        raise ClaimRejected(f"unknown terms {str(terms)[:40]!r}; one of {', '.join(TERMS)}")
    payload = {
        "owner": owner_id,
        "kind": selector.kind,
        "value": selector.value,
        "sub": selector.include_subdomains,
        "terms": terms,
    }
    return hashlib.sha256(canonical_json(payload)).hexdigest()
