"""The registry's rules, fast: ``RegistryService`` over the in-memory store.

The rules (who may claim, revoke, review what; when a claim counts) live in the service and
do not depend on SQL; ``test_store_contract.py`` shows the fake store behaves as the SQL one,
so these run without a database. ``test_service.py`` keeps the same flows on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from traindex.config import Settings
from traindex.registry.errors import AuthError, ClaimRejected, PermissionDenied
from traindex.registry.models import ClaimRequest, Selector
from traindex.registry.service import RegistryService

from .memory_store import MemoryRegistryStore


@pytest.fixture
def service(settings: Settings) -> Iterator[RegistryService]:
    registry = RegistryService(settings, MemoryRegistryStore())
    yield registry
    registry.close()


def _audit(service: RegistryService, action: str) -> list[str]:
    return [e.outcome for e in service.store.audit_entries() if e.action == action]


def test_owners_and_tokens(service: RegistryService) -> None:
    owner, token = service.register_owner("alice")
    assert service.authenticate(token) == owner
    new = service.rotate_token(owner)
    with pytest.raises(AuthError, match="replaced"):
        service.authenticate(token)
    assert service.authenticate(new) == owner
    assert service.owner_named(" alice") == owner
    assert _audit(service, "authenticate") == ["denied"]


def test_claims_are_idempotent_revocable_by_their_owner_and_decide_checks(
    service: RegistryService,
) -> None:
    alice, _ = service.register_owner("alice")
    mallory, _ = service.register_owner("mallory")
    first = service.add_claim(alice, Selector("domain", "Photos.Example.COM."))
    assert service.add_claim(alice, Selector("domain", "photos.example.com")).id == first.id
    url = "https://photos.example.com/a.jpg"
    assert service.check([url])[0].claim_ids == ()  # unverified claims do not count ...
    assert service.check([url], count_unverified=True)[0].claim_ids == (
        first.id,
    )  # ... unless asked
    with pytest.raises(PermissionDenied):
        service.revoke_claim(mallory, first.id)
    assert service.revoke_claim(alice, first.id).status == "revoked"
    service.sync(force=True)
    assert service.check([url], count_unverified=True)[0].claim_ids == ()
    assert [c.id for c in service.list_claims(alice, include_revoked=True)] == [first.id]
    assert _audit(service, "revoke_claim") == ["ok", "denied"]


def test_a_refused_batch_writes_nothing_and_says_where(service: RegistryService) -> None:
    owner, _ = service.register_owner("agency")
    batch = [
        ClaimRequest(Selector("domain", "example.com")),
        ClaimRequest(Selector("domain", "example.org"), "license_required"),
    ]
    with pytest.raises(ClaimRejected, match=r"claim 1: .*verified ownership"):
        service.add_claims(owner, batch)
    assert service.list_claims() == []
    assert _audit(service, "add_claim") == ["denied"]
    operator_made = service.add_claims(owner, batch, verified=True)
    assert [c.status for c in operator_made] == ["verified", "verified"]


def test_image_claims_wait_for_an_operator(service: RegistryService) -> None:
    owner, _ = service.register_owner("painter")
    reviewer, _ = service.register_owner("reviewer")
    claim = service.add_claim(owner, Selector("image", "ab" * 32))
    [queued] = service.review_queue()
    assert (queued.review.claim_id, queued.owner, queued.kind) == (claim.id, "painter", "image")
    with pytest.raises(PermissionDenied):
        service.decide_review(reviewer, claim.id, approve=True)
    reviewer = service.set_operator(reviewer)  # the owner value carries the grant
    approved = service.decide_review(reviewer, claim.id, approve=True)
    assert approved.status == "verified"
    assert approved.review is not None
    assert approved.review.status == "approved"
    assert service.review_queue() == []
    assert service.check([f"sha256:{'ab' * 32}"])[0].claim_ids == (claim.id,)
