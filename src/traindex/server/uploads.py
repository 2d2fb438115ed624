"""Reading a search request's body within limits: query images and form/JSON fields.

Query images are untrusted and may be large, so the body is never read unbounded:

* the declared ``Content-Length`` is checked first, and the stream is counted as it
  arrives (chunked uploads declare nothing), so an oversized request is refused after at
  most ``max_request_bytes`` have been read;
* Starlette's multipart parser enforces the file count while parsing; each file it spools
  (memory up to 1 MB, then an anonymous temporary file) is read once and closed at the end
  of the request, so nothing uploaded outlives the request or reaches the catalog;
* a file over ``max_file_bytes`` becomes a per-file error instead of failing a portfolio;
  the pixel budget is enforced by the image decoder before any pixel is decoded.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from traindex.config import Settings
from traindex.core.filenames import display_name
from traindex.errors import InputError

__all__ = ["SearchForm", "UploadLimits", "UploadTooLargeError", "read_search_form"]

_MAX_FIELDS = 50
_MAX_FIELD_BYTES = 64 * 1024  # one text field (a URL, caption words)
_MAX_FORM_BYTES = 256 * 1024  # a whole body without files (JSON, urlencoded)


class UploadTooLargeError(InputError):
    """The request as a whole is over a limit (bytes or file count): HTTP 413."""


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """How much one request may upload; the web app takes them from ``Settings``.
    ``unit`` names one request in error messages (a ``search``, a near-copy ``check``)."""

    max_file_bytes: int
    max_files: int
    max_request_bytes: int
    max_pixels: int
    unit: str = "search"

    @classmethod
    def from_settings(cls, settings: Settings, unit: str = "search") -> UploadLimits:
        return cls(
            max_file_bytes=settings.web_max_file_bytes,
            max_files=settings.web_max_files,
            max_request_bytes=settings.web_max_request_bytes,
            max_pixels=settings.web_max_pixels,
            unit=unit,
        )


@dataclass
class SearchForm:
    """Text fields (first value per name; ``pairs`` has all), readable query files
    ``(name, bytes)`` and files refused with a reason."""

    fields: dict[str, str] = field(default_factory=dict)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    files: list[tuple[str, bytes]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


async def _bounded(stream: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes, None]:
    seen = 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > limit:
            raise UploadTooLargeError(
                f"the upload is larger than {_mb(limit)}; send fewer or smaller images"
            )
        yield chunk


def _check_declared(request: Request, limit: int, unit: str) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise UploadTooLargeError(
            f"the upload is {_mb(int(declared))}, over the {_mb(limit)} limit per {unit}; "
            "send fewer or smaller images"
        )


async def _take_file(upload: UploadFile, name: str, limits: UploadLimits, form: SearchForm) -> None:
    size = upload.size if upload.size is not None else 0
    if size > limits.max_file_bytes:
        form.rejected.append(
            (name, f"the file is {_mb(size)}, over the {_mb(limits.max_file_bytes)} limit")
        )
    elif size == 0:
        form.rejected.append((name, "the file is empty (0 bytes)"))
    else:
        form.files.append((name, await upload.read()))


async def _multipart(request: Request, limits: UploadLimits) -> SearchForm:
    parser = MultiPartParser(
        request.headers,
        _bounded(request.stream(), limits.max_request_bytes),
        max_files=limits.max_files,
        max_fields=_MAX_FIELDS,
        max_part_size=_MAX_FIELD_BYTES,
    )
    try:
        data = await parser.parse()
    except MultiPartException as exc:
        if "files" in str(exc).lower():
            raise UploadTooLargeError(
                f"at most {limits.max_files} images per {limits.unit}; send the rest in another"
            ) from exc
        raise InputError(f"cannot read the form: {exc}") from exc
    form, taken = SearchForm(), set[str]()
    try:
        for key, value in data.multi_items():
            if isinstance(value, UploadFile):
                if value.filename or value.size:  # an empty file input sends a nameless part
                    await _take_file(value, display_name(value.filename, taken), limits, form)
            elif value.strip():
                form.fields.setdefault(key, value)
                form.pairs.append((key, value))
    finally:
        await data.close()  # deletes spooled temporary files now, not at garbage collection
    return form


async def _small_body(request: Request, limit: int) -> bytes:
    chunks = [c async for c in _bounded(request.stream(), limit)]
    return b"".join(chunks)


_NUMBER_FIELDS = frozenset({"limit", "offset"})


def _json_fields(body: bytes) -> dict[str, str]:
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError("the JSON body must be an object of search fields")
    fields: dict[str, str] = {}
    for key, value in data.items():
        wanted = int if key in _NUMBER_FIELDS else str  # JSON has types: keep them honest
        if not isinstance(value, wanted) or isinstance(value, bool):
            raise InputError(
                f"field {key!r} must be {'an integer' if wanted is int else 'a string'}"
            )
        if str(value).strip():
            fields[str(key)] = str(value)
    return fields


async def read_search_form(
    request: Request, limits: UploadLimits, *, form_bytes: int = _MAX_FORM_BYTES
) -> SearchForm:
    """Parse a multipart, urlencoded or JSON search request within ``limits``; a body
    without files is read up to ``form_bytes``.

    Raises ``UploadTooLargeError`` for a request over the byte or file-count limit and
    ``InputError`` for a body that cannot be read.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        _check_declared(request, limits.max_request_bytes, limits.unit)
        return await _multipart(request, limits)
    _check_declared(request, form_bytes, limits.unit)
    body = await _small_body(request, form_bytes)
    if content_type == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(body.decode("utf-8", "replace"), max_num_fields=_MAX_FIELDS)
        except ValueError as exc:
            raise InputError(f"cannot read the form: {exc}") from exc
        kept = [(k, v) for k, v in pairs if v.strip()]
        return SearchForm(fields=dict(reversed(kept)), pairs=kept)
    if content_type in ("application/json", ""):
        fields = _json_fields(body)
        return SearchForm(fields=fields, pairs=list(fields.items()))
    raise InputError(
        f"unsupported content type {content_type!r}: send multipart/form-data, "
        "application/x-www-form-urlencoded or application/json"
    )
