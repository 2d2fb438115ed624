"""The registry database: engine setup, migrations, and the few SQL statements services need.

``SqlRegistryStore`` (the :class:`~traindex.registry.storage.RegistryStore` every command
uses) is the only place with SQL. It knows nothing about permissions or
verification rules (that is ``service``); it guarantees atomicity and the schema's
invariants. SQLite runs in WAL mode (readers never wait for the writer) and write
transactions start with ``BEGIN IMMEDIATE``, so two writers queue on the lock instead of
failing half-way with "database is locked"; PostgreSQL uses its default READ COMMITTED.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from traindex.registry.storage import Record, Transaction, as_utc, audit_values
from traindex.registry.tables import (
    audit_log,
    claims,
    owners,
    reviews,
    snapshots,
    verifications,
)

__all__ = ["SqlRegistryStore", "as_utc", "migrate", "open_engine"]

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 0x7472_6964  # arbitrary advisory-lock key: "trid"


def _sql(conn: Transaction) -> Connection:
    """The connection behind a handle this store gave out."""
    if not isinstance(conn, Connection):
        raise TypeError(f"not a transaction of the SQL registry store: {type(conn).__name__}")
    return conn


def _sqlite_engine(path: Path) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": 60},
        pool_size=20,
        max_overflow=40,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN, so writes can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("traindex_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def open_engine(default_path: Path, url: str | None = None) -> Engine:
    """An engine for ``url`` (any SQLAlchemy URL), or SQLite (WAL) at ``default_path``."""
    if url is None or url.startswith("sqlite"):
        path = default_path if url is None else Path(url.split("///", 1)[1])
        return _sqlite_engine(path)
    return create_engine(url, pool_size=20, max_overflow=40, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest schema revision (idempotent, safe to race)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.connect() as conn:
        conn.execution_options(traindex_write=True)
        if conn.dialect.name == "postgresql":
            # Two servers starting at once must not both create the tables.
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_MIGRATION_LOCK})")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_MIGRATION_LOCK})")
        conn.commit()


class SqlRegistryStore:
    """The :class:`~traindex.registry.storage.RegistryStore` over SQLAlchemy Core: SQL for
    owners, claims, verifications, the audit log and snapshots."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, default_path: Path, url: str | None = None) -> SqlRegistryStore:
        """The store at ``url`` (or SQLite at ``default_path``), migrated to the newest schema."""
        engine = open_engine(default_path, url)
        migrate(engine)
        return cls(engine)

    @property
    def location(self) -> str:
        return self.engine.url.render_as_string()

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        with self.engine.connect() as conn:
            conn.execution_options(traindex_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

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
        values = audit_values(
            actor=actor, action=action, target=target, outcome=outcome, detail=detail
        )
        _sql(conn).execute(insert(audit_log).values(**values))

    def audit_denied(self, actor: str | None, action: str, target: str | None, reason: str) -> None:
        """Record a refused attempt in its own transaction (the refused write never ran)."""
        with self.write() as conn:
            self.audit(
                conn,
                actor=actor,
                action=action,
                target=target,
                outcome="denied",
                detail={"reason": reason},
            )

    def audit_entries(self, limit: int = 1_000) -> list[Record]:
        with self.read() as conn:
            query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
            return list(_sql(conn).execute(query))

    # owners ------------------------------------------------------------------------------

    def insert_owner(self, conn: Transaction, values: Mapping[str, Any]) -> bool:
        """Insert an owner; False if the name is taken (checked by the unique index)."""
        try:
            with _sql(conn).begin_nested():
                _sql(conn).execute(insert(owners).values(**values))
        except IntegrityError:
            return False
        return True

    def owner_by(self, conn: Transaction, column: str, value: str) -> Record | None:
        return _sql(conn).execute(select(owners).where(owners.c[column] == value)).first()

    def set_token(
        self, conn: Transaction, owner_id: str, token_id: str, token_hash: str, expires: datetime
    ) -> None:
        _sql(conn).execute(
            update(owners)
            .where(owners.c.id == owner_id)
            .values(token_id=token_id, token_hash=token_hash, token_expires_at=expires)
        )

    def set_operator(self, conn: Transaction, owner_id: str, operator: bool) -> None:
        _sql(conn).execute(update(owners).where(owners.c.id == owner_id).values(operator=operator))

    # claims ------------------------------------------------------------------------------

    def insert_claim(self, conn: Transaction, values: Mapping[str, Any]) -> tuple[Record, bool]:
        """Insert a claim unless a live one with the same identity exists; (row, created)."""
        try:
            with _sql(conn).begin_nested():
                _sql(conn).execute(insert(claims).values(**values))
        except IntegrityError:
            existing = self.live_claim(conn, str(values["identity"]))
            if existing is None:
                raise
            return existing, False
        row = self.claim_by_id(conn, str(values["id"]))
        assert row is not None  # just inserted in this transaction
        return row, True

    def live_claim(self, conn: Transaction, identity: str) -> Record | None:
        query = select(claims).where(claims.c.identity == identity, claims.c.status != "revoked")
        return _sql(conn).execute(query).first()

    def claim_by_id(self, conn: Transaction, claim_id: str) -> Record | None:
        return _sql(conn).execute(select(claims).where(claims.c.id == claim_id)).first()

    def claim_rows(
        self, conn: Transaction, owner_id: str | None, include_revoked: bool
    ) -> list[Record]:
        query = select(claims).order_by(claims.c.created_at, claims.c.id)
        if owner_id is not None:
            query = query.where(claims.c.owner_id == owner_id)
        if not include_revoked:
            query = query.where(claims.c.status != "revoked")
        return list(_sql(conn).execute(query))

    def iter_claims(self, changed_since: datetime | None) -> Iterator[Record]:
        """Every claim (revoked too) changed at or after ``changed_since``, streamed."""
        query = select(claims)
        if changed_since is not None:
            query = query.where(claims.c.changed_at >= changed_since)
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=50_000).execute(query)
            yield from result

    def set_claim_status(self, conn: Transaction, claim_id: str, status: str) -> None:
        _sql(conn).execute(
            update(claims)
            .where(claims.c.id == claim_id)
            .values(status=status, changed_at=datetime.now(UTC))
        )

    def claim_counts(self) -> dict[str, int]:
        with self.read() as conn:
            query = select(claims.c.status, func.count()).group_by(claims.c.status)
            return {str(status): int(count) for status, count in _sql(conn).execute(query)}

    # verifications -----------------------------------------------------------------------

    def insert_verification(self, conn: Transaction, values: Mapping[str, Any]) -> None:
        _sql(conn).execute(insert(verifications).values(**values))

    def pending_verification(
        self, conn: Transaction, claim_id: str, now: datetime
    ) -> Record | None:
        query = (
            select(verifications)
            .where(
                verifications.c.claim_id == claim_id,
                verifications.c.status == "pending",
                verifications.c.expires_at > now,
            )
            .order_by(verifications.c.id.desc())
        )
        return _sql(conn).execute(query).first()

    def finish_verification(
        self,
        conn: Transaction,
        verification_id: int,
        status: str,
        method: str | None,
        detail: str,
        page: str | None = None,
    ) -> None:
        _sql(conn).execute(
            update(verifications)
            .where(verifications.c.id == verification_id)
            .values(
                status=status,
                method=method,
                detail=detail,
                page=page,
                checked_at=datetime.now(UTC),
            )
        )

    def verified_domains(self, conn: Transaction, owner_id: str) -> set[str]:
        """Domains the owner proved (HTTP file or DNS; a page proof proves no domain)."""
        query = select(verifications.c.domain).where(
            verifications.c.owner_id == owner_id,
            verifications.c.status == "verified",
            verifications.c.method != "page",
        )
        return {str(domain) for (domain,) in _sql(conn).execute(query)}

    def verified_scopes(self, conn: Transaction, owner_id: str) -> set[str]:
        """Accounts and URL prefixes the owner proved by a page (``Scope.key`` strings)."""
        query = select(verifications.c.scope).where(
            verifications.c.owner_id == owner_id,
            verifications.c.status == "verified",
            verifications.c.method == "page",
        )
        return {str(scope) for (scope,) in _sql(conn).execute(query)}

    def unverified_claims(self, conn: Transaction, owner_id: str) -> list[Record]:
        query = select(claims).where(claims.c.owner_id == owner_id, claims.c.status == "unverified")
        return list(_sql(conn).execute(query))

    # reviews -----------------------------------------------------------------------------

    def insert_review(self, conn: Transaction, values: Mapping[str, Any]) -> None:
        _sql(conn).execute(insert(reviews).values(**values))

    def pending_review(self, conn: Transaction, claim_id: str) -> Record | None:
        query = select(reviews).where(reviews.c.claim_id == claim_id, reviews.c.status == "pending")
        return _sql(conn).execute(query).first()

    def review_rows(self, conn: Transaction, status: str | None) -> list[Record]:
        """Reviews (oldest first), with each claim's owner name, kind, value and terms."""
        query = (
            select(
                reviews,
                owners.c.name.label("owner_name"),
                claims.c.kind,
                claims.c.value,
                claims.c.terms,
            )
            .join(claims, claims.c.id == reviews.c.claim_id)
            .join(owners, owners.c.id == reviews.c.owner_id)
            .order_by(reviews.c.requested_at, reviews.c.id)
        )
        if status is not None:
            query = query.where(reviews.c.status == status)
        return list(_sql(conn).execute(query))

    def latest_reviews(self, conn: Transaction, claim_ids: list[str]) -> dict[str, Record]:
        """The newest review of each of ``claim_ids`` that has one."""
        found: dict[str, Record] = {}
        for start in range(0, len(claim_ids), 500):  # bound the IN list
            chunk = claim_ids[start : start + 500]
            query = select(reviews).where(reviews.c.claim_id.in_(chunk)).order_by(reviews.c.id)
            for row in _sql(conn).execute(query):
                found[row.claim_id] = row
        return found

    def decide_review(
        self, conn: Transaction, review_id: int, status: str, actor: str, reason: str | None
    ) -> None:
        _sql(conn).execute(
            update(reviews)
            .where(reviews.c.id == review_id)
            .values(status=status, decided_at=datetime.now(UTC), decided_by=actor, reason=reason)
        )

    # snapshots ---------------------------------------------------------------------------

    def record_snapshot(self, values: Mapping[str, Any]) -> None:
        with self.write() as conn:
            _sql(conn).execute(insert(snapshots).values(**values))
