"""Initial registry schema: owners, claims, verifications, audit_log, snapshots + guard triggers.

Revision 0001 creates the tables from ``traindex.registry.tables`` as they stand at this
revision; any later schema change goes into a new revision with explicit ``op`` calls.
"""

from __future__ import annotations

from alembic import op

from traindex.registry.tables import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# (trigger name, table, operation, reason): the rows that may never change or disappear.
_GUARDS = (
    ("claims_no_delete", "claims", "DELETE", "claims are never deleted; revoke them"),
    ("audit_no_update", "audit_log", "UPDATE", "the audit log is append-only"),
    ("audit_no_delete", "audit_log", "DELETE", "the audit log is append-only"),
)


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind=bind)
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION traindex_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% on % refused: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0]; END $$"
        )
        for name, table, operation, reason in _GUARDS:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION traindex_refuse('{reason}')"
            )
        return
    for name, table, operation, reason in _GUARDS:
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{reason}'); END"
        )


def downgrade() -> None:
    bind = op.get_bind()
    for name, table, _, _ in _GUARDS:
        suffix = f" ON {table}" if bind.dialect.name == "postgresql" else ""
        op.execute(f"DROP TRIGGER IF EXISTS {name}{suffix}")
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS traindex_refuse()")
    metadata.drop_all(bind=bind)
