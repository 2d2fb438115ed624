"""CLI command modules; each exposes ``register(app)``. Add new modules to the list."""

from __future__ import annotations

from types import ModuleType

from traindex.cli.commands import (
    check,
    datasets,
    demo,
    filter,
    fingerprint,
    ingest,
    keys,
    letter,
    licenses,
    nearcopy,
    place_index,
    registry,
    report,
    search,
    serve,
)

__all__ = ["COMMAND_MODULES"]

COMMAND_MODULES: tuple[ModuleType, ...] = (
    ingest,
    datasets,
    fingerprint,
    search,
    demo,
    check,
    report,
    letter,
    keys,
    licenses,
    nearcopy,
    serve,
    registry,
    filter,
    place_index,
)
