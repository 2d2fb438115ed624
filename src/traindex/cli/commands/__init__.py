"""CLI command modules; each exposes ``register(app)``. Add new modules to the list."""

from __future__ import annotations

from types import ModuleType

from traindex.cli.commands import check, datasets, demo, fingerprint, ingest, search

__all__ = ["COMMAND_MODULES"]

COMMAND_MODULES: tuple[ModuleType, ...] = (ingest, datasets, fingerprint, search, demo, check)
