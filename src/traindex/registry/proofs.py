"""Proofs of control for claims: a domain (HTTP file or DNS record, ``verify``) or a page of
an account or URL prefix (a code on the owner's own page, ``pages``).

``ClaimProofs`` hands out one token per claim (valid ``registry_verification_ttl_hours``),
checks it and, on success, marks verified every unverified claim of the owner that the
proof covers: a domain proof covers the domain and below, an account proof the claims on
that account, a prefix proof the URLs and prefixes under it. A page that could not be
read at all sends the claim to the operators' review queue (``reviews``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from traindex.config import Settings
from traindex.registry.errors import ClaimRejected, VerificationFailedError
from traindex.registry.models import Owner, Selector, VerificationInstructions
from traindex.registry.owners import now_utc
from traindex.registry.pages import PageOutcome, PageProver, Scope, proof_scope
from traindex.registry.reviews import ReviewQueue
from traindex.registry.rows import claim_of
from traindex.registry.selectors import proof_domain
from traindex.registry.storage import Record, RegistryStore, Transaction, as_utc
from traindex.registry.verify import DNS_PREFIX, ProofResult, Verifier

__all__ = ["ClaimProofs", "Proved"]


@dataclass(frozen=True, slots=True)
class Proved:
    """What an owner has proved: domains and page scopes."""

    domains: frozenset[str]
    scopes: tuple[Scope, ...]

    def covers(self, selector: Selector) -> bool:
        host = proof_domain(selector)
        if host is not None and any(
            host == domain or host.endswith("." + domain) for domain in self.domains
        ):
            return True
        return any(scope.covers(selector) for scope in self.scopes)


class ClaimProofs:
    """Instructions and checks for both kinds of proof."""

    def __init__(self, settings: Settings, store: RegistryStore, reviews: ReviewQueue) -> None:
        self.settings = settings
        self.store = store
        self.reviews = reviews
        self.verifier = Verifier(settings)
        self.pages = PageProver(settings)

    def proved(self, conn: Transaction, owner_id: str) -> Proved:
        scopes = tuple(Scope.parse(key) for key in self.store.verified_scopes(conn, owner_id))
        return Proved(frozenset(self.store.verified_domains(conn, owner_id)), scopes)

    def instructions(self, owner: Owner, row: Record) -> VerificationInstructions:
        """The token to publish (a pending one is reused until it expires)."""
        selector = claim_of(row).selector
        domain, scope = proof_domain(selector), proof_scope(selector)
        if domain is None and scope is None:
            raise ClaimRejected(
                f"{row.kind} claims cannot be proved by a web page or DNS; "
                "registry operators review them"
            )
        now = now_utc()
        with self.store.write() as conn:
            pending = self.store.pending_verification(conn, row.id, now)
            if pending is None:
                token = secrets.token_urlsafe(24)
                expires = now + timedelta(hours=self.settings.registry_verification_ttl_hours)
                self.store.insert_verification(
                    conn,
                    {
                        "owner_id": owner.id,
                        "claim_id": row.id,
                        "domain": domain or "",
                        "scope": None if scope is None else scope.key,
                        "token": token,
                        "status": "pending",
                        "created_at": now,
                        "expires_at": expires,
                    },
                )
            else:
                token, expires = pending.token, as_utc(pending.expires_at)
        return VerificationInstructions(
            row.id,
            domain or "",
            token,
            "" if domain is None else self.verifier.http_url(domain),
            "" if domain is None else DNS_PREFIX + domain,
            f"traindex-verification={token}",
            expires,
            None if scope is None else scope.default_page,
            None if scope is None else scope.key,
        )

    def verify(self, owner: Owner, row: Record, page: str | None) -> list[Record]:
        """Run the claim's proofs (the page first, then the domain's); on success mark the
        covered claims verified and return their fresh rows. ``VerificationFailedError``
        says what each proof saw; ``ClaimRejected`` if ``page`` is not the owner's page."""
        with self.store.read() as conn:
            pending = self.store.pending_verification(conn, row.id, now_utc())
        if pending is None:
            self.store.audit_denied(owner.id, "verify", row.id, "no pending token")
            raise VerificationFailedError(
                "no unexpired verification token: ask for instructions first"
            )
        scope = None if pending.scope is None else Scope.parse(pending.scope)
        if scope is not None:
            try:
                page = self.pages.check_page(scope, page)
            except ClaimRejected as exc:
                self.store.audit_denied(owner.id, "verify", row.id, str(exc))
                raise
        outcome = None if scope is None else self.pages.prove(scope, str(page), pending.token)
        result = self._result(pending, outcome)
        with self.store.write() as conn:
            # A failed check keeps the code pending (until it expires): the owner fixes the
            # page and checks again instead of pasting a new code; the audit keeps each try.
            status = "verified" if result.method else "pending"
            found = None if outcome is None else outcome.page
            self.store.finish_verification(
                conn, pending.id, status, result.method, result.detail, found
            )
            proof = Proved(
                frozenset({pending.domain} if result.method in ("http", "dns") else ()),
                (scope,) if result.method == "page" and scope is not None else (),
            )
            changed = self._mark_covered(conn, owner, proof) if result.method else []
            unread = outcome is not None and not outcome.reachable and result.method is None
            if unread:
                self.reviews.request(conn, row, result.detail, owner.id)
            self.store.audit(
                conn,
                actor=owner.id,
                action="verify",
                target=row.id,
                outcome="denied" if result.method is None else "ok",
                detail={
                    "method": result.method,
                    "domain": pending.domain,
                    "scope": pending.scope,
                    "page": found,
                    "detail": result.detail,
                    "claims": [r.id for r in changed],
                },
            )
        if result.method is None:
            queued = "; the claim is queued for an operator's review" if unread else ""
            what = pending.scope or pending.domain
            raise VerificationFailedError(f"could not verify {what}: {result.detail}{queued}")
        return changed

    def _result(self, pending: Record, outcome: PageOutcome | None) -> ProofResult:
        if outcome is not None and outcome.found:
            return ProofResult("page", outcome.detail)
        if not pending.domain:
            return ProofResult(None, outcome.detail if outcome else "no proof applies")
        domain = self.verifier.prove(pending.domain, pending.token)
        if domain.method is not None or outcome is None:
            return domain
        return ProofResult(None, f"page: {outcome.detail}; {domain.detail}")

    def _mark_covered(self, conn: Transaction, owner: Owner, proof: Proved) -> list[Record]:
        """Mark the owner's unverified claims covered by ``proof`` verified; the new rows."""
        changed = []
        for candidate in self.store.unverified_claims(conn, owner.id):
            if proof.covers(claim_of(candidate).selector):
                self.store.set_claim_status(conn, candidate.id, "verified")
                fresh = self.store.claim_by_id(conn, candidate.id)
                if fresh is not None:
                    changed.append(fresh)
        return changed
