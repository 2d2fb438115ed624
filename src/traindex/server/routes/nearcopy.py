"""``POST /api/nearcopy``: the JSON answer of ``traindex nearcopy --json``, over HTTP.

``multipart/form-data`` with one or more ``image`` files (generated images, or zips of a
folder of them) and an optional ``dataset``. The same limits as the near-copy page apply
(``server.nearcopy_desk``: upload size and count, zip expansion, per-client rate); errors
come back as ``{"detail": message}`` with 400, 404, 413 or 429 (with ``Retry-After``). No
cookies, so no CSRF.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from traindex.bootstrap import Services
from traindex.errors import TraindexError
from traindex.server.nearcopy_desk import NearCopyDesk
from traindex.server.routes.search import error_answer, json_answer

__all__ = ["router"]

_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {
                        "image": {
                            "type": "array",
                            "minItems": 1,  # the check needs at least one file (else 400)
                            "items": {"type": "string", "format": "binary"},
                            "description": "generated image(s), or zip(s) of a folder of them",
                        },
                        "dataset": {"type": "string", "description": "NAME or NAME/RELEASE"},
                    },
                }
            }
        },
    },
    "responses": {
        "200": {"description": "the `traindex nearcopy --json` answer"},
        "400": {"description": "unreadable input; `detail` says why"},
        "404": {"description": "no such dataset"},
        "413": {"description": "upload over the byte or file-count limit"},
        "429": {"description": "too many checks from this client; `detail` says when to retry"},
    },
}


def router(services: Services) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["nearcopy"])
    desk = NearCopyDesk(services)

    @api.post("/nearcopy", openapi_extra=_OPENAPI, response_model=dict[str, Any])
    async def nearcopy(request: Request) -> JSONResponse:
        """Is each generated image a copy of a training image? copy / near_copy / similar /
        novel, with the training rows, the region where a copy sits, and the coverage."""
        try:
            form = await desk.read(request)
            desk.admit(request)
            report = await run_in_threadpool(desk.check, form)
        except TraindexError as exc:
            return error_answer(exc)
        return json_answer(report.to_json())

    return api
