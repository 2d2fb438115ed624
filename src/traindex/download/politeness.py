"""Two small rules of a well-behaved image crawler: pace each host, and only keep images.

``HostRate`` spaces the requests to one ``host:port`` at least ``1/rate`` seconds apart
(concurrency alone does not stop a fast server from being hit thousands of times a
second). ``image_kind`` accepts a body only when its first bytes are a known image format
and the server did not call it something else (an HTML error page served as 200 is the
most common "image" a row URL returns).
"""

from __future__ import annotations

import asyncio

__all__ = ["HostRate", "image_kind"]

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)
# what servers send for images besides image/*: a missing or generic type
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def image_kind(content_type: str, body: bytes) -> str | None:
    """The image format of ``body`` (jpeg, png, gif, webp, bmp, tiff), or ``None`` when the
    bytes are no known image or the content type names something else (text/html)."""
    if not (content_type.startswith("image/") or content_type in _GENERIC_TYPES):
        return None
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "webp"
    return next((kind for magic, kind in _MAGIC if body.startswith(magic)), None)


class HostRate:
    """At most ``per_second`` request starts per host (one event loop)."""

    _PRUNE_AT = 10_000  # a release has millions of hosts: forget the idle ones

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next: dict[str, float] = {}

    async def wait(self, host: str) -> None:
        """Sleep until ``host`` may get its next request, and book that slot."""
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next.get(host, now))
        self._next[host] = slot + self.interval
        if len(self._next) > self._PRUNE_AT:
            self._next = {h: t for h, t in self._next.items() if t > now}
        if slot > now:
            await asyncio.sleep(slot - now)
