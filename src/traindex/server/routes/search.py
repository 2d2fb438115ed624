"""``POST /api/search``: the JSON answer of ``traindex search --json``, over HTTP.

Accepts ``multipart/form-data`` (one or more ``image`` files, plus optional fields),
``application/x-www-form-urlencoded`` or ``application/json`` with exactly one of the
query fields. The body is read within the upload limits of ``Settings`` (see
``traindex.server.uploads``); errors come back as ``{"detail": message}`` with 400 (bad
input), 404 (unknown dataset), 413 (too large / too many files) or 429 (this client's
image-search rate used up, see ``traindex.server.limits``; ``Retry-After`` says when).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from traindex.bootstrap import Services
from traindex.errors import InputError, TraindexError
from traindex.server.context import PerThread
from traindex.server.limits import ClientLimit, retry_headers
from traindex.server.rendering import status_of
from traindex.server.searching import QUERY_FIELDS
from traindex.server.uploads import SearchForm, UploadLimits, read_search_form

__all__ = ["error_answer", "json_answer", "router"]

_FIELD_DOCS: dict[str, str] = {
    "url": "exact image URL (normalised)",
    "url_prefix": "URL prefix",
    "domain": "registrable domain, incl. subdomains",
    "flickr_photo": "Flickr photo id or photo URL",
    "flickr_user": "Flickr NSID, alias or profile URL",
    "text": 'caption words; "quoted phrase" for phrases',
    "sha256": "SHA-256 of the original file (hex)",
    "md5": "MD5 of the original file (hex)",
    "iscc": "ISCC code (Image-Code or ISCC-CODE): same image within the ISCC radius",
}
_COMMON: dict[str, Any] = {
    "dataset": {"type": "string", "description": "NAME or NAME/RELEASE (default: all)"},
    "limit": {"type": "integer", "minimum": 1, "maximum": 500},
    "offset": {"type": "integer", "minimum": 0, "maximum": 2**40},
}


def _variant(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "title": name,
        "required": [name],
        "properties": {name: spec, **_COMMON},
        "additionalProperties": False,
    }


def _schema(with_images: bool) -> dict[str, Any]:
    """Exactly one query field (or image files), plus ``dataset``/``limit``/``offset``."""
    variants = [
        _variant(kind, {"type": "string", "minLength": 1, "description": _FIELD_DOCS[kind]})
        for kind in (*QUERY_FIELDS, "iscc")
    ]
    if with_images:
        image = {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": "query image file(s): same file and same image",
        }
        variants.insert(0, _variant("image", image))
    return {"oneOf": variants}


_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": _schema(True)},
            "application/x-www-form-urlencoded": {"schema": _schema(False)},
            "application/json": {"schema": _schema(False)},
        },
    },
    "responses": {
        "200": {"description": "the `traindex search --json` answer"},
        "400": {"description": "unreadable input; `detail` says why"},
        "404": {"description": "no such dataset"},
        "413": {"description": "upload over the byte or file-count limit"},
        "429": {"description": "too many image searches from this address; see `Retry-After`"},
    },
}


def _plain(value: Any) -> Any:
    """JSON-ready: NaN/inf (possible in dataset float columns) become null, others as text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # paths and the like, as the CLI's --json prints them


def json_answer(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSON response that never fails on a value the dataset happened to hold."""
    return JSONResponse(_plain(data), status_code=status, headers=headers)


def error_answer(exc: TraindexError) -> JSONResponse:
    """``{"detail": message}`` with the error's status (and ``Retry-After`` for a 429)."""
    return json_answer({"detail": str(exc)}, status_of(exc), retry_headers(exc))


_ALLOWED = frozenset({*QUERY_FIELDS, "iscc", "image", "dataset", "limit", "offset"})
_RANGES = {"limit": (1, 500), "offset": (0, 2**40)}


def checked(form: SearchForm) -> SearchForm:
    """The documented request only: no other fields, ``limit``/``offset`` integers in range
    (the web form shares the reader but carries more fields, such as its CSRF token)."""
    unknown = sorted({name for name, _ in form.pairs} - _ALLOWED)
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(unknown)}")
    for name, (low, high) in _RANGES.items():
        value = form.fields.get(name)
        if value is not None and not (value.isdigit() and low <= int(value) <= high):
            raise InputError(f"{name} must be an integer from {low} to {high}")
    return form


def router(services: Services) -> APIRouter:
    settings = services.settings
    api = APIRouter(prefix="/api", tags=["search"])
    contexts = PerThread(services)
    limits = UploadLimits.from_settings(settings)
    rate = ClientLimit(settings, "search")

    def run(form: SearchForm) -> dict[str, Any]:
        search = contexts.get().search
        if form.fields.get("iscc", "").strip():
            return search.by_iscc(form).to_json()
        return search.run(form).to_json()

    @api.post("/search", openapi_extra=_OPENAPI, response_model=dict[str, Any])
    async def search(request: Request) -> JSONResponse:
        """Search by image file(s), ISCC code, URL, domain, Flickr photo/account, digest or
        caption text."""
        try:
            form = checked(await read_search_form(request, limits))
            if form.files or form.rejected:  # image search is the costly kind (~20 ms/image)
                rate.admit(request)
            answer = await run_in_threadpool(run, form)
        except TraindexError as exc:
            return error_answer(exc)
        return json_answer(answer)

    return api
