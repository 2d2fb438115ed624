"""``/api/registry/...``: the opt-out registry over HTTP (a thin adapter over RegistryService).

Writes need ``Authorization: Bearer <token>`` (from ``POST /api/registry/owners``); checks,
claim lists and snapshots are public, because the registry is open by design. Every
request passes a token bucket and a body size limit. The bucket is the client address's,
unless the request carries a token this process has already verified (then the owner's
own): an unchecked token must not buy a fresh bucket. Registrations have a second, slower
bucket per address, because each one runs argon2 (bounded in ``tokens.PasswordHashing``).
Every error, including malformed JSON and validation failures, has one shape::

    {"error": {"code": "claim_rejected", "message": "domain selector: 'co.uk' is a ..."}}
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, File, Form, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator, Field, StrictBool
from starlette.exceptions import HTTPException

from traindex.bootstrap import Services
from traindex.config import Settings
from traindex.errors import InputError, RateLimitedError
from traindex.registry.declarations import export_declarations, parse_declarations
from traindex.registry.errors import AuthError, ClaimRejected, PermissionDenied, RegistryError
from traindex.registry.models import ClaimRequest, Owner, Selector, to_json
from traindex.registry.owners import OWNER_NAME_PATTERN
from traindex.registry.ratelimit import TokenBuckets
from traindex.registry.service import RegistryService
from traindex.registry.snapshot import JSONL, MANIFEST, PARQUET, SIGNATURE, TIMESTAMP
from traindex.server.limits import retry_headers

__all__ = ["router"]

_SNAPSHOT_FILES = {
    MANIFEST: "application/json",
    SIGNATURE: "text/plain",
    PARQUET: "application/vnd.apache.parquet",
    JSONL: "application/x-ndjson",
    TIMESTAMP: "application/json",
}
_SNAPSHOT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the file, by its type",
        "content": {media: {} for media in _SNAPSHOT_FILES.values()},
    }
}
_SNAPSHOT_MAX_AGE_S = 3600.0
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """Every registry error: ``{"error": {"code": ..., "message": ...}}``."""

    error: ErrorDetail


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in {
        400: "unreadable request body",
        401: "missing, unknown, replaced or expired token (operations that need one)",
        403: "the token's owner may not do this",
        404: "no such claim",
        405: "method not allowed",
        409: "owner name taken",
        413: "request body over the size limit",
        422: "invalid request, or a claim the registry's rules refuse",
        429: "rate limit; `Retry-After` says when to retry",
    }.items()
}


def _iso_datetime(value: object) -> object:
    """Only RFC 3339 text (or null) is a date here: pydantic would also take a number."""
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("expected an RFC 3339 date-time string")
    return value


class SelectorIn(BaseModel):
    kind: Literal["url", "url_prefix", "domain", "flickr_owner", "image"]
    value: str
    include_subdomains: StrictBool = True
    sha256: str | None = None
    pdq: str | None = None
    md5: str | None = None
    iscc: str | None = Field(default=None, description="ISCC Image-Code body (16 hex)")


class ClaimIn(BaseModel):
    selector: SelectorIn
    terms: Literal["do_not_train", "allow", "allow_with_attribution", "license_required"] = (
        "do_not_train"
    )
    contact: str | None = None
    expires_at: Annotated[datetime | None, BeforeValidator(_iso_datetime)] = None


class BulkClaimsIn(BaseModel):
    claims: list[ClaimIn] = Field(max_length=1_000, description="<= 1,000 claims, all or none")


_TERMS = Literal["do_not_train", "allow", "allow_with_attribution", "license_required"]


class OwnerIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=OWNER_NAME_PATTERN)
    email: str | None = Field(default=None, max_length=320, pattern="@")


class VerifyIn(BaseModel):
    page: str | None = Field(
        default=None,
        max_length=8192,
        description="Where the code was put: a page of the claimed account or under the "
        "claimed prefix (default: the account's profile, or the prefix itself)",
    )


class DecisionIn(BaseModel):
    reason: str | None = Field(
        default=None, max_length=2000, description="Shown to the owner; required to reject"
    )


class CheckIn(BaseModel):
    items: list[str] = Field(
        description="URLs, sha256:HEX, md5:HEX, pdq:HEX, iscc:HEX or ISCC codes (<= 10,000)"
    )
    count_unverified: StrictBool = False


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


class _Guard:
    """Body size limit, rate limits and the error shape, applied around every route."""

    def __init__(self, settings: Settings, registry: _Lazy) -> None:
        self.max_body = settings.registry_max_body_bytes
        self.registry = registry
        self.buckets = TokenBuckets(settings.registry_rate_per_second, settings.registry_rate_burst)
        self.registrations = TokenBuckets(
            settings.registry_registrations_per_hour / 3600.0, settings.registry_registration_burst
        )

    def key(self, request: Request) -> str:
        """The owner's bucket for a token verified before; the client address's otherwise."""
        token = _bearer(request)
        owner_id = None if token is None else self.registry.verified_owner_id(token)
        return "owner:" + owner_id if owner_id else "client:" + client_of(request)

    def admit_registration(self, request: Request) -> None:
        wait = self.registrations.take(client_of(request))
        if wait > 0:
            raise RateLimitedError(f"too many registrations; retry in {wait:.0f} s", wait)

    async def read_body(self, request: Request) -> bool:
        """Read the body up to the limit (also for chunked uploads); False if it is larger."""
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return False
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > self.max_body:
                return False
        request._body = bytes(body)  # Starlette serves later reads from this cache
        return True

    async def run(self, request: Request, inner: Handler) -> Response:
        wait = self.buckets.take(self.key(request))
        if wait > 0:
            return _registry_error(
                RateLimitedError(f"rate limit exceeded; retry in {wait:.1f} s", wait)
            )
        if not await self.read_body(request):
            return _error(413, "request_too_large", f"request body exceeds {self.max_body} bytes")
        try:
            return await inner(request)
        except (RegistryError, RateLimitedError) as exc:
            return _registry_error(exc)
        except HTTPException as exc:  # e.g. a body FastAPI could not parse at all
            return _error(exc.status_code, "invalid_request", str(exc.detail))
        except RequestValidationError as exc:
            first = exc.errors()[0] if exc.errors() else {}
            where = ".".join(str(p) for p in first.get("loc", ()))
            return _error(422, "invalid_request", f"{where}: {first.get('msg', 'invalid request')}")


def _registry_error(exc: RegistryError | RateLimitedError) -> JSONResponse:
    return _error(exc.status, exc.code, str(exc), retry_headers(exc))


def _route_class(guard: _Guard) -> type[APIRoute]:
    class GuardedRoute(APIRoute):
        def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
            kwargs["responses"] = {**_ERRORS, **(kwargs.get("responses") or {})}
            super().__init__(path, endpoint, **kwargs)

        def get_route_handler(self) -> Handler:
            inner = super().get_route_handler()

            async def handler(request: Request) -> Response:
                return await guard.run(request, inner)

            return handler

    return GuardedRoute


class _Lazy:
    """Opens the registry on first use, so an app that never touches it creates no database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._service: RegistryService | None = None
        self._lock = threading.Lock()
        self.snapshot_lock = threading.Lock()

    def __call__(self) -> RegistryService:
        with self._lock:
            if self._service is None:
                self._service = RegistryService.open(self.settings)
            return self._service

    def verified_owner_id(self, token: str) -> str | None:
        """The owner of a token verified recently here; None before the registry is open."""
        service = self._service
        return None if service is None else service.verified_owner_id(token)

    def owner(self, request: Request) -> Owner:
        """The owner of the request's bearer token (``AuthError`` without a valid one)."""
        token = _bearer(request)
        if token is None:
            raise AuthError("missing 'Authorization: Bearer <token>' header")
        return self().authenticate(token, client=client_of(request))


def router(services: Services) -> APIRouter:
    settings = services.settings
    registry = _Lazy(settings)
    guard = _Guard(settings, registry)
    api = APIRouter(prefix="/api/registry", tags=["registry"], route_class=_route_class(guard))

    _account_routes(api, registry, guard)
    _claim_routes(api, registry, settings)
    _review_routes(api, registry)
    return api


def _account_routes(api: APIRouter, registry: _Lazy, guard: _Guard) -> None:
    """Owners and claim writes (token needed except to register)."""
    owner = registry.owner

    @api.post("/owners", status_code=201)
    def register_owner(body: OwnerIn, request: Request) -> dict[str, Any]:
        """Register an owner; the response holds its API token, shown this once."""
        guard.admit_registration(request)
        account, token = registry().register_owner(body.name, body.email, client=client_of(request))
        return {"owner": to_json(account), "token": token}

    @api.get("/owners/me")
    def me(request: Request) -> dict[str, Any]:
        return to_json(owner(request))

    @api.post("/claims", status_code=201)
    def add_claim(body: ClaimIn, request: Request) -> dict[str, Any]:
        """File a claim (idempotent). Domain/prefix/URL claims start unverified until proved."""
        account = owner(request)
        selector = Selector(**body.selector.model_dump())
        claim = registry().add_claim(
            account, selector, body.terms, contact=body.contact, expires_at=body.expires_at
        )
        return to_json(claim)

    @api.post("/claims/bulk", status_code=201)
    def add_claims(body: BulkClaimsIn, request: Request) -> dict[str, Any]:
        """File up to 1,000 claims in one transaction; resend the same batch to resume."""
        account = owner(request)
        requests = [
            ClaimRequest(Selector(**c.selector.model_dump()), c.terms, c.contact, c.expires_at)
            for c in body.claims
        ]
        return {"claims": [to_json(c) for c in registry().add_claims(account, requests)]}

    @api.post("/claims/image", status_code=201)
    def add_image_claim(
        request: Request,
        file: Annotated[UploadFile, File(description="The image; only its hashes are kept.")],
        terms: Annotated[_TERMS, Form()] = "do_not_train",
    ) -> dict[str, Any]:
        """Claim an image by upload: SHA-256, MD5, PDQ and ISCC are kept, the bytes are not."""
        account = owner(request)
        selector = Selector.for_image(file.file.read(), name=file.filename)
        return to_json(registry().add_claim(account, selector, terms))

    @api.post("/declarations", status_code=201)
    def import_declarations(
        body: Annotated[
            dict[str, Any] | list[dict[str, Any]],
            Body(description="A TDM·AI declaration (JSON object) or an array of them"),
        ],
        request: Request,
    ) -> dict[str, Any]:
        """File content-bound (ISCC) declarations as ``do_not_train`` image claims, all or
        none; the declaration text is kept as given (a signature in it is not verified)."""
        account = owner(request)
        try:
            requests = parse_declarations(json.dumps(body), source="body")
        except InputError as exc:
            raise ClaimRejected(str(exc)) from None
        return {"claims": [to_json(c) for c in registry().add_claims(account, requests)]}

    @api.get("/declarations")
    def export_declarations_route(request: Request) -> dict[str, Any]:
        """The caller's live ISCC image claims as TDM·AI declarations."""
        account = owner(request)
        return {"declarations": export_declarations(registry().list_claims(account))}


def _claim_routes(api: APIRouter, registry: _Lazy, settings: Settings) -> None:
    """Reading claims, verification, bulk check and snapshots."""
    owner = registry.owner

    @api.get("/claims")
    def list_claims(
        request: Request, mine: bool = False, include_revoked: bool = False
    ) -> dict[str, Any]:
        """All claims (public), or with ``mine=true`` and a token only the caller's."""
        account = owner(request) if mine else None
        claims = registry().list_claims(account, include_revoked=include_revoked)
        return {"claims": [to_json(c) for c in claims]}

    @api.get("/claims/{claim_id}")
    def get_claim(claim_id: str) -> dict[str, Any]:
        return to_json(registry().get_claim(claim_id))

    @api.post("/claims/{claim_id}/revoke")
    def revoke(claim_id: str, request: Request) -> dict[str, Any]:
        account = owner(request)
        return to_json(registry().revoke_claim(account, claim_id))

    @api.get("/claims/{claim_id}/verification")
    def instructions(claim_id: str, request: Request) -> dict[str, Any]:
        """The token to publish over HTTP or DNS to prove control of the claim's domain."""
        account = owner(request)
        return to_json(registry().verification_instructions(account, claim_id))

    @api.post("/claims/{claim_id}/verify")
    def verify(claim_id: str, request: Request, body: VerifyIn | None = None) -> dict[str, Any]:
        """Run the claim's proofs: its domain's file or DNS record, or the code on the
        owner's page (``page``). A page that cannot be read queues the claim for review."""
        account = owner(request)
        page = None if body is None else body.page
        return to_json(registry().verify(account, claim_id, page=page))

    @api.post("/check")
    def check(body: CheckIn) -> dict[str, Any]:
        """Decide up to 10,000 items: allowed, do_not_train, license_required, ..."""
        decisions = registry().check(body.items, count_unverified=body.count_unverified)
        return {"decisions": [to_json(d) for d in decisions]}

    @api.get("/snapshot/{name}", response_class=FileResponse, responses=_SNAPSHOT_RESPONSE)
    def snapshot(
        name: Literal[
            "manifest.json", "manifest.sig", "claims.parquet", "claims.jsonl", "manifest.tsr.json"
        ],
    ) -> Response:
        """A file of the latest signed snapshot (rebuilt when older than an hour);
        ``manifest.tsr.json`` (its RFC 3161 token) exists only with a timestamp authority."""
        folder = _fresh_snapshot(registry, settings.home / "registry" / "snapshot")
        if not (folder / name).is_file():
            return _error(404, "not_found", f"this snapshot has no {name} (no tsa_url set)")
        return FileResponse(folder / name, media_type=_SNAPSHOT_FILES[name], filename=name)


def _review_routes(api: APIRouter, registry: _Lazy) -> None:
    """The operators' review queue (a token of an owner granted ``operator``)."""

    def operator(request: Request) -> Owner:
        account = registry.owner(request)
        if not account.operator:
            raise PermissionDenied("only registry operators review claims")
        return account

    @api.get("/review")
    def review_queue(
        request: Request, status: Literal["pending", "approved", "rejected", "all"] = "pending"
    ) -> dict[str, Any]:
        """Claims waiting for (or decided by) an operator, oldest first."""
        operator(request)
        queued = registry().review_queue(None if status == "all" else status)
        return {"reviews": [q.to_json() for q in queued]}

    @api.post("/review/{claim_id}/{decision}")
    def decide(
        claim_id: str,
        decision: Literal["approve", "reject"],
        request: Request,
        body: DecisionIn | None = None,
    ) -> dict[str, Any]:
        """Approve (the claim becomes verified) or reject with a ``reason``; audited."""
        reason = None if body is None else body.reason
        approve = decision == "approve"
        claim = registry().decide_review(
            registry.owner(request), claim_id, approve=approve, reason=reason
        )
        return to_json(claim)


def _fresh_snapshot(registry: _Lazy, folder: Path) -> Path:
    manifest = folder / MANIFEST
    with registry.snapshot_lock:
        stale = (
            not manifest.is_file() or time.time() - manifest.stat().st_mtime > _SNAPSHOT_MAX_AGE_S
        )
        if stale:
            registry().snapshot(folder)
    return folder
