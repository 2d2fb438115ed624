"""Page proofs (Flickr accounts, URL prefixes), operators, the review queue, and the
keypoints of image claims.

Adds ``verifications.scope``/``page``, ``owners.operator``, ``claims.keypoints`` and the
``reviews`` table.
Revision 0001 creates the tables from ``traindex.registry.tables`` as they stand now, so a
database created fresh already has them: each is added only where it is missing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from traindex.registry.tables import reviews

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("verifications", "scope", sa.Text()),
    ("verifications", "page", sa.Text()),
    ("owners", "operator", sa.Boolean()),
    ("claims", "keypoints", sa.LargeBinary()),
)


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    for table, name, kind in _COLUMNS:
        if name not in _columns(table):
            op.add_column(table, sa.Column(name, kind, nullable=True))
    if not sa.inspect(op.get_bind()).has_table("reviews"):
        reviews.create(op.get_bind())


def downgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("reviews"):
        reviews.drop(op.get_bind())
    for table, name, _ in _COLUMNS:
        if name in _columns(table):
            op.drop_column(table, name)
