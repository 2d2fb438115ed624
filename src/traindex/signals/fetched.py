"""What one fetch gave: the value the fetcher returns and the site-file cache keeps.

Its own module so that the cache (which stores results) and the fetcher (which makes them
and uses the cache) do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["FailureKind", "FetchResult"]


class FailureKind(StrEnum):
    """Why no final HTTP response was obtained; checkers map these to explained verdicts."""

    REFUSED = "refused"
    TIMEOUT = "timeout"
    NETWORK = "network"
    REDIRECTS = "redirects"


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One finished fetch: final URL, status, all headers, body (maybe cut) or an error.

    ``error`` is ``None`` on any HTTP response (including 4xx/5xx); otherwise it says why no
    response was obtained (refused URL, timeout, redirect loop, network error).
    ``redirects`` lists the URLs that were left by a redirect, in order.
    """

    url: str
    final_url: str
    status: int | None
    headers: tuple[tuple[str, str], ...]
    body: bytes
    truncated: bool
    fetched_at: datetime | None
    error: str | None = None
    failure: FailureKind | None = None
    redirects: tuple[str, ...] = ()

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased; empty if none was sent."""
        value = next((v for k, v in self.headers if k.lower() == "content-type"), "")
        return value.split(";", 1)[0].strip().lower()
