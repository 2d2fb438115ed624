"""Database rows -> the registry's values (``models``) and the decision index's records."""

from __future__ import annotations

from traindex.registry.decisions import ClaimRecord
from traindex.registry.models import Claim, Review, Selector
from traindex.registry.storage import Record, as_utc

__all__ = ["claim_of", "record_of", "review_of"]


def review_of(row: Record) -> Review:
    decided = None if row.decided_at is None else as_utc(row.decided_at)
    return Review(
        row.id, row.claim_id, row.status, row.why, as_utc(row.requested_at), decided, row.reason
    )


def claim_of(row: Record, review: Record | None = None) -> Claim:
    selector = Selector(
        row.kind,
        row.value,
        row.include_subdomains,
        row.sha256,
        row.pdq,
        row.md5,
        row.iscc,
        row.keypoints,
    )
    expires = None if row.expires_at is None else as_utc(row.expires_at)
    return Claim(
        row.id,
        row.owner_id,
        selector,
        row.terms,
        row.contact,
        expires,
        row.status,
        as_utc(row.created_at),
        row.declaration,
        None if review is None else review_of(review),
    )


def record_of(row: Record) -> ClaimRecord:
    expires = None if row.expires_at is None else as_utc(row.expires_at).timestamp()
    return ClaimRecord(
        row.id,
        row.kind,
        row.value,
        row.include_subdomains,
        row.sha256,
        row.md5,
        row.pdq,
        row.terms,
        row.status,
        expires,
        row.iscc,
        row.keypoints,
    )
