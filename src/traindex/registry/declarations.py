"""Content-bound opt-out declarations (TDM·AI protocol) in and out of the registry.

A TDM·AI declaration (docs.tdmai.org, "JSON Format for Usage Declarations", 2025-11-04,
aligned with ``draft-ietf-aipref-vocab-02``) is a flat JSON object: ``iscc`` (required:
the ISO 24138 code of the asset) and usage keys ``all``, ``train-ai``, ``train-genai``,
``ai-use``, ``search`` with the values ``"true"`` (allowed) or ``"false"`` (reserved),
optionally ``intent`` and whatever signature or credential the issuer attaches.
``train-ai`` inherits from ``all`` and ``train-genai`` from ``train-ai`` unless stated.

Import: a declaration that reserves ``train-ai`` or ``train-genai`` (stated or inherited)
becomes one ``do_not_train`` image claim keyed by the ISCC Image-Code body (the registry
has no generative-only terms, so a ``train-genai`` reservation is filed the strict way).
The declaration's text is stored on the claim as given: a signature or credential in it
is *recorded, not verified*, so the claim is ``unverified`` like any other image claim.
Export: each live image claim with an ISCC as a declaration: the imported text itself
when the claim came from one (a round trip is idempotent), else a minimal declaration.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from traindex.errors import InputError
from traindex.fingerprint.iscc import image_code_body, iscc_from_body
from traindex.registry.models import Claim, ClaimRequest, Selector

__all__ = ["USAGE_KEYS", "declared_codes", "export_declarations", "parse_declarations"]

USAGE_KEYS = ("all", "train-ai", "train-genai", "ai-use", "search")
_PARENT = {"train-ai": "all", "train-genai": "train-ai"}
_VALUES = {"true": True, "false": False}


def _usage(declaration: dict[str, Any], where: str) -> dict[str, bool]:
    stated: dict[str, bool] = {}
    for key in USAGE_KEYS:
        if key not in declaration:
            continue
        value = declaration[key]
        text = str(value).lower() if isinstance(value, (bool, str)) else None
        if text not in _VALUES:
            raise InputError(f'{where}: field {key!r} must be "true" or "false", got {value!r}')
        stated[key] = _VALUES[text]
    return stated


def _effective(stated: dict[str, bool], key: str) -> bool | None:
    """A key's value, inherited from its parent when not stated (None: nothing says)."""
    current: str | None = key
    while current is not None:
        if current in stated:
            return stated[current]
        current = _PARENT.get(current)
    return None


def _code(declaration: object, where: str) -> str:
    """The Image-Code body a declaration names (``InputError`` naming the field if none)."""
    if not isinstance(declaration, dict):
        raise InputError(f"{where}: a declaration must be a JSON object")
    code = declaration.get("iscc")
    if not isinstance(code, str) or not code.strip():
        raise InputError(f"{where}: field 'iscc' is required (an ISCC code of the image)")
    try:
        return image_code_body(code)
    except InputError as exc:
        raise InputError(f"{where}: field 'iscc': {exc}") from None


def _request(declaration: dict[str, Any], body: str, where: str) -> ClaimRequest:
    stated = _usage(declaration, where)
    if (
        _effective(stated, "train-ai") is not False
        and _effective(stated, "train-genai") is not False
    ):
        raise InputError(
            f"{where}: reserves neither 'train-ai' nor 'train-genai' (nor 'all'): "
            "no training reservation to file"
        )
    text = json.dumps(declaration, ensure_ascii=False, sort_keys=True)
    return ClaimRequest(Selector("image", "", iscc=body), "do_not_train", declaration=text)


def _items(text: str, source: str) -> list[tuple[str, object]]:
    """``(where, declaration)`` of each declaration in a file: one JSON object or an array."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc}", path=source) from None
    items = data if isinstance(data, list) else [data]
    if not items:
        raise InputError("no declarations in the file", path=source)
    if not isinstance(data, list):
        return [(source, data)]
    return [(f"{source}: declaration {position}", item) for position, item in enumerate(items)]


def parse_declarations(text: str, *, source: str = "declaration") -> list[ClaimRequest]:
    """Claim requests from a declaration file: one JSON object or a JSON array of them.
    Raises ``InputError`` naming the file, the declaration's position and the field."""
    requests = []
    for where, item in _items(text, source):
        body = _code(item, where)
        assert isinstance(item, dict)  # _code refuses anything else
        requests.append(_request(item, body, where))
    return requests


def declared_codes(text: str, *, source: str = "declaration") -> list[tuple[str, str]]:
    """``(where, Image-Code body)`` of every declaration in a file, whatever its usage keys
    say: what image search by declaration looks for. Errors as ``parse_declarations``."""
    return [(where, _code(item, where)) for where, item in _items(text, source)]


def export_declarations(claims: Iterable[Claim]) -> list[dict[str, Any]]:
    """The declarations of ``claims``' live ``do_not_train`` image claims that have an ISCC."""
    out: list[dict[str, Any]] = []
    for claim in claims:
        iscc = claim.selector.iscc
        if claim.status == "revoked" or claim.terms != "do_not_train" or iscc is None:
            continue
        if claim.declaration is not None:
            out.append(json.loads(claim.declaration))
        else:
            out.append({"iscc": iscc_from_body(iscc), "train-ai": "false"})
    return out
