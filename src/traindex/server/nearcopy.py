"""The near-copy page: upload generated images (or a zipped folder), see each verdict.

``GET /nearcopy`` shows the form and what the verdicts mean; ``POST /nearcopy`` (CSRF
token, upload limits, per-client rate limit: ``server.nearcopy_desk``) runs the same check as
``traindex nearcopy`` and shows each output next to the training rows it matched, with the
training image's outline drawn where keypoints found it. ``format`` ``html`` or ``pdf``
answers with the side-by-side report as a download instead. The results page's buttons
download that report later (``POST /nearcopy/report``, ``server.nearcopy_reports``: the
rendered report travels signed in the page, so nothing uploaded is kept after the request).

The page's pictures are ``data:`` URIs made in this request from the upload and from
local training images, so its Content-Security-Policy allows ``data:`` images (still
nothing from another origin: no dataset URL is ever fetched).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from traindex.bootstrap import Services
from traindex.errors import InputError, TraindexError
from traindex.nearcopy.report import report_items
from traindex.server.limits import ClientLimit
from traindex.server.nearcopy_desk import NearCopyDesk
from traindex.server.nearcopy_reports import FORMATS, NearCopyReports
from traindex.server.pages import form_context
from traindex.server.rendering import SECURITY_HEADERS, Renderer
from traindex.server.sessions import Sessions
from traindex.server.uploads import SearchForm, read_search_form

__all__ = ["NearCopyPages"]

_CSP = SECURITY_HEADERS["Content-Security-Policy"].replace("img-src 'self'", "img-src 'self' data:")
# the report token holds the rendered report: thumbnails of up to web_max_files outputs
# (~20 KB each) and of their matched training rows (~5 KB each, up to 10 per output)
_REPORT_FORM_BYTES = 32 * 1024 * 1024


class NearCopyPages:
    """Builds the near-copy page router for one app."""

    def __init__(self, services: Services, sessions: Sessions, renderer: Renderer) -> None:
        settings = services.settings
        self.settings = settings
        self.catalog = services.catalog
        self.sessions = sessions
        self.render = renderer
        self.desk = NearCopyDesk(services)
        self.reports = NearCopyReports(services)
        self.report_rate = ClientLimit(settings, "report")

    def _context(self, fields: dict[str, str]) -> dict[str, Any]:
        checker = self.desk.checker
        return {
            **form_context(self.catalog, fields),
            "limits_rules": asdict(checker.rules),
            "keypoint_min_inliers": checker.keypoint_rules.min_inliers,
        }

    def _page(self, request: Request, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        response = self.render.page(request, "nearcopy.html", context, status=status)
        response.headers["Content-Security-Policy"] = _CSP
        return response

    def form(self, request: Request) -> HTMLResponse:
        return self._page(request, self._context({}))

    def _run(self, form: SearchForm) -> dict[str, Any] | Response:
        fmt = form.fields.get("format", "page")
        if fmt not in ("page", *FORMATS):
            raise InputError(f"format is page, html or pdf, not {fmt!r}")
        report = self.desk.check(form)
        html = self.desk.report_html(report, form)
        if fmt != "page":
            return self.reports.download(html, fmt)
        items = report_items(
            report,
            self.catalog,
            unsafe=self.settings.evidence_unsafe_threshold,
            files=dict(form.files),
        )
        return {
            **self._context(form.fields),
            "report": report,
            "items": items,
            "report_token": self.reports.token(html),
        }

    def _error(self, request: Request, exc: TraindexError, fields: dict[str, str]) -> Response:
        response = self.render.error(
            request, exc, template="nearcopy.html", **self._context(fields)
        )
        response.headers["Content-Security-Policy"] = _CSP
        return response

    async def check(self, request: Request) -> Response:
        fields: dict[str, str] = {}
        try:
            form = await self.desk.read(request)
            fields = form.fields
            self.sessions.check_csrf(self.sessions.load(request), fields.get("csrf_token"))
            self.desk.admit(request)
            answer = await run_in_threadpool(self._run, form)
        except TraindexError as exc:
            return self._error(request, exc, fields)
        return answer if isinstance(answer, Response) else self._page(request, answer)

    async def report(self, request: Request) -> Response:
        """A results page's report buttons: its signed report as HTML or signed PDF."""
        fields: dict[str, str] = {}
        try:
            self.report_rate.admit(request)
            form = await read_search_form(request, self.desk.limits, form_bytes=_REPORT_FORM_BYTES)
            fields = form.fields
            self.sessions.check_csrf(self.sessions.load(request), fields.get("csrf_token"))
            html = self.reports.load(fields.get("report", ""))
            fmt = fields.get("format", "")
            return await run_in_threadpool(self.reports.download, html, fmt)
        except TraindexError as exc:
            return self._error(request, exc, {k: v for k, v in fields.items() if k != "report"})

    def router(self) -> APIRouter:
        api = APIRouter(include_in_schema=False)
        api.add_api_route("/nearcopy", self.form, methods=["GET"])
        api.add_api_route("/nearcopy", self.check, methods=["POST"])
        api.add_api_route("/nearcopy/report", self.report, methods=["POST"])
        return api
