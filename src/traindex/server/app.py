"""Build the FastAPI application for one ``Settings`` (no globals, so tests can make many)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from traindex import __version__
from traindex.bootstrap import Services
from traindex.config import Settings
from traindex.server.errors import document_bad_bodies, install_error_handlers
from traindex.server.routes import ROUTER_MODULES

__all__ = ["create_app"]


def create_app(settings: Settings) -> FastAPI:
    # ``/docs`` is served from the Swagger UI files of the fastapi-offline wheel: FastAPI's
    # default page loads them from a CDN (blank offline, and it leaks visits), and the
    # swagger-ui-bundle wheel ships Swagger UI 4.15, which cannot read the OpenAPI 3.1
    # FastAPI writes ("does not specify a valid version field"); fastapi-offline ships 5.x.
    app = FastAPIOffline(
        title="traindex",
        version=__version__,
        description="What is in this AI training set? Search, evidence, opt-out registry.",
        redoc_url=None,
        static_url="/_swagger",
    )
    install_error_handlers(app)
    # the app's composition root: every route takes its catalog and services from here
    services = Services.for_web(settings)
    app.state.services = services
    for module in ROUTER_MODULES:
        app.include_router(module.router(services))
    document_bad_bodies(app)
    return app
