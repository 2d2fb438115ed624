"""App-wide HTTP error handling: the documented error shapes and a truthful ``Allow``.

Starlette answers a wrong method with the ``Allow`` header of the first route whose path
matched, so ``OPTIONS /api/registry/claims`` said ``Allow: GET`` although POST works too;
here ``Allow`` lists every method any route serves at that path. Errors raised before a
route's own handler runs (wrong method, unreadable body) keep the shape the route's
family documents: ``{"error": {"code", "message"}}`` under ``/api/registry``,
``{"detail": message}`` elsewhere (FastAPI's default).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

__all__ = ["ERROR_PREFIX", "document_bad_bodies", "install_error_handlers"]

ERROR_PREFIX = "/api/registry"
"""Paths whose errors use the ``{"error": {...}}`` shape (see ``routes.registry``)."""


_BAD_BODY = {"description": "unreadable request body"}


def _allowed(app: FastAPI, request: Request) -> str:
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches({**request.scope, "method": "\x00"})
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed(app, request)
        if request.url.path.startswith(ERROR_PREFIX):
            code = "method_not_allowed" if exc.status_code == 405 else "invalid_request"
            body: dict[str, object] = {"error": {"code": code, "message": str(exc.detail)}}
        else:
            body = {"detail": exc.detail}
        return JSONResponse(body, exc.status_code, headers=headers)


def document_bad_bodies(app: FastAPI) -> None:
    """List ``400`` on every operation that takes a body: any of them answers it for a body
    that cannot be read at all (say, bytes that are not UTF-8), before its own checks run.
    Done on the finished document, so operations added later are covered too."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            for item in document.get("paths", {}).values():
                for operation in item.values():
                    if isinstance(operation, dict) and "requestBody" in operation:
                        operation["responses"].setdefault("400", _BAD_BODY)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
