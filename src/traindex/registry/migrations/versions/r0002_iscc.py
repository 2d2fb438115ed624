"""Claims carry an ISCC Image-Code body and the declaration they were imported from.

Revision 0001 creates the tables from ``traindex.registry.tables`` as they stand now, so a
database created fresh already has these columns: each is added only where it is missing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLUMNS = (("iscc", sa.String(16)), ("declaration", sa.Text()))


def _existing() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns("claims")}


def upgrade() -> None:
    have = _existing()
    for name, kind in _COLUMNS:
        if name not in have:
            op.add_column("claims", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    have = _existing()
    for name, _ in _COLUMNS:
        if name in have:
            op.drop_column("claims", name)
