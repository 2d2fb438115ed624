"""Evidence over HTTP: signed reports, letters, licence audits and the public key.

``POST /api/evidence/report`` takes the JSON answer of ``POST /api/search`` (or one
query) and returns the signed report as JSON, HTML, PDF or CSV; ``/letter`` turns a
signed report into a letter after verifying it; ``/verify`` checks a report;
``/licenses`` audits a release and can return its attribution list;
``GET /api/evidence/public-key`` publishes the key reports are checked against, and
``GET /.well-known/traindex-keys.json`` every key this operator signed with (current and
rotated, each with its PDF certificate). Verify answers say whether the signer's key is
trusted; letters refuse reports signed by an untrusted key unless the caller accepts the
embedded key explicitly (``accept_embedded_key``).
Errors come back as ``{"detail": message}`` (400 bad input or bad signature, 404 no such
dataset, 429 with ``Retry-After`` when this address used up its share of report, letter
and licence work: see ``traindex.server.limits``). Handlers are plain functions, so FastAPI
runs them in its thread pool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, StrictBool

from traindex.bootstrap import Services
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.core.signing import key_fingerprint, public_key_hex
from traindex.errors import InputError, TraindexError
from traindex.evidence.firstpage import Language as ReportLanguage
from traindex.evidence.letters import compose_letter
from traindex.evidence.letters.compose import Language, LetterKind
from traindex.evidence.licenses import (
    AttributionScope,
    attribution_csv,
    attribution_html,
    attribution_list,
    audit_licenses,
)
from traindex.evidence.render import ReportFormat
from traindex.evidence.service import EvidenceService
from traindex.evidence.verify import TrustOptions, check_document
from traindex.search.queries import Query, QueryKind
from traindex.server.limits import ClientLimit
from traindex.server.routes.search import error_answer

__all__ = ["WELL_KNOWN_KEYS", "router"]

WELL_KNOWN_KEYS = "/.well-known/traindex-keys.json"

_MEDIA = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}


class QueryBody(BaseModel):
    kind: QueryKind
    value: str


class ReportRequest(BaseModel):
    """Exactly one of ``search`` (``/api/search`` answers) or ``query``."""

    requested_by: str = Field(default="", max_length=500)
    search: dict[str, Any] | list[dict[str, Any]] | None = None
    query: QueryBody | None = None
    dataset: str | None = None
    format: ReportFormat = "json"
    lang: ReportLanguage = Field(default="en", description="language of the PDF's first page")


class SignedReportBody(BaseModel):
    report: dict[str, Any] = Field(description="the signed report document (its JSON file)")
    public_key: str | None = Field(default=None, description="pin the signer's key (64 hex)")
    accept_embedded_key: StrictBool = Field(  # strict: "yes" or 0 are not booleans
        default=False, description="trust the key the report carries (integrity only)"
    )

    def options(self) -> TrustOptions:
        return TrustOptions(self.public_key, self.accept_embedded_key)


class LetterRequest(SignedReportBody):
    kind: LetterKind
    lang: Language = "en"
    format: Literal["md", "pdf"] = "md"


class LicensesRequest(BaseModel):
    dataset: str
    attribution: AttributionScope | None = Field(
        default=None, description="also return the attribution list of these rows"
    )
    format: Literal["json", "csv", "html"] = "json"


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "bad input or a signature that does not verify; `detail` says why"},
    404: {"description": "no such dataset"},
    429: {"description": "too many requests from this address; see `Retry-After`"},
}


def _answer(make: Callable[[], Response]) -> Response:
    """``make()``, or ``{"detail": message}`` with 404 (no such dataset), 429 or 400."""
    try:
        return make()
    except TraindexError as exc:
        return error_answer(exc)


def _letter(settings: Settings, body: LetterRequest) -> Response:
    check = check_document(body.report, settings, body.options())
    check.key.require("the report")
    made = compose_letter(check.sealed, body.kind, body.lang)
    content = made.pdf() if body.format == "pdf" else made.markdown.encode("utf-8")
    return Response(content, media_type=_MEDIA[body.format])


def _report(service: EvidenceService, body: ReportRequest) -> Response:
    if (body.search is None) == (body.query is None):
        raise InputError("give exactly one of search or query")
    if body.search is not None:
        runs = service.runs_from_json(body.search)
    else:
        assert body.query is not None
        query = Query(body.query.kind, body.query.value)
        runs = [service.search_query(query, body.dataset)]
    rendered = service.report(runs, body.requested_by, body.lang)
    return Response(rendered.render(body.format), media_type=_MEDIA[body.format])


def _licenses(catalog: Catalog, body: LicensesRequest) -> Response:
    if body.attribution is None or body.format == "json":
        audits = [a.to_json() for a in audit_licenses(catalog, body.dataset)]
        credits = (
            [asdict(r) for r in attribution_list(catalog, body.dataset, body.attribution)]
            if body.attribution is not None
            else None
        )
        return JSONResponse({"audits": audits, "attribution": credits})
    rows = list(attribution_list(catalog, body.dataset, body.attribution))
    text = attribution_csv(rows) if body.format == "csv" else attribution_html(rows, body.dataset)
    return Response(text, media_type=_MEDIA[body.format])


def router(services: Services) -> APIRouter:
    settings = services.settings
    root = APIRouter()
    api = APIRouter(prefix="/api/evidence", tags=["evidence"])
    rate = ClientLimit(settings, "evidence")

    def limited(request: Request, make: Callable[[], Response]) -> Response:
        def run() -> Response:
            rate.admit(request)
            return make()

        return _answer(run)

    @api.post("/report", response_class=Response, responses=_ERRORS)
    def report(body: ReportRequest, request: Request) -> Response:
        """A signed evidence report from search answers or one query."""
        return limited(request, lambda: _report(services.evidence, body))

    @api.post("/verify")
    def verify(body: SignedReportBody) -> dict[str, Any]:
        """Whether a report is intact, whether its key is trusted (``valid`` needs both),
        and which timestamp authority vouched for which time."""
        try:
            check = check_document(body.report, settings, body.options())
        except TraindexError as exc:
            return {"valid": False, "intact": False, "trusted": False, "reason": str(exc)}
        answer = check.to_json()
        if not check.key.trusted:
            answer["reason"] = f"intact, but {check.key.source}"
        return answer

    @api.post("/letter", response_class=Response, responses=_ERRORS)
    def letter(body: LetterRequest, request: Request) -> Response:
        """A request letter listing every matched row of a verified report."""
        return limited(request, lambda: _letter(settings, body))

    @api.post("/licenses", response_class=Response, responses=_ERRORS)
    def licenses(body: LicensesRequest, request: Request) -> Response:
        """Licence audit of a dataset's releases, optionally with its attribution list."""
        return limited(request, lambda: _licenses(services.catalog, body))

    @api.get("/public-key")
    def public_key() -> dict[str, str]:
        """The Ed25519 key evidence reports are signed with."""
        key = services.evidence.signer.public_key
        return {
            "algorithm": "Ed25519",
            "public_key": public_key_hex(key),
            "fingerprint": key_fingerprint(key),
            "key_list": WELL_KNOWN_KEYS,
        }

    @root.get(WELL_KNOWN_KEYS, tags=["evidence"])
    def key_list() -> dict[str, Any]:
        """Every key this operator signs with or signed with (rotated keys stay listed)."""
        return services.evidence.keyring.document()

    root.include_router(api)
    return root
