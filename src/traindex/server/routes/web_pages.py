"""The web app's HTML pages (``traindex.server``), served by the same app as the JSON API."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse

from traindex.bootstrap import Services
from traindex.server.faces import FacePages
from traindex.server.nearcopy import NearCopyPages
from traindex.server.optout import OptOutPages
from traindex.server.pages import WebPages
from traindex.server.rendering import Renderer
from traindex.server.reports import ReportPages
from traindex.server.sessions import Sessions
from traindex.server.watches import WatchPages

__all__ = ["router"]


def router(services: Services) -> APIRouter:
    settings = services.settings
    sessions = Sessions(settings)
    renderer = Renderer(sessions)
    renderer.templates.env.globals["optout_enabled"] = True
    api = APIRouter()
    api.include_router(WebPages(services, sessions, renderer).router())
    api.include_router(OptOutPages(settings, sessions, renderer).router())
    api.include_router(ReportPages(services, sessions, renderer).router())
    api.include_router(NearCopyPages(services, sessions, renderer).router())
    api.include_router(WatchPages(services, sessions, renderer).router())
    renderer.templates.env.globals["face_enabled"] = settings.face_search_enabled
    if settings.face_search_enabled:  # off by default: no tab, no search route
        api.include_router(FacePages(services, sessions, renderer).router())
    else:  # a page saying so, and how an operator turns it on

        def faces_off(request: Request) -> HTMLResponse:
            return renderer.page(request, "faces_off.html", {}, status=404)

        api.add_api_route("/faces", faces_off, methods=["GET", "POST"], include_in_schema=False)
    return api
