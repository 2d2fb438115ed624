"""API routers; each module exposes ``router(services) -> APIRouter``. Add new modules here."""

from __future__ import annotations

from types import ModuleType

from traindex.server.routes import (
    evidence,
    faces,
    health,
    nearcopy,
    registry,
    search,
    web_api,
    web_pages,
)

__all__ = ["ROUTER_MODULES"]

ROUTER_MODULES: tuple[ModuleType, ...] = (
    health,
    evidence,
    faces,
    search,
    nearcopy,
    web_api,
    web_pages,
    registry,
)
