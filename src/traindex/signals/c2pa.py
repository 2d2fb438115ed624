"""C2PA / CAWG training-and-data-mining assertions, read with ``c2pa-python`` offline.

Labels ``c2pa.training-mining`` (C2PA 1.x) and ``cawg.training-mining`` (CAWG 1.1), with
instance suffixes (``__1``), in the *active* manifest. Entries ending in ``ai_training``,
``ai_generative_training`` or ``data_mining`` decide: ``notAllowed`` and ``constrained`` are
reserved (CAWG: "in the absence of additional information, constrained shall be treated as
equivalent to notAllowed"), ``allowed`` is allowed. An ``ai_inference``-only restriction is
not a training reservation and is reported as no statement.

Trust, one rule for every file (test keys included):

- **tampering** - any validation failure that is not about the signer's trust (hash or
  signature mismatch, malformed claim) - refuses the manifest: ``unknown`` (error), the reason
  names the failure codes; nothing in it is attributed to anyone;
- **untrusted or unresolvable signer** (``signingCredential.untrusted``, CAWG identity not
  resolvable offline, ...): the assertion is read and the reason says "signed by X, not on a
  configured trust list". A reservation still counts - a reservation from any source is one,
  and ignoring it would fail open. An ``allowed`` does not count: anyone can sign
  "allowed" with a self-made key, so it is ``unknown`` (absent) and says why;
- **trusted** (the signer chains to ``signals_c2pa_trust_anchors``): both count.

Remote manifest fetching and OCSP are turned off: a checker must not call third parties, and
c2pa's default would. A manifest that cannot be read (remote-only, corrupt, cut body) is
``unknown`` - never ``allowed``, which is how datadiligence fails open.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import c2pa

from traindex.signals.base import Basis, CheckContext, CheckResult, Resource, Verdict

__all__ = ["C2paChecker", "Validation", "evaluate_store", "read_validation", "sniff_mime"]

_LABEL = re.compile(r"^(?:c2pa|cawg)\.training-mining(?:__\d+)?$")
_TRAINING = ("ai_training", "ai_generative_training", "data_mining")
_RESTRICTED = ("notallowed", "constrained")
_MARKERS = (b"jumb", b"c2pa", b"provenance")


# Failure codes about who signed, not about what was signed: the content is intact.
_TRUST_CODE = re.compile(r"(?:untrusted|unresolv|revoked|expired|ocsp|\.identity\.)", re.I)


@dataclass(frozen=True, slots=True)
class Validation:
    """What c2pa said about the active manifest: state, failure codes and the signer."""

    state: str
    failures: tuple[str, ...]
    signer: str

    @property
    def tampered(self) -> tuple[str, ...]:
        """Failure codes that show the content or claim changed after signing."""
        return tuple(code for code in self.failures if not _TRUST_CODE.search(code))

    @property
    def trusted(self) -> bool:
        return self.state.lower() == "trusted" and not self.failures


@cache
def _context(trust_anchors: str | None) -> Any:
    config: dict[str, Any] = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
    if trust_anchors:
        config["trust"] = {"trust_anchors": trust_anchors}
    return c2pa.Context.from_dict(config)


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


def read_validation(store: dict[str, Any], state: str, results: Any) -> Validation:
    """The active manifest's failure codes and signer from c2pa's JSON and results."""
    active = (results or {}).get("activeManifest") or {} if isinstance(results, dict) else {}
    codes = tuple(str(item.get("code", "")) for item in active.get("failure") or [])
    label = store.get("active_manifest")
    info = ((store.get("manifests") or {}).get(label) or {}).get("signature_info") or {}
    name = info.get("common_name") or info.get("issuer") or "an unnamed signer"
    issuer = info.get("issuer")
    signer = f"{name} (issuer {issuer})" if issuer and issuer != name else str(name)
    return Validation(state, codes, signer)


def _read(data: bytes, mime: str, trust_anchors: str | None) -> tuple[dict[str, Any], Validation]:
    reader = c2pa.Reader(mime, io.BytesIO(data), context=_context(trust_anchors))
    with reader:
        store = json.loads(reader.json())
        state = str(reader.get_validation_state() or "")
        results = reader.get_validation_results()
    return store, read_validation(store, state, results)


def _entries(manifest: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for assertion in manifest.get("assertions") or []:
        label = str(assertion.get("label", ""))
        entries = (assertion.get("data") or {}).get("entries") or {}
        if _LABEL.match(label) and isinstance(entries, dict):
            found += [(label, key, e) for key, e in entries.items() if isinstance(e, dict)]
    return found


def _restriction(entries: list[tuple[str, str, dict[str, Any]]]) -> tuple[str, str, str] | None:
    """``(assertion, key, raw)`` of the first ``notAllowed``/``constrained`` training entry."""
    for assertion, key, entry in entries:
        use = str(entry.get("use", ""))
        if use.lower() in _RESTRICTED:
            info = entry.get("constraint_info") or entry.get("constraints_info")
            return assertion, key, use + (f" ({info})" if info else "")
    return None


def evaluate_store(store: dict[str, Any], check: Validation, where: str) -> CheckResult:
    """The verdict of the active manifest in a c2pa ``Reader.json()`` store (rule: module doc)."""
    label = store.get("active_manifest")
    manifest = (store.get("manifests") or {}).get(label) or {}
    base = f"{where} C2PA manifest {label}"
    entries = [(a, k, e) for a, k, e in _entries(manifest) if k.endswith(_TRAINING)]
    restricted = _restriction(entries)
    if check.tampered:
        codes = ", ".join(check.tampered)
        claim = f"; it claims {restricted[2]} but cannot be attributed" if restricted else ""
        why = f"manifest fails validation ({codes}): refused as tampered{claim}"
        return CheckResult("c2pa", Verdict.UNKNOWN, Basis.ERROR, base, f"invalid: {codes}", why)
    trust = "trusted signer" if check.trusted else "not on a configured trust list"
    signed = f"signed by {check.signer}, {trust}"
    if restricted is not None:
        assertion, key, raw = restricted
        src = f"{base} {assertion}/{key}"
        why = f"{key} is {raw.split(' ')[0]} ({signed})"
        return CheckResult("c2pa", Verdict.RESERVED, Basis.STATEMENT, src, raw, why)
    allowed = [(a, k) for a, k, e in entries if str(e.get("use", "")).lower() == "allowed"]
    if allowed:
        src = f"{base} {allowed[0][0]}/{allowed[0][1]}"
        if check.trusted:
            why = f"allowed ({signed})"
            return CheckResult("c2pa", Verdict.ALLOWED, Basis.STATEMENT, src, "allowed", why)
        why = f"allows training, but {signed}: not counted"
        return CheckResult("c2pa", Verdict.UNKNOWN, Basis.ABSENT, src, "allowed", why)
    why = f"manifest ({check.state or 'unvalidated'}) has no training/data-mining statement"
    return CheckResult("c2pa", Verdict.UNKNOWN, Basis.ABSENT, base, None, why)


def _check_bytes(
    data: bytes, mime: str, where: str, complete: bool, trust_anchors: str | None
) -> CheckResult:
    try:
        store, check = _read(data, mime, trust_anchors)
    except c2pa.C2paError.ManifestNotFound:
        if complete:
            return CheckResult("c2pa", Verdict.UNKNOWN, Basis.ABSENT, where, None, "no manifest")
        why = "no manifest in the part read (body cut at the size limit)"
        return CheckResult("c2pa", Verdict.UNKNOWN, Basis.ERROR, where, None, why)
    except Exception as exc:  # native library boundary: any failure means "unreadable"
        why = f"manifest unreadable offline: {exc}"
        return CheckResult("c2pa", Verdict.UNKNOWN, Basis.ERROR, where, type(exc).__name__, why)
    return evaluate_store(store, check, where)


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
            _check_bytes,
            resource.body,
            mime,
            resource.source,
            resource.complete,
            context.c2pa_trust_anchors,
        )
        return replace(result, fetched_at=resource.fetched_at)
