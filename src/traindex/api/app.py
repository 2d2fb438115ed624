"""Build the FastAPI application for one ``Settings`` (no globals, so tests can make many)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from traindex import __version__
from traindex.api.errors import document_bad_bodies, install_error_handlers
from traindex.api.routes import ROUTER_MODULES
from traindex.config import Settings

__all__ = ["create_app"]

_SWAGGER_ASSETS = "/_swagger"


def _offline_docs(app: FastAPI) -> None:
    """Serve ``/docs`` from the Swagger UI files shipped on PyPI: FastAPI's default page loads
    them from a CDN, which leaves it blank on an offline machine and leaks visits."""
    app.mount(_SWAGGER_ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="traindex API",
            swagger_js_url=f"{_SWAGGER_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{_SWAGGER_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{_SWAGGER_ASSETS}/favicon-32x32.png",
        )


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="traindex",
        version=__version__,
        description="What is in this AI training set? Search, evidence, opt-out registry.",
        docs_url=None,
        redoc_url=None,
    )
    _offline_docs(app)
    install_error_handlers(app)
    for module in ROUTER_MODULES:
        app.include_router(module.router(settings))
    document_bad_bodies(app)
    return app
