"""A folder of generated images sent as one zip: expanded in memory, within limits.

A zip is untrusted input, so expanding it is bounded the same way as an upload:

* at most ``max_files`` images in all (members beyond that: an error, nothing partial);
* each member read through a bounded stream (``max_file_bytes + 1`` at most, whatever its
  header claims), so a member that inflates beyond the limit is refused, not expanded;
* the total inflated bytes stay under ``max_request_bytes``, and a member whose
  compression ratio exceeds ``_MAX_RATIO`` is refused as a zip bomb before it is read;
* names are display names only (nothing is written to disk); members with absolute paths
  or ``..`` parts are refused by name (path traversal), directories and hidden files
  (``__MACOSX/``, ``.DS_Store``) skipped, nested zips not opened.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from traindex.errors import InputError
from traindex.server.uploads import SearchForm, UploadLimits, UploadTooLargeError

__all__ = ["expand_zips", "is_zip"]

_MAX_RATIO = 200
"""JPEG and PNG hardly compress; a member inflating 200x is a bomb, not a picture."""


def is_zip(name: str, data: bytes) -> bool:
    return name.lower().endswith(".zip") or data[:4] == b"PK\x03\x04"


def _unsafe(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (name[1:3] == ":\\")


def _skipped(info: zipfile.ZipInfo) -> bool:
    """Directories and hidden files (``.DS_Store``, ``__MACOSX/``); an unsafe path is not
    skipped but refused by name (``_unsafe``), so the user sees it."""
    if _unsafe(info.filename):
        return False
    parts = PurePosixPath(info.filename).parts
    return info.is_dir() or any(p.startswith((".", "__MACOSX")) for p in parts)


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: UploadLimits) -> bytes:
    """A member's bytes, read at most ``max_file_bytes + 1`` (``InputError`` if over)."""
    if info.compress_size and info.file_size / info.compress_size > _MAX_RATIO:
        raise InputError(f"compressed {info.file_size / info.compress_size:.0f}:1 (a zip bomb?)")
    with archive.open(info) as stream:
        data = stream.read(limits.max_file_bytes + 1)
    if len(data) > limits.max_file_bytes:
        raise InputError(f"the file is over the {limits.max_file_bytes:,}-byte limit")
    if not data:
        raise InputError("the file is empty (0 bytes)")
    return data


def _expand(name: str, data: bytes, limits: UploadLimits, form: SearchForm, budget: int) -> int:
    """Add the zip's images to ``form``; return the inflated bytes left in ``budget``."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [i for i in archive.infolist() if not _skipped(i)]
    except (zipfile.BadZipFile, OSError) as exc:
        form.rejected.append((name, f"not a readable zip file: {exc}"))
        return budget
    with archive:
        for info in members:
            label = f"{name}/{info.filename}"
            if len(form.files) >= limits.max_files:
                raise UploadTooLargeError(
                    f"{name} holds more than {limits.max_files} images; split the folder"
                )
            if _unsafe(info.filename):
                form.rejected.append((label, "unsafe path in the zip (absolute or '..')"))
                continue
            try:
                content = _member(archive, info, limits)
            except (InputError, zipfile.BadZipFile, OSError, RuntimeError) as exc:
                form.rejected.append((label, str(exc)))
                continue
            budget -= len(content)
            if budget < 0:
                raise UploadTooLargeError(
                    f"{name} expands to more than {limits.max_request_bytes:,} bytes; "
                    "send a smaller folder"
                )
            form.files.append((label, content))
    return budget


def expand_zips(form: SearchForm, limits: UploadLimits) -> SearchForm:
    """``form`` with every zip among its files replaced by the images inside it."""
    out = SearchForm(form.fields, form.pairs, [], list(form.rejected))
    budget = limits.max_request_bytes
    for name, data in form.files:
        if is_zip(name, data):
            budget = _expand(name, data, limits, out, budget)
        elif len(out.files) >= limits.max_files:
            raise UploadTooLargeError(f"at most {limits.max_files} images per check")
        else:
            out.files.append((name, data))
    return out
