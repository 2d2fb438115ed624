"""The near-copy page: upload generated images (or a zipped folder), see each verdict.

``GET /nearcopy`` shows the form and what the verdicts mean; ``POST /nearcopy`` (CSRF
token, upload limits, per-client rate limit: ``web.nearcopy_desk``) runs the same check as
``traindex nearcopy`` and shows each output next to the training rows it matched, with the
training image's outline drawn where keypoints found it. ``format`` ``html`` or ``pdf``
answers with the side-by-side report as a download instead; the results page also links
the HTML report as a ``data:`` download, so nothing uploaded is kept after the request.

The page's pictures are ``data:`` URIs made in this request from the upload and from
local training images, so its Content-Security-Policy allows ``data:`` images (still
nothing from another origin: no dataset URL is ever fetched).
"""

from __future__ import annotations

import base64
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.errors import InputError, TraindexError
from traindex.evidence.render import html_to_pdf
from traindex.nearcopy.report import report_items
from traindex.server.nearcopy_desk import NearCopyDesk
from traindex.server.pages import form_context
from traindex.server.rendering import SECURITY_HEADERS, Renderer
from traindex.server.sessions import Sessions
from traindex.server.uploads import SearchForm

__all__ = ["NearCopyPages"]

_CSP = SECURITY_HEADERS["Content-Security-Policy"].replace("img-src 'self'", "img-src 'self' data:")
_DOWNLOADS = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


class NearCopyPages:
    """Builds the near-copy page router for one app."""

    def __init__(self, settings: Settings, sessions: Sessions, renderer: Renderer) -> None:
        self.settings = settings
        self.sessions = sessions
        self.render = renderer
        self.desk = NearCopyDesk(settings)

    def _context(self, fields: dict[str, str]) -> dict[str, Any]:
        checker = self.desk.checker
        return {
            **form_context(self.settings, fields),
            "limits_rules": asdict(checker.rules),
            "keypoint_min_inliers": checker.keypoint_rules.min_inliers,
        }

    def _page(self, request: Request, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        response = self.render.page(request, "nearcopy.html", context, status=status)
        response.headers["Content-Security-Policy"] = _CSP
        return response

    def form(self, request: Request) -> HTMLResponse:
        return self._page(request, self._context({}))

    def _run(self, form: SearchForm) -> tuple[dict[str, Any], bytes | None]:
        fmt = form.fields.get("format", "page")
        if fmt not in ("page", *_DOWNLOADS):
            raise InputError(f"format is page, html or pdf, not {fmt!r}")
        report = self.desk.check(form)
        html = self.desk.report_html(report, form)
        if fmt != "page":
            return {"format": fmt}, html.encode() if fmt == "html" else html_to_pdf(html)
        items = report_items(
            report,
            Catalog(self.settings),
            unsafe=self.settings.evidence_unsafe_threshold,
            files=dict(form.files),
        )
        encoded = base64.b64encode(html.encode()).decode()
        context = {
            **self._context(form.fields),
            "report": report,
            "items": items,
            "report_link": f"data:text/html;base64,{encoded}",
        }
        return context, None

    async def check(self, request: Request) -> Response:
        fields: dict[str, str] = {}
        try:
            form = await self.desk.read(request)
            fields = form.fields
            self.sessions.check_csrf(self.sessions.load(request), fields.get("csrf_token"))
            self.desk.admit(request)
            context, download = await run_in_threadpool(self._run, form)
        except TraindexError as exc:
            response = self.render.error(
                request, exc, template="nearcopy.html", **self._context(fields)
            )
            response.headers["Content-Security-Policy"] = _CSP
            return response
        if download is not None:
            fmt = context["format"]
            name = f'attachment; filename="traindex-nearcopy.{fmt}"'
            headers = {"Content-Disposition": name, "X-Content-Type-Options": "nosniff"}
            return Response(download, media_type=_DOWNLOADS[fmt], headers=headers)
        return self._page(request, context)

    def router(self) -> APIRouter:
        api = APIRouter(include_in_schema=False)
        api.add_api_route("/nearcopy", self.form, methods=["GET"])
        api.add_api_route("/nearcopy", self.check, methods=["POST"])
        return api
