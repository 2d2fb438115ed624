"""RegistryService on SQLite and PostgreSQL: owners, tokens, claims, refusals, audit."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from traindex.config import Settings
from traindex.registry.errors import (
    AuthError,
    ClaimRejected,
    OwnerExistsError,
    PermissionDenied,
)
from traindex.registry.models import Selector
from traindex.registry.service import RegistryService
from traindex.registry.tables import audit_log, claims


def _claim_count(service: RegistryService) -> int:
    with service.store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(claims)).scalar_one())


def _denied(service: RegistryService, action: str) -> list[str]:
    return [
        row.detail
        for row in service.store.audit_entries()
        if row.action == action and row.outcome == "denied"
    ]


def test_tokens_authenticate_and_refuse(service: RegistryService) -> None:
    owner, token = service.register_owner("Alice Photo", "alice@example.org")
    assert service.authenticate(token) == owner
    assert service.authenticate(token) == owner  # cached path gives the same owner
    for bad in ("", "tdx_nothex_x", token[:-3] + "AAA", "Bearer " + token):
        with pytest.raises(AuthError):
            service.authenticate(bad)
    new = service.rotate_token(owner)
    with pytest.raises(AuthError, match="replaced"):
        service.authenticate(token)  # replayed old token
    assert service.authenticate(new) == owner
    assert len(_denied(service, "authenticate")) == 5
    with pytest.raises(OwnerExistsError):
        service.register_owner("Alice Photo")


def test_expired_token_refused(settings: Settings, registry_url: str) -> None:
    short = Settings(home=settings.home, registry_token_ttl_days=1e-9)
    registry = RegistryService.open(short, registry_url)
    _, token = registry.register_owner("brief")
    with pytest.raises(AuthError, match="expired"):
        registry.authenticate(token)
    registry.close()


def test_claims_are_idempotent_and_revocable_only_by_owner(service: RegistryService) -> None:
    alice, _ = service.register_owner("alice")
    mallory, _ = service.register_owner("mallory")
    first = service.add_claim(alice, Selector("domain", "Photos.Example.COM."))
    again = service.add_claim(alice, Selector("domain", "photos.example.com"))
    assert first.id == again.id
    assert first.selector.value == "photos.example.com"
    assert first.status == "unverified"
    with pytest.raises(PermissionDenied):
        service.revoke_claim(mallory, first.id)
    assert service.get_claim(first.id).status == "unverified"
    assert len(_denied(service, "revoke_claim")) == 1
    revoked = service.revoke_claim(alice, first.id)
    assert revoked.status == "revoked"
    assert service.list_claims(alice) == []
    assert [c.id for c in service.list_claims(alice, include_revoked=True)] == [first.id]
    renewed = service.add_claim(alice, Selector("domain", "photos.example.com"))
    assert renewed.id != first.id
    assert _claim_count(service) == 2


@pytest.mark.parametrize(
    ("selector", "terms", "reason"),
    [
        (Selector("domain", "*"), "do_not_train", "wildcard"),
        (Selector("domain", "*.example.com"), "do_not_train", "wildcard"),
        (Selector("domain", "co.uk"), "do_not_train", "public suffix"),
        (Selector("domain", "github.io"), "do_not_train", "public suffix"),
        (Selector("url_prefix", "https://co.uk/"), "do_not_train", "public suffix"),
        (Selector("url", "https://x.org/" + "a" * 1_000_000), "do_not_train", "characters long"),
        (Selector("domain", "x'; DROP TABLE claims; --"), "do_not_train", "bare domain"),
        (Selector("flickr_owner", "1 OR 1=1; --"), "do_not_train", "neither an NSID"),
        (Selector("url", "ftp://example.com/a"), "do_not_train", "scheme"),
        (Selector("image", "abc"), "do_not_train", "64 hex"),
        (Selector("domain", "example.com"), "license_required", "verified ownership"),
        (Selector("flickr_owner", "12345678@N00"), "allow", "ownership of this flickr owner"),
        (Selector("image", "ab" * 32), "allow", "ownership of this image"),
        (Selector("domain", "example.com"), "everything", "unknown terms"),
    ],
)
def test_bad_claims_rejected_nothing_written(
    service: RegistryService, selector: Selector, terms: str, reason: str
) -> None:
    owner, _ = service.register_owner("owner")
    with pytest.raises(ClaimRejected, match=reason):
        service.add_claim(owner, selector, terms)
    assert _claim_count(service) == 0
    assert len(_denied(service, "add_claim")) == 1


def test_sql_looking_values_are_just_data(service: RegistryService) -> None:
    owner, _ = service.register_owner("Robert'); DROP TABLE owners;--")
    url = "https://example.com/x'%20OR%201=1;--/a.jpg?q=';DELETE FROM claims;"
    claim = service.add_claim(owner, Selector("url", url))
    assert service.list_claims()[0].id == claim.id
    assert service.owner_named("Robert'); DROP TABLE owners;--") == owner
    decision = service.check([url], count_unverified=True)[0]
    assert decision.claim_ids == (claim.id,)


def test_claims_and_audit_cannot_be_deleted_or_edited(service: RegistryService) -> None:
    owner, _ = service.register_owner("o")
    service.add_claim(owner, Selector("domain", "example.com"))
    for statement in ("DELETE FROM claims", "UPDATE audit_log SET outcome = 'ok'"):
        with pytest.raises(DBAPIError), service.store.write() as conn:
            conn.execute(text(statement))
    assert _claim_count(service) == 1
    with service.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() >= 2


def test_operator_verified_and_permissive_terms(service: RegistryService) -> None:
    owner, _ = service.register_owner("agency")
    claim = service.add_claim(
        owner,
        Selector("domain", "agency.example"),
        "license_required",
        contact="licensing@agency.example, 20 EUR/image",
        verified=True,
    )
    assert claim.status == "verified"
    decision = service.check(["https://cdn.agency.example/p/1.jpg"])[0]
    assert (decision.decision, decision.claim_ids, decision.verified) == (
        "license_required",
        (claim.id,),
        True,
    )
    # an operator's word covers that claim only, not later ones: no domain proof exists
    with pytest.raises(ClaimRejected, match="verified ownership"):
        service.add_claim(owner, Selector("url", "https://agency.example/free.jpg"), "allow")


def test_expiry_in_past_rejected_and_expired_claims_stop_counting(
    service: RegistryService,
) -> None:
    owner, _ = service.register_owner("o")
    with pytest.raises(ClaimRejected, match="past"):
        service.add_claim(
            owner,
            Selector("domain", "example.com"),
            expires_at=datetime.now(UTC) - timedelta(seconds=1),
        )
    soon = datetime.now(UTC) + timedelta(days=1)
    claim = service.add_claim(owner, Selector("domain", "example.com"), expires_at=soon)
    assert claim.expires_at == soon
    index = service.decision_index()
    later = soon + timedelta(seconds=1)
    assert index.check(["https://example.com/"], count_unverified=True, now=later)[0].decision == (
        "unknown"
    )


def test_concurrent_identical_claims_collapse(service: RegistryService) -> None:
    owner, _ = service.register_owner("o")
    ids: list[str] = []

    def add() -> None:
        ids.append(service.add_claim(owner, Selector("url", "https://example.com/a.jpg")).id)

    threads = [threading.Thread(target=add) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1
    assert _claim_count(service) == 1


def test_other_process_writes_are_synced(settings: Settings, registry_url: str) -> None:
    reader = RegistryService.open(settings, registry_url)
    writer = RegistryService.open(settings, registry_url)
    assert reader.check(["https://example.com/a"], count_unverified=True)[0].decision == "unknown"
    owner, _ = writer.register_owner("o")
    claim = writer.add_claim(owner, Selector("domain", "example.com"))
    reader.sync(force=True)
    assert reader.check(["https://example.com/a"], count_unverified=True)[0].claim_ids == (
        claim.id,
    )
    writer.revoke_claim(owner, claim.id)
    reader.sync(force=True)
    assert reader.check(["https://example.com/a"], count_unverified=True)[0].claim_ids == ()
    reader.close()
    writer.close()


def test_image_claims_match_same_file_and_same_image(
    service: RegistryService, shared_data: Path
) -> None:
    from traindex.fingerprint.pdq import PdqFingerprinter

    data = (shared_data / "conceptual-12m" / "images" / "cc12m_1.jpg").read_bytes()
    owner, _ = service.register_owner("photographer")
    claim = service.add_claim(owner, Selector.for_image(data), verified=True)
    sel = claim.selector
    assert sel.sha256
    assert sel.md5
    assert sel.pdq
    flipped = list(sel.pdq)
    flipped[0] = "f" if flipped[0] != "f" else "0"  # <= 4 bits away: same image
    far = (
        PdqFingerprinter()
        .fingerprint((shared_data / "conceptual-12m" / "images" / "cc12m_2.jpg").read_bytes())
        .hex
    )
    items = [
        f"sha256:{sel.sha256}",
        f"md5:{sel.md5.upper()}",
        f"pdq:{''.join(flipped)}",
        f"pdq:{far}",
    ]
    got = [d.claim_ids for d in service.check(items)]
    assert got == [(claim.id,), (claim.id,), (claim.id,), ()]
    with pytest.raises(ClaimRejected, match="cannot read"):
        Selector.for_image(b"not an image")
