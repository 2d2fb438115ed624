"""Build the FastAPI application for one ``Settings`` (no globals, so tests can make many)."""

from __future__ import annotations

from fastapi import FastAPI

from traindex import __version__
from traindex.api.routes import ROUTER_MODULES
from traindex.config import Settings

__all__ = ["create_app"]


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="traindex",
        version=__version__,
        description="What is in this AI training set? Search, evidence, opt-out registry.",
    )
    for module in ROUTER_MODULES:
        app.include_router(module.router(settings))
    return app
