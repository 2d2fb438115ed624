"""``GET /healthz``: liveness and what this server holds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from traindex import __version__
from traindex.bootstrap import Services

__all__ = ["router"]


def router(services: Services) -> APIRouter:
    api = APIRouter()

    @api.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, Any]:
        releases = [f"{m.name}/{m.release}" for _, m in services.catalog.releases()]
        return {"status": "ok", "version": __version__, "datasets": releases}

    return api
