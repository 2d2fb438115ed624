"""Owner API tokens: ``tdx_<token id>_<secret>``, shown once, stored as an argon2 hash.

The token id is a public lookup key (so authentication hashes once, not once per owner);
the secret never touches the database. Argon2 is deliberately slow, so tokens that have
verified once are remembered in process memory by their SHA-256 for a short while (see
``owners``); rotating a token forgets it at once in the rotating process, and everywhere
within that while (a rotated token's id no longer exists, so a replayed old token fails).

Each argon2 call holds 64 MiB while it runs, so an anonymous flood of registrations or
first logins could make the server hold gigabytes. ``PasswordHashing`` lets only as many
run at once as fit the configured memory; the rest wait their turn.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import threading
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from traindex.registry.errors import AuthError

__all__ = ["PasswordHashing", "Slots", "TokenCache", "new_token", "parse_token"]

_TOKEN = re.compile(r"tdx_([0-9a-f]{16})_([A-Za-z0-9_\-]{20,100})")


def new_token() -> tuple[str, str, str]:
    """A fresh ``(token, token_id, secret)``."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return f"tdx_{token_id}_{secret}", token_id, secret


def parse_token(token: str) -> tuple[str, str]:
    """``(token_id, secret)`` of a well-formed token; ``AuthError`` otherwise."""
    match = _TOKEN.fullmatch(token.strip()) if isinstance(token, str) else None
    if match is None:
        raise AuthError("malformed API token (expected tdx_<id>_<secret>)")
    return match.group(1), match.group(2)


class Slots:
    """A bounded semaphore that also counts who is inside and who waits (for tests/metrics)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self.inside = 0
        self.waiting = 0

    def __enter__(self) -> Slots:
        with self._lock:
            self.waiting += 1
        self._slots.acquire()
        with self._lock:
            self.waiting -= 1
            self.inside += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.inside -= 1
        self._slots.release()


@functools.cache
def _process_slots(size: int) -> Slots:
    return Slots(size)


class PasswordHashing:
    """argon2 hash/verify, at most ``memory_mb // 64 MiB`` (at least one) at a time.

    The slots are shared by every ``PasswordHashing`` of this process with the same size
    (the API and the web pages each open a registry service, but share one memory)."""

    def __init__(self, memory_mb: int, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        per_call_mb = max(1, self.hasher.memory_cost // 1024)  # memory_cost is in KiB
        size = max(1, memory_mb // per_call_mb)
        self.slots = _process_slots(size)

    def hash(self, secret: str) -> str:
        with self.slots:
            return self.hasher.hash(secret)

    def matches(self, stored_hash: str, secret: str) -> bool:
        with self.slots:
            try:
                return self.hasher.verify(stored_hash, secret)
            except (VerificationError, InvalidHashError):
                return False


class TokenCache:
    """SHA-256 of verified tokens -> (owner id, expiry); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, tuple[str, datetime]] = {}

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str, now: datetime) -> str | None:
        with self._lock:
            found = self._known.get(self._key(token))
        if found is None or found[1] <= now:
            return None
        return found[0]

    def put(self, token: str, owner_id: str, expires: datetime) -> None:
        with self._lock:
            self._known[self._key(token)] = (owner_id, expires)

    def forget_owner(self, owner_id: str) -> None:
        with self._lock:
            for key in [k for k, (o, _) in self._known.items() if o == owner_id]:
                del self._known[key]
