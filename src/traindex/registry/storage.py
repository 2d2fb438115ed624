"""``RegistryStore``: what the registry's services need from storage, and nothing about SQL.

The services (owners, claims, proofs, reviews) hold a store and ask it for rows; they never
see a connection, a session or a SQL statement. Two things cross the boundary:

* a **transaction** (:class:`Transaction`): an opaque handle from ``read()`` or ``write()``
  that the services pass back to the store, so several calls share one atomic unit (a claim
  and its audit entry are written together or not at all). Only the store that made a
  handle looks inside it.
* a **record** (:class:`Record`): one stored row, read by column name (``row.status``); the
  columns are those of :mod:`traindex.registry.tables`.

Implementations: :class:`traindex.registry.store.SqlRegistryStore` (SQLite or PostgreSQL,
the one used by every command) and, for fast unit tests of the services, an in-memory fake
in ``tests/unit/registry/memory_store.py``; ``tests/unit/registry/test_store_contract.py``
runs one suite against all of them so the fake cannot drift from the real store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

__all__ = ["Record", "RegistryStore", "Transaction", "as_utc", "audit_values"]

_DETAIL_CHARS = 2_000


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything the registry stores is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def audit_values(
    *,
    actor: str | None,
    action: str,
    target: str | None,
    outcome: str,
    detail: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """One audit row; long details are cut (a denied 1 MB selector stays small)."""
    return {
        "at": datetime.now(UTC),
        "actor": actor,
        "action": action,
        "target": None if target is None else target[:200],
        "outcome": outcome,
        "detail": json.dumps(dict(detail or {}), ensure_ascii=False, default=str)[:_DETAIL_CHARS],
    }


class Transaction(Protocol):
    """An open unit of work from :meth:`RegistryStore.read` or :meth:`RegistryStore.write`;
    opaque to everyone but the store that made it."""


class Record(Protocol):
    """One stored row, its columns read as attributes (``row.id``, ``row.status``)."""

    def __getattr__(self, name: str) -> Any: ...


class RegistryStore(Protocol):
    """Owners, claims, verifications, reviews, the audit log and snapshots.

    The store guarantees atomicity and the schema's invariants (one live claim per identity,
    unique owner names and token ids, an append-only audit log); the rules of who may do what
    live in the services. Timestamps it sets itself (``changed_at``, ``checked_at``,
    ``decided_at``) are the current UTC time.
    """

    @property
    def location(self) -> str:
        """Where the data lives, printable (a database URL without its password)."""
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""

    def write(self) -> AbstractContextManager[Transaction]:
        """One write transaction: committed on success, rolled back on any exception."""
        ...

    def read(self) -> AbstractContextManager[Transaction]:
        """One read transaction."""
        ...

    # audit log -----------------------------------------------------------------------------

    def audit(
        self,
        conn: Transaction,
        *,
        actor: str | None,
        action: str,
        target: str | None,
        outcome: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Append one audit entry (see :func:`audit_values`)."""

    def audit_denied(self, actor: str | None, action: str, target: str | None, reason: str) -> None:
        """Record a refused attempt in its own transaction (the refused write never ran)."""

    def audit_entries(self, limit: int = 1_000) -> list[Record]:
        """The newest ``limit`` audit entries, newest first."""
        ...

    # owners --------------------------------------------------------------------------------

    def insert_owner(self, conn: Transaction, values: Mapping[str, Any]) -> bool:
        """Insert an owner; False if its id, name or token id is taken."""
        ...

    def owner_by(self, conn: Transaction, column: str, value: str) -> Record | None:
        """The owner whose ``column`` (``id``, ``name``, ``token_id``) equals ``value``."""
        ...

    def set_token(
        self, conn: Transaction, owner_id: str, token_id: str, token_hash: str, expires: datetime
    ) -> None: ...

    def set_operator(self, conn: Transaction, owner_id: str, operator: bool) -> None: ...

    # claims --------------------------------------------------------------------------------

    def insert_claim(self, conn: Transaction, values: Mapping[str, Any]) -> tuple[Record, bool]:
        """Insert a claim unless a live one with the same identity exists; (row, created)."""
        ...

    def claim_by_id(self, conn: Transaction, claim_id: str) -> Record | None: ...

    def claim_rows(
        self, conn: Transaction, owner_id: str | None, include_revoked: bool
    ) -> list[Record]:
        """Claims (of one owner, or all), oldest first (by ``created_at``, then id)."""
        ...

    def iter_claims(self, changed_since: datetime | None) -> Iterator[Record]:
        """Every claim (revoked too) changed at or after ``changed_since``, streamed."""
        ...

    def set_claim_status(self, conn: Transaction, claim_id: str, status: str) -> None:
        """Set the status and stamp ``changed_at`` (claims are never deleted)."""

    def claim_counts(self) -> dict[str, int]:
        """Number of claims per status."""
        ...

    def unverified_claims(self, conn: Transaction, owner_id: str) -> list[Record]: ...

    # verifications -------------------------------------------------------------------------

    def insert_verification(self, conn: Transaction, values: Mapping[str, Any]) -> None: ...

    def pending_verification(
        self, conn: Transaction, claim_id: str, now: datetime
    ) -> Record | None:
        """The newest pending, unexpired verification of the claim."""
        ...

    def finish_verification(
        self,
        conn: Transaction,
        verification_id: int,
        status: str,
        method: str | None,
        detail: str,
        page: str | None = None,
    ) -> None:
        """Record a check's outcome and stamp ``checked_at``."""

    def verified_domains(self, conn: Transaction, owner_id: str) -> set[str]:
        """Domains the owner proved (HTTP file or DNS; a page proof proves no domain)."""
        ...

    def verified_scopes(self, conn: Transaction, owner_id: str) -> set[str]:
        """Accounts and URL prefixes the owner proved by a page (``Scope.key`` strings)."""
        ...

    # reviews -------------------------------------------------------------------------------

    def insert_review(self, conn: Transaction, values: Mapping[str, Any]) -> None: ...

    def pending_review(self, conn: Transaction, claim_id: str) -> Record | None: ...

    def review_rows(self, conn: Transaction, status: str | None) -> list[Record]:
        """Reviews (oldest first), with each claim's ``owner_name``, ``kind``, ``value`` and
        ``terms``."""
        ...

    def latest_reviews(self, conn: Transaction, claim_ids: list[str]) -> dict[str, Record]:
        """The newest review of each of ``claim_ids`` that has one."""
        ...

    def decide_review(
        self, conn: Transaction, review_id: int, status: str, actor: str, reason: str | None
    ) -> None:
        """Record the decision and stamp ``decided_at``."""

    # snapshots -----------------------------------------------------------------------------

    def record_snapshot(self, values: Mapping[str, Any]) -> None:
        """Record a written snapshot, in its own transaction."""
