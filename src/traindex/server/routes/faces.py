"""``POST /api/faces/search``: find the one face in an uploaded photo (guarded; off by default).

The request body is the photo itself (any image type), read up to
``face_search_max_bytes``. Status codes: 403 while face search is disabled (the default),
429 with ``Retry-After`` over the per-client limit, 413 for an oversized body, 422 when
the photo does not show exactly one usable face (the body lists the faces found, by box).
The photo and its embedding exist only for the request; nothing about it is logged or
stored, only the audit counters move.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from traindex.bootstrap import Services
from traindex.errors import InputError, RateLimitedError
from traindex.search.face_guard import FaceSearchDisabledError, FaceSearchGuard
from traindex.search.faces import FaceQueryError, FaceSearchResult
from traindex.search.queries import FaceQuery

__all__ = ["router"]


async def _body(request: Request, limit: int) -> bytes | None:
    """The request body, or ``None`` as soon as it exceeds ``limit`` bytes."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "face search is disabled on this server (the default)"},
    413: {"description": "photo over the byte limit"},
    422: {"description": "the photo does not show exactly one usable face"},
    429: {"description": "over the per-client limit; see `Retry-After`"},
}


def router(services: Services) -> APIRouter:
    settings = services.settings
    api = APIRouter()
    guard = FaceSearchGuard(settings)

    def search(data: bytes, dataset: str | None, limit: int) -> FaceSearchResult:
        return services.search.search(FaceQuery(data), dataset=dataset, limit=limit)

    @api.post("/api/faces/search", tags=["faces"], response_model=None, responses=_ERRORS)
    async def face_search(
        request: Request,
        dataset: Annotated[str | None, Query(description="NAME or NAME/RELEASE")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    ) -> dict[str, Any] | JSONResponse:
        client = request.client.host if request.client else "unknown"
        try:
            guard.admit(client)
        except FaceSearchDisabledError as exc:
            return JSONResponse({"error": str(exc)}, status_code=403)
        except RateLimitedError as exc:
            retry = str(math.ceil(exc.retry_after))
            return JSONResponse(
                {"error": str(exc)}, status_code=429, headers={"Retry-After": retry}
            )
        data = await _body(request, settings.face_search_max_bytes)
        if data is None:
            limit_bytes = settings.face_search_max_bytes
            return JSONResponse({"error": f"photo over {limit_bytes:,} bytes"}, status_code=413)
        try:
            result = await run_in_threadpool(search, data, dataset, limit)
        except FaceQueryError as exc:
            guard.audit.record("refused")
            return JSONResponse({"error": str(exc), "faces": exc.faces}, status_code=422)
        except InputError as exc:
            guard.audit.record("refused")
            return JSONResponse({"error": str(exc)}, status_code=422)
        guard.audit.record("searched")
        return result.to_json()

    return api
