"""Alembic environment and revisions of the registry schema; run by ``store.migrate``."""
