"""The registry's SQL tables (SQLAlchemy Core), shared by the store and the Alembic migration.

Why Core tables, not ORM classes: the store does bulk reads (every active claim, to build the
decision index) and small transactional writes; Core keeps both explicit and lets the
services hand out frozen dataclasses instead of session-bound objects.

Invariants the schema itself enforces (so a bug elsewhere cannot break them):

* one live claim per identity (owner + selector + terms): a partial unique index over
  ``claims.identity`` where ``status != 'revoked'``, so concurrent identical writes collapse
  into one row and a revoked claim can be made again as a new claim;
* claims are never deleted and the audit log is append-only: the migration adds triggers
  that abort ``DELETE`` on claims and ``UPDATE``/``DELETE`` on ``audit_log``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

__all__ = [
    "audit_log",
    "claims",
    "metadata",
    "owners",
    "reviews",
    "snapshots",
    "verifications",
]

metadata = MetaData()

owners = Table(
    "owners",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("email", String(320)),
    Column("token_id", String(32), nullable=False, unique=True),
    Column("token_hash", String(200), nullable=False),
    Column("token_expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("operator", Boolean),  # revision 0003: may review claims (NULL: no)
)

claims = Table(
    "claims",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner_id", String(32), ForeignKey("owners.id"), nullable=False, index=True),
    Column("identity", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("value", Text, nullable=False),
    Column("include_subdomains", Boolean, nullable=False),
    Column("sha256", String(64)),
    Column("md5", String(32)),
    Column("pdq", String(64)),
    Column("iscc", String(16)),  # revision 0002
    Column("declaration", Text),  # revision 0002: an imported declaration, as given
    Column("keypoints", LargeBinary),  # revision 0003: an image claim's ORB points
    Column("terms", String(40), nullable=False),
    Column("contact", Text),
    Column("expires_at", DateTime(timezone=True)),
    Column("status", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False, index=True),
    Index(
        "uq_claims_live_identity",
        "identity",
        unique=True,
        sqlite_where=text("status != 'revoked'"),
        postgresql_where=text("status != 'revoked'"),
    ),
)

verifications = Table(
    "verifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner_id", String(32), ForeignKey("owners.id"), nullable=False),
    Column("claim_id", String(32), ForeignKey("claims.id")),
    Column("domain", String(300), nullable=False),
    Column("token", String(80), nullable=False),
    Column("status", String(20), nullable=False),
    Column("method", String(10)),
    Column("detail", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("checked_at", DateTime(timezone=True)),
    # revision 0003: a page proof's scope (``flickr:KEY`` or ``prefix:URL``; NULL for a
    # domain proof) and the page where the code was found
    Column("scope", Text),
    Column("page", Text),
    Index("ix_verifications_owner_domain", "owner_id", "domain"),
)

reviews = Table(  # revision 0003: claims an operator must decide
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("claim_id", String(32), ForeignKey("claims.id"), nullable=False, index=True),
    Column("owner_id", String(32), ForeignKey("owners.id"), nullable=False),
    Column("status", String(20), nullable=False),  # pending, approved, rejected
    Column("why", Text, nullable=False),  # why it could not be proved automatically
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", String(200)),
    Column("reason", Text),  # the operator's reason
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200)),
    Column("action", String(40), nullable=False),
    Column("target", String(200)),
    Column("outcome", String(10), nullable=False),
    Column("detail", Text),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("path", Text, nullable=False),
    Column("claim_count", Integer, nullable=False),
    Column("manifest_sha256", String(64), nullable=False),
    Column("key_fingerprint", String(16), nullable=False),
)
