"""One contract for every ``RegistryStore``: the in-memory fake, SQLite and PostgreSQL.

The services' unit tests trust the fake; these tests are why they may: each behaviour the
services rely on (uniqueness, atomic writes, orderings, column defaults, timestamps the
store sets) is checked on the fake and on the real SQL store alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from traindex.config import Settings
from traindex.registry.storage import RegistryStore, as_utc
from traindex.registry.store import SqlRegistryStore

from .conftest import database_url
from .memory_store import MemoryRegistryStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, settings: Settings) -> Iterator[RegistryStore]:
    made: RegistryStore
    if request.param == "memory":
        made = MemoryRegistryStore()
    else:
        url = database_url(request, settings, request.param)
        made = SqlRegistryStore.open(settings.home / "unused.sqlite", url)
    yield made
    made.close()


def _owner(store: RegistryStore, name: str, **extra: Any) -> str:
    owner_id = f"o-{name}"
    values = {
        "id": owner_id, "name": name, "email": None, "token_id": f"t-{name}",
        "token_hash": "h", "token_expires_at": T0 + timedelta(days=1), "created_at": T0,
    }  # fmt: skip
    with store.write() as conn:
        assert store.insert_owner(conn, {**values, **extra})
    return owner_id


def _claim(owner_id: str, claim_id: str, identity: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": claim_id, "owner_id": owner_id, "identity": identity, "kind": "domain",
        "value": "example.com", "include_subdomains": False, "terms": "do_not_train",
        "status": "unverified", "created_at": T0, "changed_at": T0, **extra,
    }  # fmt: skip


def test_owner_names_and_token_ids_are_unique_and_columns_default(store: RegistryStore) -> None:
    owner_id = _owner(store, "alice")
    with store.write() as conn:
        assert not store.insert_owner(conn, {"id": "x", "name": "alice", "token_id": "new",
                                             "token_hash": "h", "token_expires_at": T0,
                                             "created_at": T0})  # fmt: skip
        assert not store.insert_owner(conn, {"id": "y", "name": "bob", "token_id": "t-alice",
                                             "token_hash": "h", "token_expires_at": T0,
                                             "created_at": T0})  # fmt: skip
    with store.read() as conn:
        row = store.owner_by(conn, "name", "alice")
        assert row is not None
        assert row.id == owner_id
        assert row.operator is None  # unset columns read as NULL
        assert row.email is None
        assert store.owner_by(conn, "token_id", "t-alice") is not None
        assert store.owner_by(conn, "name", "bob") is None
        assert store.owner_by(conn, "id", "x") is None


def test_token_and_operator_updates(store: RegistryStore) -> None:
    owner_id = _owner(store, "alice")
    later = T0 + timedelta(days=30)
    with store.write() as conn:
        store.set_token(conn, owner_id, "t-new", "h2", later)
        store.set_operator(conn, owner_id, True)
        store.set_operator(conn, "nobody", True)  # no such owner: nothing happens
    with store.read() as conn:
        row = store.owner_by(conn, "token_id", "t-new")
        assert row is not None
        assert (row.id, row.token_hash, bool(row.operator)) == (owner_id, "h2", True)
        assert as_utc(row.token_expires_at) == later
        assert store.owner_by(conn, "token_id", "t-alice") is None


def test_one_live_claim_per_identity_and_a_revoked_one_can_be_made_again(
    store: RegistryStore,
) -> None:
    owner_id = _owner(store, "alice")
    with store.write() as conn:
        first, created = store.insert_claim(conn, _claim(owner_id, "c1", "same"))
        assert created
        again, created = store.insert_claim(conn, _claim(owner_id, "c2", "same"))
        assert not created
        assert again.id == "c1"
        assert first.sha256 is None  # unset columns read as NULL
        store.set_claim_status(conn, "c1", "revoked")
        renewed, created = store.insert_claim(conn, _claim(owner_id, "c3", "same"))
        assert created
        assert renewed.id == "c3"
    assert store.claim_counts() == {"revoked": 1, "unverified": 1}


def _claim_then_fail(store: RegistryStore, owner_id: str) -> None:
    with store.write() as conn:
        store.insert_claim(conn, _claim(owner_id, "c1", "i1"))
        store.audit(conn, actor=owner_id, action="add_claim", target="c1", outcome="ok")
        raise RuntimeError("half-way")


def test_a_failed_write_leaves_nothing_behind(store: RegistryStore) -> None:
    owner_id = _owner(store, "alice")
    entries = len(store.audit_entries())
    with pytest.raises(RuntimeError, match="half-way"):
        _claim_then_fail(store, owner_id)
    with store.read() as conn:
        assert store.claim_by_id(conn, "c1") is None
    assert len(store.audit_entries()) == entries
    assert store.claim_counts() == {}


def test_claim_listings_order_filter_and_stream_by_change(store: RegistryStore) -> None:
    alice, bob = _owner(store, "alice"), _owner(store, "bob")
    with store.write() as conn:
        store.insert_claim(conn, _claim(bob, "b", "ib", created_at=T0 + timedelta(hours=2)))
        store.insert_claim(conn, _claim(alice, "a2", "ia2", created_at=T0 + timedelta(hours=1)))
        store.insert_claim(conn, _claim(alice, "a1", "ia1", created_at=T0 + timedelta(hours=1)))
        store.insert_claim(conn, _claim(alice, "a0", "ia0", status="verified"))
    before = datetime.now(UTC) - timedelta(seconds=1)
    with store.write() as conn:
        store.set_claim_status(conn, "a2", "revoked")
    with store.read() as conn:
        every = store.claim_rows(conn, None, True)
        assert [r.id for r in every] == ["a0", "a1", "a2", "b"]  # created_at, then id
        assert [r.id for r in store.claim_rows(conn, alice, False)] == ["a0", "a1"]
        assert [r.id for r in store.unverified_claims(conn, alice)] == ["a1"]
        revoked = store.claim_by_id(conn, "a2")
        assert revoked is not None
        assert as_utc(revoked.changed_at) >= before  # the store stamps the change
    assert {r.id for r in store.iter_claims(None)} == {"a0", "a1", "a2", "b"}
    assert [r.id for r in store.iter_claims(before)] == ["a2"]
    assert store.claim_counts() == {"verified": 1, "unverified": 2, "revoked": 1}


def test_audit_entries_newest_first_cut_and_denials(store: RegistryStore) -> None:
    with store.write() as conn:
        for n in range(3):
            store.audit(conn, actor="a", action=f"act{n}", target="t" * 500, outcome="ok",
                        detail={"blob": "x" * 5_000})  # fmt: skip
    store.audit_denied("mallory", "verify", "c9", "no pending token")
    entries = store.audit_entries()
    assert [e.action for e in entries] == ["verify", "act2", "act1", "act0"]
    assert [e.action for e in store.audit_entries(limit=2)] == ["verify", "act2"]
    denied = entries[0]
    assert (denied.actor, denied.target, denied.outcome) == ("mallory", "c9", "denied")
    assert "no pending token" in denied.detail
    assert len(entries[1].target) == 200
    assert len(entries[1].detail) == 2_000


def test_verifications_pending_newest_unexpired_and_proofs_by_method(
    store: RegistryStore,
) -> None:
    owner_id = _owner(store, "alice")
    now = datetime.now(UTC)
    with store.write() as conn:
        store.insert_claim(conn, _claim(owner_id, "c1", "i1"))
        for token, expires in (("old", now + timedelta(hours=1)), ("gone", now - timedelta(1)),
                               ("new", now + timedelta(hours=2))):  # fmt: skip
            store.insert_verification(conn, {
                "owner_id": owner_id, "claim_id": "c1", "domain": "example.com",
                "token": token, "status": "pending", "created_at": now, "expires_at": expires,
            })  # fmt: skip
    with store.read() as conn:
        pending = store.pending_verification(conn, "c1", now)
        assert pending is not None
        assert pending.token == "new"
        assert store.pending_verification(conn, "c1", now + timedelta(hours=3)) is None
    with store.write() as conn:
        store.finish_verification(conn, pending.id, "verified", "dns", "found it")
        still = store.pending_verification(conn, "c1", now)
        assert still is not None
        assert still.token == "old"  # the finished one no longer waits
        store.insert_verification(conn, {
            "owner_id": owner_id, "claim_id": "c1", "domain": "", "scope": "flickr:abc",
            "token": "p", "status": "pending", "created_at": now,
            "expires_at": now + timedelta(hours=1),
        })  # fmt: skip
        page = store.pending_verification(conn, "c1", now)
        assert page is not None
        assert page.token == "p"
        store.finish_verification(conn, page.id, "verified", "page", "seen", page="https://x/y")
    with store.read() as conn:
        assert store.verified_domains(conn, owner_id) == {"example.com"}
        assert store.verified_scopes(conn, owner_id) == {"flickr:abc"}
        assert store.verified_domains(conn, "nobody") == set()


def test_reviews_join_their_claim_and_owner_and_keep_history(store: RegistryStore) -> None:
    alice, bob = _owner(store, "alice"), _owner(store, "bob")
    with store.write() as conn:
        store.insert_claim(conn, _claim(alice, "a", "ia", kind="image", value="sha256:ab"))
        store.insert_claim(conn, _claim(bob, "b", "ib"))
        for claim_id, owner_id, hours in (("b", bob, 2), ("a", alice, 1)):
            store.insert_review(conn, {
                "claim_id": claim_id, "owner_id": owner_id, "status": "pending",
                "why": "no web proof", "requested_at": T0 + timedelta(hours=hours),
            })  # fmt: skip
    with store.read() as conn:
        rows = store.review_rows(conn, "pending")
        assert [(r.claim_id, r.owner_name, r.kind, r.value, r.terms) for r in rows] == [
            ("a", "alice", "image", "sha256:ab", "do_not_train"),
            ("b", "bob", "domain", "example.com", "do_not_train"),
        ]
        first = store.pending_review(conn, "a")
        assert first is not None
    with store.write() as conn:
        store.decide_review(conn, first.id, "rejected", "operator", "not yours")
        store.insert_review(conn, {
            "claim_id": "a", "owner_id": alice, "status": "pending", "why": "again",
            "requested_at": T0 + timedelta(hours=3),
        })  # fmt: skip
    with store.read() as conn:
        assert [r.claim_id for r in store.review_rows(conn, "rejected")] == ["a"]
        assert len(store.review_rows(conn, None)) == 3
        latest = store.latest_reviews(conn, ["a", "b", "zzz"])
        assert set(latest) == {"a", "b"}
        assert latest["a"].why == "again"
        decided = store.review_rows(conn, "rejected")[0]
        assert (decided.decided_by, decided.reason) == ("operator", "not yours")
        assert decided.decided_at is not None


def test_a_handle_the_store_did_not_give_is_refused(store: RegistryStore) -> None:
    with pytest.raises(TypeError, match="not a transaction"):
        store.claim_by_id(object(), "c1")
