"""The face search tab: only when the operator enables it (``Settings.face_search_enabled``).

Face search finds a person's face in face-recognition datasets; on a public server it
could become a lookup service for strangers' faces, so the tab and its route exist only
when enabled, and every search goes through ``FaceSearchGuard`` (per-client rate limit,
counts-only audit) like ``POST /api/faces/search``. The photo is read within the upload
limits, searched in memory and dropped; the page never names anyone, it shows dataset
rows whose faces are close, with the distance and what it means.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from traindex.bootstrap import Services
from traindex.errors import InputError, RateLimitedError, TraindexError
from traindex.search.face_guard import FaceSearchGuard
from traindex.search.faces import FaceSearchResult
from traindex.search.queries import FaceQuery
from traindex.server.context import PerThread
from traindex.server.pages import form_context
from traindex.server.present import build_groups
from traindex.server.rendering import Renderer
from traindex.server.sessions import Sessions
from traindex.server.uploads import SearchForm, UploadLimits, read_search_form

__all__ = ["FacePages"]

_PAGE_LIMIT = 100  # matches the page lists for its one face


class FacePages:
    """``POST /faces``: one photo in, the dataset rows with the same face out."""

    def __init__(self, services: Services, sessions: Sessions, renderer: Renderer) -> None:
        settings = services.settings
        self.settings = settings
        self.catalog = services.catalog
        self.sessions = sessions
        self.render = renderer
        self.services = services
        self.contexts = PerThread(services)
        self.guard = FaceSearchGuard(settings)
        self.limits = UploadLimits.from_settings(settings)
        self._lock = threading.Lock()  # one face model, used by one request at a time

    def _run(self, form: SearchForm) -> dict[str, Any]:
        if len(form.files) != 1:
            raise InputError("face search takes exactly one photo showing one face")
        name, data = form.files[0]
        dataset = form.fields.get("dataset") or None
        with self._lock:
            result: FaceSearchResult = self.services.search.search(
                FaceQuery(data, name=name), dataset=dataset, limit=_PAGE_LIMIT
            )
        ctx = self.contexts.get()
        groups = build_groups(result.matches, ctx.view_of, ctx.thumbnails)
        context = form_context(self.catalog, form.fields)
        return {**context, "mode": "faces", "result": result, "groups": groups, "face_file": name}

    async def search(self, request: Request) -> Response:
        client = request.client.host if request.client else "unknown"
        try:
            form = await read_search_form(request, self.limits)
            self.sessions.check_csrf(self.sessions.load(request), form.fields.get("csrf_token"))
            self.guard.admit(client)
            context = await run_in_threadpool(self._run, form)
        except TraindexError as exc:
            if isinstance(exc, InputError):
                self.guard.audit.record("refused")
            status = 429 if isinstance(exc, RateLimitedError) else None
            return self.render.error(request, exc, status=status, **form_context(self.catalog, {}))
        self.guard.audit.record("searched")
        return self.render.page(request, "results.html", context)

    def router(self) -> APIRouter:
        api = APIRouter(include_in_schema=False)
        api.add_api_route("/faces", self.search, methods=["POST"])
        return api
