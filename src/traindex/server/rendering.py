"""Rendering pages: Jinja2 templates, the session cookie, security headers, error pages.

Every HTML response carries a Content-Security-Policy that only allows this origin for
images, scripts, styles and form targets, so even a template mistake cannot make a
visitor's browser fetch a dataset URL (no hot-linking) or run injected script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from traindex import __version__
from traindex.errors import DatasetNotFoundError, InputError, TraindexError
from traindex.server.sessions import CsrfError, Session, Sessions
from traindex.server.uploads import UploadTooLargeError

__all__ = ["SECURITY_HEADERS", "Renderer", "status_of"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def status_of(exc: TraindexError) -> int:
    """The HTTP status a typed error stands for (pages and API agree)."""
    if isinstance(exc, UploadTooLargeError):
        return 413
    if isinstance(exc, CsrfError):
        return 403
    if isinstance(exc, DatasetNotFoundError):
        return 404
    if isinstance(exc, InputError):
        return 400
    status = getattr(exc, "status", None)  # registry errors carry their HTTP status
    return status if isinstance(status, int) else 400


def _thousands(value: int | float) -> str:
    return f"{value:,}"


class Renderer:
    """Renders templates with the session, its CSRF token and the security headers."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.templates = Jinja2Templates(directory=TEMPLATES)
        self.templates.env.filters["thousands"] = _thousands
        self.templates.env.globals["version"] = __version__

    def page(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        *,
        status: int = 200,
        session: Session | None = None,
    ) -> HTMLResponse:
        """Render ``name``; ``session`` replaces the request's (after sign-in/out)."""
        current = session or self.sessions.load(request)
        response = self.templates.TemplateResponse(
            request,
            name,
            {**context, "session": current, "csrf_token": current.csrf},
            status_code=status,
        )
        self.sessions.save(response, current)
        response.headers.update(SECURITY_HEADERS)
        return response

    def error(
        self, request: Request, exc: TraindexError, *, status: int | None = None, **context: Any
    ) -> HTMLResponse:
        """The error page (or ``context['template']``) with the error's message and status."""
        template = str(context.pop("template", "error.html"))
        code = status if status is not None else status_of(exc)
        return self.page(request, template, {**context, "error": str(exc)}, status=code)
