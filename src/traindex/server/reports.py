"""``POST /report`` and ``POST /letter``: evidence downloads from a results or row page.

Thin adapters over ``traindex.evidence`` (the same service as ``traindex report`` /
``traindex letter`` and ``POST /api/evidence/...``): the form names the query (kind, value,
dataset) and the search is run again, or, after an image upload, carries the signed result
of that search (``web.signed_results``: the images themselves are gone); the report is
built and signed, and returned as a download (PDF, HTML or the signed JSON that
``traindex report verify`` checks), or turned into the chosen request letter (Markdown or
PDF) listing every matched row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, cast

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from traindex.bootstrap import Services
from traindex.errors import InputError, TraindexError
from traindex.evidence.firstpage import LANGUAGES as REPORT_LANGUAGES
from traindex.evidence.firstpage import Language as ReportLanguage
from traindex.evidence.letters import KINDS, LANGUAGES, compose_letter
from traindex.evidence.service import RenderedReport
from traindex.search.queries import Query
from traindex.server.limits import ClientLimit
from traindex.server.rendering import Renderer
from traindex.server.searching import QUERY_FIELDS
from traindex.server.sessions import Sessions
from traindex.server.signed_results import SignedResults
from traindex.server.uploads import SearchForm, UploadLimits, read_search_form

__all__ = ["ReportPages"]

_FORMATS = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
}
_LETTER_FORMATS = {"pdf": "application/pdf", "md": "text/markdown; charset=utf-8"}
# The forms may carry a signed image-search result: ~320 bytes per match compressed, and
# an upload of web_max_files (100) files may list 20 matches each; 8 MB leaves room.
_FORM_BYTES = 8 * 1024 * 1024


class ReportPages:
    """Builds the report router for one app."""

    def __init__(self, services: Services, sessions: Sessions, renderer: Renderer) -> None:
        settings = services.settings
        self.services = services
        self.results = SignedResults(settings)
        self.sessions = sessions
        self.render = renderer
        self.limits = UploadLimits.from_settings(settings)
        self.rate = ClientLimit(settings, "evidence")

    def _signed(self, form: SearchForm) -> RenderedReport:
        fields = form.fields
        kind = fields.get("kind", "")
        if "result" in fields:
            run = self.results.load(fields["result"])
        elif kind in QUERY_FIELDS:
            query = Query(cast(Literal["url"], kind), fields.get("value", ""))
            run = self.services.evidence.search_query(query, fields.get("dataset") or None)
        else:
            raise InputError(f"a report needs a search kind, not {kind!r}")
        lang = fields.get("lang", "en")
        requested_by = fields.get("requested_by", "").strip()[:500]
        language: ReportLanguage = lang if lang in REPORT_LANGUAGES else "en"
        return self.services.evidence.report([run], requested_by, language)

    def _report(self, form: SearchForm) -> tuple[bytes, str, str]:
        fmt = form.fields.get("format", "pdf")
        if fmt not in _FORMATS:
            raise InputError(f"a report is PDF, HTML or JSON, not {fmt!r}")
        content = self._signed(form).render(cast(Literal["pdf", "html", "json"], fmt))
        return content, _FORMATS[fmt], f"traindex-report.{fmt}"

    def _letter(self, form: SearchForm) -> tuple[bytes, str, str]:
        fields = form.fields
        kind, lang = fields.get("letter", ""), fields.get("lang", "en")
        fmt = fields.get("format", "pdf")
        if kind not in KINDS or lang not in LANGUAGES or fmt not in _LETTER_FORMATS:
            raise InputError(
                f"a letter needs a kind ({', '.join(KINDS)}), a language "
                f"({', '.join(LANGUAGES)}) and format pdf or md"
            )
        letter = compose_letter(self._signed(form).sealed, kind, lang)
        content = letter.pdf() if fmt == "pdf" else letter.markdown.encode("utf-8")
        return content, _LETTER_FORMATS[fmt], f"traindex-{kind}-{lang}.{fmt}"

    async def _download(
        self, request: Request, build: Callable[[SearchForm], tuple[bytes, str, str]]
    ) -> Response:
        try:
            self.rate.admit(request)
            form = await read_search_form(request, self.limits, form_bytes=_FORM_BYTES)
            self.sessions.check_csrf(self.sessions.load(request), form.fields.get("csrf_token"))
            content, media_type, filename = await run_in_threadpool(build, form)
        except TraindexError as exc:
            return self.render.error(request, exc)
        name = f'attachment; filename="{filename}"'
        return Response(content, media_type=media_type, headers={"Content-Disposition": name})

    async def report(self, request: Request) -> Response:
        return await self._download(request, self._report)

    async def letter(self, request: Request) -> Response:
        return await self._download(request, self._letter)

    def router(self) -> APIRouter:
        api = APIRouter(include_in_schema=False)
        api.add_api_route("/report", self.report, methods=["POST"])
        api.add_api_route("/letter", self.letter, methods=["POST"])
        return api
