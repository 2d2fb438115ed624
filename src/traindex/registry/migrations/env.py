"""Alembic env: always run online, on the connection ``store.migrate`` hands over.

traindex never shells out to the ``alembic`` command: the store opens (or creates) the
database and upgrades it to head in-process, so a user never runs migrations by hand.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from traindex.registry.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("the registry migrations run only through traindex.registry.store.migrate")
_run(_connection)
