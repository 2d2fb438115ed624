"""The name a searched file is shown under: its base name, never the folder it came from.

Reports and result pages are sent to third parties; a sender's local path
(``/home/me/photos/...``) says more about them than the evidence needs. The file's
SHA-256 identifies it; the base name only helps the sender recognise it. Two files with
the same base name get " (2)", " (3)"... so each search line stays distinct.
"""

from __future__ import annotations

from pathlib import PurePosixPath

__all__ = ["display_name"]


def display_name(raw: str | None, taken: set[str]) -> str:
    """``raw``'s base name (``/`` or ``\\`` separated), unique within ``taken`` (updated)."""
    base = PurePosixPath((raw or "").replace("\\", "/")).name or "image"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base} ({n})"
    taken.add(name)
    return name
