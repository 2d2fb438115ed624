"""Limits an anonymous caller cannot get around (issue 16 items 2-4).

* invented bearer tokens share the client address's bucket (only a verified token has its own);
* registrations have their own per-address bucket;
* argon2 runs at most ``memory // 64 MiB`` at a time (counted, not timed);
* failed logins write one audit row per client and window, with the count of the rest.
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from traindex.config import Settings
from traindex.registry.errors import AuthError
from traindex.registry.refusals import RefusalThrottle
from traindex.registry.service import RegistryService
from traindex.registry.tokens import PasswordHashing
from traindex.server.app import create_app


def _client(tmp_path: Path, **limits: float) -> TestClient:
    return TestClient(create_app(Settings(home=tmp_path / "home", **limits)))  # type: ignore[arg-type]


def _invented() -> dict[str, str]:
    return {"Authorization": f"Bearer tdx_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"}


def test_invented_tokens_meet_the_client_limit(tmp_path: Path) -> None:
    client = _client(tmp_path, registry_rate_per_second=0.001, registry_rate_burst=20)
    statuses = [
        client.post(
            "/api/registry/check", json={"items": ["https://a.example/x.jpg"]}, headers=_invented()
        ).status_code
        for _ in range(50)
    ]
    assert statuses[:20] == [200] * 20
    assert statuses[20:] == [429] * 30


def test_a_verified_token_has_its_own_bucket(tmp_path: Path) -> None:
    client = _client(
        tmp_path, registry_rate_per_second=0.001, registry_rate_burst=4, registry_hash_memory_mb=64
    )
    token = client.post("/api/registry/owners", json={"name": "agency"}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/registry/owners/me", headers=auth).status_code == 200  # verifies
    for _ in range(2):  # the anonymous bucket (3 of 4 used so far) runs dry
        client.get("/api/registry/claims")
    assert client.get("/api/registry/claims").status_code == 429
    assert client.get("/api/registry/owners/me", headers=auth).status_code == 200
    limited = client.get("/api/registry/claims", headers=_invented())
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1


def test_registrations_are_limited_per_address(tmp_path: Path) -> None:
    client = _client(tmp_path, registry_registration_burst=3, registry_registrations_per_hour=1)
    statuses = [
        client.post("/api/registry/owners", json={"name": f"owner {i}"}).status_code
        for i in range(6)
    ]
    assert statuses == [201, 201, 201, 429, 429, 429]


class _BlockingHasher:
    """Stands in for argon2: blocks inside ``hash`` until released, so entries can be counted."""

    memory_cost = 65536  # KiB, as argon2-cffi's default

    def __init__(self) -> None:
        self.go = threading.Event()

    def hash(self, secret: str) -> str:
        self.go.wait()
        return "h:" + secret


def test_hashing_slots_bound_concurrency_to_the_memory_budget() -> None:
    fake = _BlockingHasher()
    hashing = PasswordHashing(memory_mb=130, hasher=fake)  # type: ignore[arg-type]
    assert hashing.slots.size == 2
    threads = [threading.Thread(target=hashing.hash, args=(str(i),)) for i in range(6)]
    for thread in threads:
        thread.start()
    seen = threading.Event()
    while not seen.is_set():  # wait (no clock) until every thread is inside or queued
        seen.wait(0.01)
        if hashing.slots.inside + hashing.slots.waiting == 6:
            seen.set()
    assert (hashing.slots.inside, hashing.slots.waiting) == (2, 4)
    fake.go.set()
    for thread in threads:
        thread.join()
    assert (hashing.slots.inside, hashing.slots.waiting) == (0, 0)


def test_default_budget_allows_three_argon2_calls_at_once() -> None:
    assert PasswordHashing(Settings().registry_hash_memory_mb).slots.size == 3


def test_failed_logins_write_one_audit_row_per_client_window(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    service = RegistryService.open(settings)
    before = len(service.store.audit_entries())
    for i in range(300):
        token = f"tdx_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}" if i % 2 else "junk"
        with pytest.raises(AuthError):
            service.authenticate(token, client="203.0.113.7")
    entries = service.store.audit_entries()
    rows = entries[: len(entries) - before]  # newest first
    assert [(r.action, r.outcome) for r in rows] == [("authenticate", "denied")]
    assert '"client": "203.0.113.7"' in rows[0].detail
    service.close()


def test_refusal_throttle_counts_the_suppressed_ones() -> None:
    now = [0.0]
    throttle = RefusalThrottle(window=60.0, max_clients=2, clock=lambda: now[0])
    assert throttle.admit("a", "authenticate") == 0
    assert [throttle.admit("a", "authenticate") for _ in range(5)] == [None] * 5
    assert throttle.admit("b", "authenticate") == 0
    assert throttle.admit("c", "authenticate") == 0  # third client: shares the "*" key
    assert throttle.admit("d", "authenticate") is None
    now[0] = 61.0
    assert throttle.admit("a", "authenticate") == 5  # the next row carries the count
