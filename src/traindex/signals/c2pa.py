"""C2PA / CAWG training-and-data-mining assertions, read with ``c2pa-python`` offline.

Labels ``c2pa.training-mining`` (C2PA 1.x) and ``cawg.training-mining`` (CAWG 1.1), with
instance suffixes (``__1``), in the *active* manifest. Entries ending in ``ai_training``,
``ai_generative_training`` or ``data_mining`` decide: ``notAllowed`` and ``constrained`` are
reserved (CAWG: "in the absence of additional information, constrained shall be treated as
equivalent to notAllowed"), ``allowed`` is allowed. An ``ai_inference``-only restriction is
not a training reservation and is reported as no statement.

Remote manifest fetching and OCSP are turned off: a checker must not call third parties, and
c2pa's default would. A manifest that cannot be read (remote-only, corrupt, cut body) is
``unknown`` - never ``allowed``, which is how datadiligence fails open. A reservation in a
manifest that fails validation still counts (with a warning); an ``allowed`` from one does not.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from dataclasses import replace
from functools import cache
from typing import Any

import c2pa

from traindex.signals.base import Basis, CheckContext, CheckResult, Resource, Verdict

__all__ = ["C2paChecker", "evaluate_store", "sniff_mime"]

_LABEL = re.compile(r"^(?:c2pa|cawg)\.training-mining(?:__\d+)?$")
_TRAINING = ("ai_training", "ai_generative_training", "data_mining")
_RESTRICTED = ("notallowed", "constrained")
_MARKERS = (b"jumb", b"c2pa", b"provenance")


@cache
def _context() -> Any:
    return c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}})


def sniff_mime(data: bytes, content_type: str) -> str | None:
    """The media type c2pa needs, from magic bytes, else from ``content_type``."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if data[4:12] in (b"ftypheic", b"ftypavif", b"ftypmif1"):
        return "image/avif" if data[8:12] == b"avif" else "image/heic"
    if content_type.startswith(("image/", "video/", "audio/")):
        return content_type
    return None


def _read(data: bytes, mime: str) -> tuple[dict[str, Any], str]:
    reader = c2pa.Reader(mime, io.BytesIO(data), context=_context())
    with reader:
        store = json.loads(reader.json())
        state = str(reader.get_validation_state() or "")
    return store, state


def _entries(manifest: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for assertion in manifest.get("assertions") or []:
        label = str(assertion.get("label", ""))
        entries = (assertion.get("data") or {}).get("entries") or {}
        if _LABEL.match(label) and isinstance(entries, dict):
            found += [(label, key, e) for key, e in entries.items() if isinstance(e, dict)]
    return found


def evaluate_store(store: dict[str, Any], state: str, where: str) -> CheckResult:
    """The verdict of the active manifest in a c2pa ``Reader.json()`` store."""
    label = store.get("active_manifest")
    manifest = (store.get("manifests") or {}).get(label) or {}
    base = f"{where} C2PA manifest {label}"
    entries = [(a, k, e) for a, k, e in _entries(manifest) if k.endswith(_TRAINING)]
    invalid = state.lower() == "invalid"
    for assertion, key, entry in entries:
        use = str(entry.get("use", ""))
        if use.lower() in _RESTRICTED:
            info = entry.get("constraint_info") or entry.get("constraints_info")
            raw = use + (f" ({info})" if info else "")
            why = f"{key} is {use}" + (" (manifest fails validation)" if invalid else "")
            src = f"{base} {assertion}/{key}"
            return CheckResult("c2pa", Verdict.RESERVED, Basis.STATEMENT, src, raw, why)
    allowed = [(a, k) for a, k, e in entries if str(e.get("use", "")).lower() == "allowed"]
    if allowed and invalid:
        why = "manifest allows training but fails validation; not trusted"
        return CheckResult("c2pa", Verdict.UNKNOWN, Basis.ERROR, base, "allowed", why)
    if allowed:
        src = f"{base} {allowed[0][0]}/{allowed[0][1]}"
        return CheckResult("c2pa", Verdict.ALLOWED, Basis.STATEMENT, src, "allowed", "allowed")
    why = f"manifest ({state or 'unvalidated'}) has no training/data-mining statement"
    return CheckResult("c2pa", Verdict.UNKNOWN, Basis.ABSENT, base, None, why)


def _check_bytes(data: bytes, mime: str, where: str, complete: bool) -> CheckResult:
    try:
        store, state = _read(data, mime)
    except c2pa.C2paError.ManifestNotFound:
        if complete:
            return CheckResult("c2pa", Verdict.UNKNOWN, Basis.ABSENT, where, None, "no manifest")
        why = "no manifest in the part read (body cut at the size limit)"
        return CheckResult("c2pa", Verdict.UNKNOWN, Basis.ERROR, where, None, why)
    except Exception as exc:  # native library boundary: any failure means "unreadable"
        why = f"manifest unreadable offline: {exc}"
        return CheckResult("c2pa", Verdict.UNKNOWN, Basis.ERROR, where, type(exc).__name__, why)
    return evaluate_store(store, state, where)


class C2paChecker:
    """The active C2PA manifest of an image resource (fetched or local)."""

    signal = "c2pa"

    async def check(self, resource: Resource, context: CheckContext) -> CheckResult | None:
        """Read the manifest; ``None`` for non-media resources."""
        if resource.error is not None:
            return None
        mime = sniff_mime(resource.body, resource.content_type)
        if mime is None:
            return None
        if not any(marker in resource.body for marker in _MARKERS):
            why = "no C2PA manifest (no JUMBF box or provenance reference)"
            return CheckResult(
                self.signal,
                Verdict.UNKNOWN,
                Basis.ABSENT,
                resource.source,
                None,
                why,
                resource.fetched_at,
            )
        result = await asyncio.to_thread(
            _check_bytes, resource.body, mime, resource.source, resource.complete
        )
        return replace(result, fetched_at=resource.fetched_at)
