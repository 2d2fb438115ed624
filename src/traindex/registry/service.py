"""``RegistryService``: the registry's one entry point for the CLI, the API and the web pages.

It owns the rules (who may claim, verify and revoke what; when a claim counts) and keeps
the in-memory decision index in step with the database. Every refused write is recorded
in the audit log with the reason and nothing else is written. Rules, and why:

* **Unverified claims are kept, flagged.** A ``do_not_train`` claim costs nobody anything
  if wrong, so anyone may file one; it becomes ``verified`` once its owner proves control
  of the domain (``verify``) or an operator marks it so (CLI ``--verified``).
* **Permissive terms need proof first.** ``allow``, ``allow_with_attribution`` and
  ``license_required`` on a domain (account, prefix) the owner has not verified are refused:
  otherwise anyone could ask builders for licence fees on someone else's photos. Image
  claims have no web proof, so only an operator can make them permissive.
* **Proof covers a domain and below.** Once an owner proved ``example.com``, their claims
  on it and its subdomains are verified, including ones filed later. A page proof
  (``pages``) covers a Flickr account, or the URLs under a prefix, the same way.
* **What no page can prove, a person reviews.** Image claims, and account claims whose
  page could not be read, wait in the review queue (``reviews``) for an operator.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from traindex.config import Settings
from traindex.core.keyring import Keyring
from traindex.registry.decisions import DecisionIndex
from traindex.registry.errors import ClaimNotFoundError, ClaimRejected, PermissionDenied
from traindex.registry.models import (
    Claim,
    ClaimRequest,
    Decision,
    Owner,
    Selector,
    VerificationInstructions,
)
from traindex.registry.owners import OwnerAccounts, now_utc
from traindex.registry.proofs import ClaimProofs, Proved
from traindex.registry.reviews import QueuedClaim, ReviewQueue
from traindex.registry.rows import claim_of, record_of
from traindex.registry.selectors import claim_identity, normalise_selector, proof_domain
from traindex.registry.snapshot import SNAPSHOT_SCHEMA, SnapshotInfo, write_snapshot
from traindex.registry.storage import Record, RegistryStore, as_utc

__all__ = ["RegistryService"]

_SYNC_OVERLAP = timedelta(seconds=30)
"""Re-read claims changed this long before the last sync: a transaction that committed late
(PostgreSQL commits need not follow timestamp order) is still picked up; applying is idempotent."""
_MAX_CONTACT = 2_000
_OPERATOR = "operator"
_NO_WEB_PROOF = "image claims cannot be proved by a web page or DNS record"


class RegistryService(OwnerAccounts):
    """Owners, claims, verification and decisions over one registry database."""

    def __init__(self, settings: Settings, store: RegistryStore) -> None:
        super().__init__(settings, store)
        self.reviews = ReviewQueue(store, self._apply)
        self.proofs = ClaimProofs(settings, store, self.reviews)
        self._lock = threading.Lock()
        self._index = DecisionIndex()
        self._synced_at: datetime | None = None
        self._synced_clock = -float("inf")

    @classmethod
    def open(cls, settings: Settings, url: str | None = None) -> RegistryService:
        """Open (creating and migrating to head) the registry at ``url`` or the home default."""
        # Imported here: the service itself knows only the RegistryStore interface.
        from traindex.registry.store import SqlRegistryStore

        default = settings.home / "registry" / "registry.sqlite"
        return cls(settings, SqlRegistryStore.open(default, url or settings.registry_url))

    def close(self) -> None:
        self.store.close()

    # claims ------------------------------------------------------------------------------

    def add_claim(
        self,
        owner: Owner,
        selector: Selector,
        terms: str = "do_not_train",
        *,
        contact: str | None = None,
        expires_at: datetime | None = None,
        verified: bool = False,
    ) -> Claim:
        """File a claim (idempotent: the same owner + selector + terms returns the same claim).

        ``verified=True`` is for the local operator CLI only (the API never passes it).
        """
        request = ClaimRequest(selector, terms, contact, expires_at)
        return self.add_claims(owner, [request], verified=verified)[0]

    def add_claims(
        self, owner: Owner, requests: Sequence[ClaimRequest], *, verified: bool = False
    ) -> list[Claim]:
        """File many claims in one transaction (bulk import); all or nothing.

        Idempotent like ``add_claim``, so an interrupted import is resumed by sending the
        same claims again. One invalid claim rejects the batch, naming its position.
        """
        with self.store.read() as conn:
            proved = self.proofs.proved(conn, owner.id)
        rows: list[dict[str, Any]] = []
        for position, request in enumerate(requests):
            try:
                rows.append(self._claim_values(owner, request, proved, verified))
            except ClaimRejected as exc:
                where = f"claim {position}: " if len(requests) > 1 else ""
                reason = f"{where}{exc}"
                self.store.audit_denied(owner.id, "add_claim", request.selector.kind[:20], reason)
                raise ClaimRejected(reason) from None
        actor = _OPERATOR if verified else owner.id
        stored = []
        with self.store.write() as conn:
            for values in rows:
                row, created = self.store.insert_claim(conn, values)
                stored.append(row)
                if created:
                    detail = {"kind": row.kind, "value": row.value[:300], "terms": row.terms}
                    self.store.audit(
                        conn,
                        actor=actor,
                        action="add_claim",
                        target=row.id,
                        outcome="ok",
                        detail=detail,
                    )
                    if row.kind == "image" and row.status == "unverified":
                        self.reviews.request(conn, row, _NO_WEB_PROOF, actor)
        for row in stored:
            self._apply(row)
        return [claim_of(row) for row in stored]

    def _claim_values(
        self, owner: Owner, request: ClaimRequest, proved: Proved, verified: bool
    ) -> dict[str, Any]:
        """The row to insert for a valid request, or ``ClaimRejected``."""
        clean = normalise_selector(request.selector)
        terms = request.terms
        identity = claim_identity(owner.id, clean, terms)  # also validates terms
        if request.contact is not None and len(request.contact) > _MAX_CONTACT:
            raise ClaimRejected(f"contact text is longer than {_MAX_CONTACT} characters")
        now = now_utc()
        expires = None if request.expires_at is None else as_utc(request.expires_at)
        if expires is not None and expires <= now:
            raise ClaimRejected(f"expiry {expires.isoformat()} is in the past")
        is_proved = verified or proved.covers(clean)
        if terms != "do_not_train" and not is_proved:
            host = proof_domain(clean)
            where = f"domain {host!r}" if host else f"this {clean.kind.replace('_', ' ')}"
            raise ClaimRejected(
                f"terms {terms!r} need verified ownership of {where}; file a do_not_train "
                "claim, verify it (or have it reviewed), then set other terms"
            )
        return {
            "id": uuid.uuid4().hex,
            "owner_id": owner.id,
            "identity": identity,
            "kind": clean.kind,
            "value": clean.value,
            "include_subdomains": clean.include_subdomains,
            "sha256": clean.sha256,
            "md5": clean.md5,
            "pdq": clean.pdq,
            "iscc": clean.iscc,
            "keypoints": clean.keypoints,
            "declaration": request.declaration,
            "terms": terms,
            "contact": request.contact,
            "expires_at": expires,
            "status": "verified" if is_proved else "unverified",
            "created_at": now,
            "changed_at": now,
        }

    def list_claims(
        self, owner: Owner | None = None, *, include_revoked: bool = False
    ) -> list[Claim]:
        with self.store.read() as conn:
            rows = self.store.claim_rows(conn, None if owner is None else owner.id, include_revoked)
            reviews = self.store.latest_reviews(conn, [row.id for row in rows])
        return [claim_of(row, reviews.get(row.id)) for row in rows]

    def get_claim(self, claim_id: str) -> Claim:
        row = self._claim_row(claim_id)
        with self.store.read() as conn:
            review = self.store.latest_reviews(conn, [row.id]).get(row.id)
        return claim_of(row, review)

    def _claim_row(self, claim_id: str) -> Record:
        with self.store.read() as conn:
            row = self.store.claim_by_id(conn, str(claim_id)[:64])
        if row is None:
            raise ClaimNotFoundError(f"no claim with id {str(claim_id)[:40]!r}")
        return row

    def _own_claim(self, owner: Owner, claim_id: str, action: str) -> Record:
        row = self._claim_row(claim_id)
        if row.owner_id != owner.id:
            self.store.audit_denied(owner.id, action, row.id, "claim belongs to another owner")
            raise PermissionDenied(f"claim {row.id} belongs to another owner")
        return row

    def revoke_claim(self, owner: Owner, claim_id: str) -> Claim:
        """Revoke one of the owner's claims (kept, marked revoked, audited)."""
        row = self._own_claim(owner, claim_id, "revoke_claim")
        if row.status != "revoked":
            with self.store.write() as conn:
                self.store.set_claim_status(conn, row.id, "revoked")
                self.store.audit(
                    conn, actor=owner.id, action="revoke_claim", target=row.id, outcome="ok"
                )
                fresh = self.store.claim_by_id(conn, row.id)
            assert fresh is not None  # claims are never deleted
            row = fresh
        self._apply(row)
        return self.get_claim(row.id)

    # verification and review ----------------------------------------------------------

    def verification_instructions(self, owner: Owner, claim_id: str) -> VerificationInstructions:
        """The token to publish for the claim: on its domain (HTTP file or DNS record) or,
        for an account or URL prefix, on the owner's own page there."""
        return self.proofs.instructions(owner, self._own_claim(owner, claim_id, "instructions"))

    def verify(self, owner: Owner, claim_id: str, *, page: str | None = None) -> Claim:
        """Check the claim's proofs (``page``: where the owner put the code, default the
        account's profile or the prefix itself); on proof mark the claim and the owner's
        other claims the proof covers verified. ``VerificationFailedError`` says what each
        proof saw; a page that could not be read queues the claim for review."""
        row = self._own_claim(owner, claim_id, "verify")
        if row.status == "verified":
            return self.get_claim(row.id)
        if row.status in ("revoked", "rejected"):
            raise ClaimRejected(f"claim {row.id} is {row.status}")
        for fresh in self.proofs.verify(owner, row, page):
            self._apply(fresh)
        return self.get_claim(row.id)

    def review_queue(self, status: str | None = "pending") -> list[QueuedClaim]:
        """Reviews with ``status`` (``pending``, ``approved``, ``rejected``; None: all)."""
        return self.reviews.listing(status)

    def decide_review(
        self, operator: Owner | None, claim_id: str, *, approve: bool, reason: str | None = None
    ) -> Claim:
        """Approve or reject (with a reason) a queued claim. ``operator`` None is the local
        admin CLI; an owner must have been granted ``operator`` (``PermissionDenied``)."""
        action = "approve_claim" if approve else "reject_claim"
        if operator is not None and not operator.operator:
            self.store.audit_denied(operator.id, action, str(claim_id)[:64], "not an operator")
            raise PermissionDenied("only registry operators review claims")
        actor = _OPERATOR if operator is None else operator.id
        return self.reviews.decide(actor, claim_id, approve=approve, reason=reason)

    def set_operator(self, owner: Owner, operator: bool = True) -> Owner:
        """Grant (or withdraw) the right to review claims; local admin only (audited)."""
        with self.store.write() as conn:
            self.store.set_operator(conn, owner.id, operator)
            action = "grant_operator" if operator else "withdraw_operator"
            self.store.audit(conn, actor=_OPERATOR, action=action, target=owner.id, outcome="ok")
        return self.owner_by_id(owner.id)

    # decisions ---------------------------------------------------------------------------

    def check(self, items: Sequence[str], *, count_unverified: bool = False) -> list[Decision]:
        """Decide up to ``registry_check_max_items`` items (URLs, ``sha256:``/``md5:``/``pdq:``)."""
        limit = self.settings.registry_check_max_items
        if len(items) > limit:
            raise ClaimRejected(f"{len(items):,} items in one check; at most {limit:,}")
        self.sync()
        with self._lock:
            return self._index.check(items, count_unverified=count_unverified, now=now_utc())

    def decision_index(self) -> DecisionIndex:
        """The synced index, for bulk users in this process (the filter). Read-only use."""
        self.sync()
        return self._index

    def sync(self, *, force: bool = False) -> None:
        """Pick up claims written by other processes (at most every ``registry_sync_seconds``)."""
        clock = time.monotonic()
        if not force and clock - self._synced_clock < self.settings.registry_sync_seconds:
            return
        started = now_utc()
        since = None if self._synced_at is None else self._synced_at - _SYNC_OVERLAP
        with self._lock:
            for row in self.store.iter_claims(since):
                self._index.apply(record_of(row))
            self._synced_at, self._synced_clock = started, clock

    def snapshot(self, out: Path) -> SnapshotInfo:
        """Write a signed snapshot of every active claim to ``out`` and record it."""
        now = now_utc()
        rows = (
            {name: getattr(row, name) for name in SNAPSHOT_SCHEMA.names}
            for row in self.store.iter_claims(None)
            if row.status in ("verified", "unverified")
            and (row.expires_at is None or as_utc(row.expires_at) > now)
        )
        signer = Keyring(self.settings.home / "keys").signer
        info = write_snapshot(rows, out, signer, now, self.settings.tsa_url)
        self.store.record_snapshot(
            {
                "created_at": now,
                "path": str(out),
                "claim_count": info.claim_count,
                "manifest_sha256": info.manifest_sha256,
                "key_fingerprint": info.key_fingerprint,
            }
        )
        return info

    def _apply(self, row: Record) -> None:
        with self._lock:
            self._index.apply(record_of(row))
