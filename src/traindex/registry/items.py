"""What a checked item is: a URL, or an image digest written ``sha256:HEX``, ``md5:HEX``,
``pdq:HEX`` or ``iscc:HEX`` (the 64-bit body of an ISCC Image-Code; the bulk check API,
``traindex registry check`` and the filter all send these). An ISCC code as ISCC writes it
(``ISCC:EEA...``, an Image-Code or an ISCC-CODE holding one) is read as its body too."""

from __future__ import annotations

from dataclasses import dataclass

from traindex.errors import InputError
from traindex.fingerprint.iscc import image_code_body

__all__ = ["HASH_KINDS", "Digest", "parse_item"]

HASH_KINDS = ("sha256", "md5", "pdq", "iscc")
_HEX_CHARS = {"sha256": 64, "md5": 32, "pdq": 64, "iscc": 16}


@dataclass(frozen=True, slots=True)
class Digest:
    """A digest item: its kind, the lower-case hex, and why it is unusable (or ``None``)."""

    kind: str
    value: str
    error: str | None


def parse_item(item: str) -> Digest | None:
    """The digest an item names, or ``None`` when the item is a URL."""
    head = item[:7].lower()
    kind = next((k for k in HASH_KINDS if head.startswith(k + ":")), None)
    if kind is None:
        return None
    value = item.split(":", 1)[1].strip().lower()
    valid = len(value) == _HEX_CHARS[kind] and _is_hex(value)
    if kind == "iscc" and not valid:
        try:
            return Digest(kind, image_code_body(item), None)
        except InputError as exc:
            return Digest(kind, value, f"iscc must be 16 hex characters or an ISCC code ({exc})")
    return Digest(
        kind, value, None if valid else f"{kind} must be {_HEX_CHARS[kind]} hex characters"
    )


def _is_hex(value: str) -> bool:
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return True
