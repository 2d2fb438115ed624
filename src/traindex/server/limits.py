"""Per-client rate limit for the expensive anonymous endpoints (API and web pages alike).

Why: an image search of 50 uploads costs about a second of CPU, a row's signal check
fetches several files from the row's site, and an evidence report runs searches and
renders a PDF; anyone may call them, so one client could keep the server busy. Each
endpoint family gets a token bucket per client address (``api_expensive_*`` settings), as
the registry has; a refusal is a ``RateLimitedError`` (HTTP 429 with ``Retry-After``).
Cheap reads (datasets, one row, verifying a signature) are not limited here.
"""

from __future__ import annotations

import math

from starlette.requests import Request

from traindex.config import Settings
from traindex.errors import RateLimitedError
from traindex.registry.ratelimit import TokenBuckets

__all__ = ["ClientLimit", "retry_headers"]


def retry_headers(exc: Exception) -> dict[str, str] | None:
    """``Retry-After`` for a rate-limit error, else None."""
    retry = getattr(exc, "retry_after", None)
    return None if retry is None else {"Retry-After": str(max(1, math.ceil(retry)))}


class ClientLimit:
    """``admit(request)`` takes one token from the client's bucket or raises."""

    def __init__(self, settings: Settings, what: str) -> None:
        self.what = what
        rate = settings.api_expensive_rate_per_minute / 60.0
        self.buckets = TokenBuckets(rate, settings.api_expensive_burst)

    def admit(self, request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        wait = self.buckets.take(client)
        if wait > 0:
            raise RateLimitedError(
                f"too many {self.what} requests from this address; retry in {wait:.0f} s", wait
            )
