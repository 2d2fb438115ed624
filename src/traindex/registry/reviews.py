"""The review queue: claims no page or DNS record can prove, decided by an operator.

Image claims (nothing on the web says who made a picture) join the queue when they are
filed; account and URL-prefix claims join it when their proof page could not be read at
all (refused, unreachable, an HTTP error), since the owner may have done everything right.
An operator (the local CLI, or an owner granted ``operator`` using their token in the API
and web app) approves (the claim becomes ``verified``) or rejects with a reason (the claim
becomes ``rejected`` and counts nowhere, also not with ``count_unverified``). Every
request and decision is written to the audit log; the owner sees the review on the claim.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from traindex.registry.errors import ClaimNotFoundError, ClaimRejected
from traindex.registry.models import Claim, Review, to_json
from traindex.registry.owners import now_utc
from traindex.registry.rows import claim_of, review_of
from traindex.registry.storage import Record, RegistryStore, Transaction

__all__ = ["QueuedClaim", "ReviewQueue"]

_MAX_REASON = 2_000


@dataclass(frozen=True, slots=True)
class QueuedClaim:
    """One review with what the operator needs to judge it."""

    review: Review
    owner: str
    kind: str
    value: str
    terms: str

    def to_json(self) -> dict[str, Any]:
        return {
            "review": to_json(self.review),
            "owner": self.owner,
            "kind": self.kind,
            "value": self.value,
            "terms": self.terms,
        }


class ReviewQueue:
    """Queue, list and decide reviews over one registry store."""

    def __init__(self, store: RegistryStore, apply: Callable[[Record], None]) -> None:
        self.store = store
        self._apply = apply

    def request(self, conn: Transaction, claim: Record, why: str, actor: str) -> None:
        """Queue ``claim`` (in the caller's transaction) unless it is already waiting."""
        if self.store.pending_review(conn, claim.id) is not None:
            return
        self.store.insert_review(
            conn,
            {
                "claim_id": claim.id,
                "owner_id": claim.owner_id,
                "status": "pending",
                "why": why[:_MAX_REASON],
                "requested_at": now_utc(),
            },
        )
        self.store.audit(
            conn,
            actor=actor,
            action="request_review",
            target=claim.id,
            outcome="ok",
            detail={"why": why[:300]},
        )

    def listing(self, status: str | None = "pending") -> list[QueuedClaim]:
        """Reviews with ``status`` (None: all), oldest first. Pending reviews of claims
        revoked meanwhile are left out: there is nothing left to decide."""
        with self.store.read() as conn:
            rows = self.store.review_rows(conn, status)
            live = {r.claim_id for r in rows if r.status != "pending"}
            for row in rows:
                if row.status == "pending":
                    claim = self.store.claim_by_id(conn, row.claim_id)
                    if claim is not None and claim.status == "unverified":
                        live.add(row.claim_id)
        return [
            QueuedClaim(review_of(r), r.owner_name, r.kind, r.value, r.terms)
            for r in rows
            if r.claim_id in live
        ]

    def decide(self, actor: str, claim_id: str, *, approve: bool, reason: str | None) -> Claim:
        """Approve (claim verified) or reject (claim rejected, ``reason`` required)."""
        reason = (reason or "").strip() or None
        action = "approve_claim" if approve else "reject_claim"
        refusal = None
        if not approve and reason is None:
            refusal = "a rejection needs a reason (the owner is shown it)"
        elif reason is not None and len(reason) > _MAX_REASON:
            refusal = f"reason is longer than {_MAX_REASON} characters"
        with self.store.read() as conn:
            claim = self.store.claim_by_id(conn, str(claim_id)[:64])
            pending = None if claim is None else self.store.pending_review(conn, claim.id)
        if claim is None:
            raise ClaimNotFoundError(f"no claim with id {str(claim_id)[:40]!r}")
        if refusal is None and (pending is None or claim.status != "unverified"):
            refusal = f"claim {claim.id} has no pending review (status {claim.status})"
        if refusal is not None or pending is None:
            self.store.audit_denied(actor, action, claim.id, str(refusal))
            raise ClaimRejected(str(refusal))
        status = "verified" if approve else "rejected"
        with self.store.write() as conn:
            decision = "approved" if approve else "rejected"
            self.store.decide_review(conn, pending.id, decision, actor, reason)
            self.store.set_claim_status(conn, claim.id, status)
            self.store.audit(
                conn,
                actor=actor,
                action=action,
                target=claim.id,
                outcome="ok",
                detail={"reason": reason, "review": pending.id},
            )
            fresh = self.store.claim_by_id(conn, claim.id)
            review = self.store.latest_reviews(conn, [claim.id]).get(claim.id)
        assert fresh is not None  # claims are never deleted
        self._apply(fresh)
        return claim_of(fresh, review)
