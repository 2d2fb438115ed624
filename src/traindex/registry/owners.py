"""Owner accounts and their API tokens (the half of the registry service that is about who).

``OwnerAccounts`` is the base of ``RegistryService``; it is split out only to keep each file
readable. Registration returns the plaintext token once; authentication refuses malformed,
unknown, replaced (rotated) and expired tokens, and records refusals in the audit log: every
one made through the library or CLI, and for a network client (``client`` given) one row per
client and window with the count of the others (``refusals``), so refusals that cost the
caller nothing cannot grow the append-only log without bound.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from traindex.config import Settings
from traindex.registry.errors import AuthError, ClaimRejected, OwnerExistsError
from traindex.registry.models import Owner
from traindex.registry.refusals import RefusalThrottle
from traindex.registry.storage import Record, RegistryStore, as_utc
from traindex.registry.tokens import PasswordHashing, TokenCache, new_token, parse_token

__all__ = ["OWNER_NAME_PATTERN", "OwnerAccounts", "now_utc"]

_CACHE_FOR = timedelta(seconds=60)
"""How long a verified token skips argon2 in this process. Short, because a token rotated
through another process (CLI, second server) must stop working here soon too."""


def _name_pattern() -> str:
    """Owner names: no control, format or private-use characters, no line or paragraph
    separators, no spaces but U+0020, and not only spaces. (Lone surrogates cannot arrive:
    the API refuses them while decoding, and Rust's regex cannot name them.)

    One regex for both the service and the API schema, so a schema-valid name is never
    refused; ``\\U`` escapes are read alike by Python's and pydantic's (Rust) regex."""
    refused = {"Cc", "Cf", "Co", "Zl", "Zp"}
    bad = [
        c
        for c in range(0x110000)
        if unicodedata.category(chr(c)) in refused
        or (unicodedata.category(chr(c)) == "Zs" and c != 0x20)
    ]
    ranges, start = [], 0
    for i in range(1, len(bad) + 1):
        if i == len(bad) or bad[i] != bad[i - 1] + 1:
            low, high = bad[start], bad[i - 1]
            ranges.append(f"\\U{low:08x}" + ("" if low == high else f"-\\U{high:08x}"))
            start = i
    cls = "".join(ranges)
    return f"^[^{cls}]*[^{cls} ][^{cls}]*$"


OWNER_NAME_PATTERN = _name_pattern()
_OWNER_NAME = re.compile(OWNER_NAME_PATTERN)


def now_utc() -> datetime:
    return datetime.now(UTC)


def _owner(row: Record) -> Owner:
    return Owner(row.id, row.name, row.email, as_utc(row.created_at), bool(row.operator))


class OwnerAccounts:
    """Register, authenticate and look up owners in one registry store."""

    def __init__(self, settings: Settings, store: RegistryStore) -> None:
        self.settings = settings
        self.store = store
        self._tokens = TokenCache()
        self.hashing = PasswordHashing(settings.registry_hash_memory_mb)
        self._refusals = RefusalThrottle(settings.registry_audit_window_seconds)

    def _deny(self, action: str, target: str | None, reason: str, client: str | None) -> None:
        """Audit an anonymous refusal (throttled per network ``client``; see module doc)."""
        if client is None:
            self.store.audit_denied(None, action, target, reason)
            return
        suppressed = self._refusals.admit(client, action)
        if suppressed is None:
            return
        detail = {"reason": reason, "client": client, "suppressed_before": suppressed}
        with self.store.write() as conn:
            self.store.audit(
                conn, actor=None, action=action, target=target, outcome="denied", detail=detail
            )

    def verified_owner_id(self, token: str) -> str | None:
        """The owner id of a token verified recently in this process (no hashing, no I/O)."""
        return self._tokens.get(token, now_utc())

    def register_owner(
        self, name: str, email: str | None = None, *, client: str | None = None
    ) -> tuple[Owner, str]:
        """Create an owner; returns it with its API token (shown once, stored hashed)."""
        raw = name if isinstance(name, str) else ""
        clean = raw.strip(" ")
        if len(raw) > 200 or not _OWNER_NAME.fullmatch(raw):
            self._deny("register_owner", clean[:80], "invalid owner name", client)
            raise ClaimRejected("owner name must be 1-200 printable characters")
        if email is not None and (len(email) > 320 or "@" not in email):
            self._deny("register_owner", clean, "invalid e-mail", client)
            raise ClaimRejected("e-mail must be an address of at most 320 characters")
        token, token_id, secret = new_token()
        now = now_utc()
        owner_id = uuid.uuid4().hex
        values: dict[str, Any] = {
            "id": owner_id,
            "name": clean,
            "email": email,
            "token_id": token_id,
            "token_hash": self.hashing.hash(secret),
            "created_at": now,
            "token_expires_at": now + timedelta(days=self.settings.registry_token_ttl_days),
        }
        with self.store.write() as conn:
            created = self.store.insert_owner(conn, values)
            if created:
                self.store.audit(
                    conn, actor=owner_id, action="register_owner", target=clean, outcome="ok"
                )
        if not created:
            self._deny("register_owner", clean, "name taken", client)
            raise OwnerExistsError(f"an owner named {clean!r} already exists")
        return Owner(owner_id, clean, email, now), token

    def authenticate(self, token: str, *, client: str | None = None) -> Owner:
        """The owner of a valid, unexpired, current token; ``AuthError`` otherwise."""
        now = now_utc()
        owner_id = self._tokens.get(token, now) if isinstance(token, str) else None
        if owner_id is not None:
            return self.owner_by_id(owner_id)
        try:
            token_id, secret = parse_token(token)
        except AuthError:
            self._deny("authenticate", None, "malformed token", client)
            raise
        with self.store.read() as conn:
            row = self.store.owner_by(conn, "token_id", token_id)
        reason = None
        if row is None or not self.hashing.matches(row.token_hash, secret):
            reason = "unknown, replaced or wrong token"
        elif as_utc(row.token_expires_at) <= now:
            reason = f"token expired at {as_utc(row.token_expires_at).isoformat()}"
        if reason is not None or row is None:
            self._deny("authenticate", f"token {token_id}", str(reason), client)
            raise AuthError(f"API token refused: {reason}")
        cached_until = min(as_utc(row.token_expires_at), now + _CACHE_FOR)
        self._tokens.put(token, row.id, cached_until)
        return _owner(row)

    def rotate_token(self, owner: Owner) -> str:
        """Replace the owner's token; the old one stops working at once."""
        token, token_id, secret = new_token()
        expires = now_utc() + timedelta(days=self.settings.registry_token_ttl_days)
        with self.store.write() as conn:
            self.store.set_token(conn, owner.id, token_id, self.hashing.hash(secret), expires)
            self.store.audit(
                conn, actor=owner.id, action="rotate_token", target=owner.id, outcome="ok"
            )
        self._tokens.forget_owner(owner.id)
        return token

    def owner_by_id(self, owner_id: str) -> Owner:
        with self.store.read() as conn:
            row = self.store.owner_by(conn, "id", owner_id)
        if row is None:
            raise AuthError(f"no owner with id {owner_id[:40]!r}")
        return _owner(row)

    def owner_named(self, name: str) -> Owner | None:
        with self.store.read() as conn:
            row = self.store.owner_by(conn, "name", name.strip())
        return None if row is None else _owner(row)
