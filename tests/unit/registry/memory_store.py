"""An in-memory ``RegistryStore`` for fast unit tests of the registry services.

It keeps the store's contract, checked against the SQL store by ``test_store_contract.py``:
rows carry every column of :mod:`traindex.registry.tables` (unset ones ``None``), a write
transaction is all or nothing (it works on a copy that replaces the state on success), one
live claim per identity, unique owner names and token ids, autoincrement ids, and the
orderings the SQL queries ask for. Not thread-safe beyond one writer at a time (a lock),
which is all the services need from it.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table

from traindex.registry.storage import Record, Transaction, as_utc, audit_values
from traindex.registry.tables import audit_log, claims, owners, reviews, snapshots, verifications

__all__ = ["MemoryRegistryStore"]


class MemoryRow:
    """A read-only row: attribute access by column name, like SQLAlchemy's ``Row``."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("rows are read-only")


@dataclass
class _State:
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    next_id: dict[str, int] = field(default_factory=dict)

    def rows(self, table: Table) -> list[dict[str, Any]]:
        return self.tables.setdefault(table.name, [])

    def insert(self, table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {column.name: None for column in table.columns}
        row.update(values)
        if row.get("id") is None:  # autoincrement integer key
            row["id"] = self.next_id.get(table.name, 1)
            self.next_id[table.name] = row["id"] + 1
        self.rows(table).append(row)
        return row


@dataclass
class _Tx:
    state: _State


def _state(conn: Transaction) -> _State:
    if not isinstance(conn, _Tx):
        raise TypeError(f"not a transaction of the memory store: {type(conn).__name__}")
    return conn.state


def _one(rows: list[dict[str, Any]]) -> Record | None:
    return MemoryRow(rows[0]) if rows else None


def _now() -> datetime:
    return datetime.now(UTC)


class MemoryRegistryStore:
    """The registry's storage in a few Python lists."""

    def __init__(self) -> None:
        self._state = _State()
        self._write_lock = threading.Lock()

    @property
    def location(self) -> str:
        return f"memory:{id(self):x}"

    def close(self) -> None:
        """Nothing to release."""

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        with self._write_lock:
            working = copy.deepcopy(self._state)
            yield _Tx(working)
            self._state = working  # only reached when the block raised nothing

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        yield _Tx(self._state)

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
        values = audit_values(
            actor=actor, action=action, target=target, outcome=outcome, detail=detail
        )
        _state(conn).insert(audit_log, values)

    def audit_denied(self, actor: str | None, action: str, target: str | None, reason: str) -> None:
        with self.write() as conn:
            detail = {"reason": reason}
            self.audit(
                conn, actor=actor, action=action, target=target, outcome="denied", detail=detail
            )

    def audit_entries(self, limit: int = 1_000) -> list[Record]:
        entries = sorted(self._state.rows(audit_log), key=lambda r: r["id"], reverse=True)
        return [MemoryRow(r) for r in entries[:limit]]

    # owners --------------------------------------------------------------------------------

    def insert_owner(self, conn: Transaction, values: Mapping[str, Any]) -> bool:
        state = _state(conn)
        for row in state.rows(owners):
            if any(row[key] == values.get(key) for key in ("id", "name", "token_id")):
                return False
        state.insert(owners, values)
        return True

    def owner_by(self, conn: Transaction, column: str, value: str) -> Record | None:
        return _one([r for r in _state(conn).rows(owners) if r[column] == value])

    def _update(self, conn: Transaction, table: Table, row_id: object, **values: Any) -> None:
        """``UPDATE table SET values WHERE id = row_id`` (no row: nothing happens)."""
        for row in _state(conn).rows(table):
            if row["id"] == row_id:
                row.update(values)

    def set_token(
        self, conn: Transaction, owner_id: str, token_id: str, token_hash: str, expires: datetime
    ) -> None:
        self._update(
            conn,
            owners,
            owner_id,
            token_id=token_id,
            token_hash=token_hash,
            token_expires_at=expires,
        )

    def set_operator(self, conn: Transaction, owner_id: str, operator: bool) -> None:
        self._update(conn, owners, owner_id, operator=operator)

    # claims --------------------------------------------------------------------------------

    def insert_claim(self, conn: Transaction, values: Mapping[str, Any]) -> tuple[Record, bool]:
        state = _state(conn)
        for row in state.rows(claims):
            if row["identity"] == values["identity"] and row["status"] != "revoked":
                return MemoryRow(row), False
        if any(row["id"] == values["id"] for row in state.rows(claims)):
            raise ValueError(f"claim id {values['id']!r} exists")
        return MemoryRow(state.insert(claims, values)), True

    def claim_by_id(self, conn: Transaction, claim_id: str) -> Record | None:
        return _one([r for r in _state(conn).rows(claims) if r["id"] == claim_id])

    def claim_rows(
        self, conn: Transaction, owner_id: str | None, include_revoked: bool
    ) -> list[Record]:
        found = [
            r
            for r in _state(conn).rows(claims)
            if (owner_id is None or r["owner_id"] == owner_id)
            and (include_revoked or r["status"] != "revoked")
        ]
        found.sort(key=lambda r: (as_utc(r["created_at"]), r["id"]))
        return [MemoryRow(r) for r in found]

    def iter_claims(self, changed_since: datetime | None) -> Iterator[Record]:
        for row in list(self._state.rows(claims)):
            if changed_since is None or as_utc(row["changed_at"]) >= as_utc(changed_since):
                yield MemoryRow(row)

    def set_claim_status(self, conn: Transaction, claim_id: str, status: str) -> None:
        self._update(conn, claims, claim_id, status=status, changed_at=_now())

    def claim_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self._state.rows(claims):
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return counts

    def unverified_claims(self, conn: Transaction, owner_id: str) -> list[Record]:
        rows = _state(conn).rows(claims)
        return [
            MemoryRow(r) for r in rows if r["owner_id"] == owner_id and r["status"] == "unverified"
        ]

    # verifications -------------------------------------------------------------------------

    def insert_verification(self, conn: Transaction, values: Mapping[str, Any]) -> None:
        _state(conn).insert(verifications, values)

    def pending_verification(
        self, conn: Transaction, claim_id: str, now: datetime
    ) -> Record | None:
        found = [
            r
            for r in _state(conn).rows(verifications)
            if r["claim_id"] == claim_id
            and r["status"] == "pending"
            and as_utc(r["expires_at"]) > as_utc(now)
        ]
        return _one(sorted(found, key=lambda r: r["id"], reverse=True))

    def finish_verification(
        self,
        conn: Transaction,
        verification_id: int,
        status: str,
        method: str | None,
        detail: str,
        page: str | None = None,
    ) -> None:
        self._update(
            conn,
            verifications,
            verification_id,
            status=status,
            method=method,
            detail=detail,
            page=page,
            checked_at=_now(),
        )

    def _verified(self, conn: Transaction, owner_id: str) -> list[dict[str, Any]]:
        rows = _state(conn).rows(verifications)
        return [r for r in rows if r["owner_id"] == owner_id and r["status"] == "verified"]

    def verified_domains(self, conn: Transaction, owner_id: str) -> set[str]:
        # SQL's ``method != 'page'`` is not true for a NULL method either
        return {
            r["domain"]
            for r in self._verified(conn, owner_id)
            if r["method"] is not None and r["method"] != "page"
        }

    def verified_scopes(self, conn: Transaction, owner_id: str) -> set[str]:
        return {r["scope"] for r in self._verified(conn, owner_id) if r["method"] == "page"}

    # reviews -------------------------------------------------------------------------------

    def insert_review(self, conn: Transaction, values: Mapping[str, Any]) -> None:
        _state(conn).insert(reviews, values)

    def pending_review(self, conn: Transaction, claim_id: str) -> Record | None:
        rows = _state(conn).rows(reviews)
        return _one([r for r in rows if r["claim_id"] == claim_id and r["status"] == "pending"])

    def review_rows(self, conn: Transaction, status: str | None) -> list[Record]:
        state = _state(conn)
        claim = {r["id"]: r for r in state.rows(claims)}
        owner = {r["id"]: r for r in state.rows(owners)}
        found = [r for r in state.rows(reviews) if status is None or r["status"] == status]
        found.sort(key=lambda r: (as_utc(r["requested_at"]), r["id"]))
        return [
            MemoryRow(
                {
                    **r,
                    "owner_name": owner[r["owner_id"]]["name"],
                    "kind": claim[r["claim_id"]]["kind"],
                    "value": claim[r["claim_id"]]["value"],
                    "terms": claim[r["claim_id"]]["terms"],
                }
            )
            for r in found
        ]

    def latest_reviews(self, conn: Transaction, claim_ids: list[str]) -> dict[str, Record]:
        wanted = set(claim_ids)
        found: dict[str, Record] = {}
        for row in sorted(_state(conn).rows(reviews), key=lambda r: r["id"]):
            if row["claim_id"] in wanted:
                found[row["claim_id"]] = MemoryRow(row)
        return found

    def decide_review(
        self, conn: Transaction, review_id: int, status: str, actor: str, reason: str | None
    ) -> None:
        self._update(
            conn,
            reviews,
            review_id,
            status=status,
            decided_at=_now(),
            decided_by=actor,
            reason=reason,
        )

    # snapshots -----------------------------------------------------------------------------

    def record_snapshot(self, values: Mapping[str, Any]) -> None:
        with self.write() as conn:
            _state(conn).insert(snapshots, values)
