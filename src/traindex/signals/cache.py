"""Per-site cache for ``/robots.txt``, ``/ai.txt`` and ``/.well-known/tdmrep.json``.

Bulk checks touch thousands of URLs on the same host; each site file must be fetched once per
host per TTL, not once per URL. The cache is keyed by origin and path, honours
``Cache-Control: max-age``/``no-store``/``no-cache`` and ``Expires``, uses a default TTL when
the server says nothing, and caps every TTL (RFC 9309 §2.4: a robots.txt cache SHOULD NOT
be used for more than 24 hours). Concurrent lookups of the same key wait for one fetch
(single flight), and the number of real fetches per path is counted for the benchmark.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from traindex.signals.fetched import FetchResult

__all__ = ["SiteFileCache", "ttl_from_headers"]

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)
_NO_STORE = re.compile(r"(?:^|,)\s*(no-store|no-cache)\b", re.IGNORECASE)


def ttl_from_headers(
    headers: tuple[tuple[str, str], ...], default: float, cap: float, now: datetime
) -> float:
    """Seconds a response may be reused, from its cache headers, within ``[0, cap]``."""
    cache_control = ", ".join(v for k, v in headers if k.lower() == "cache-control")
    if _NO_STORE.search(cache_control):
        return 0.0
    match = _MAX_AGE.search(cache_control)
    if match:
        return min(float(match.group(1)), cap)
    expires = next((v for k, v in headers if k.lower() == "expires"), None)
    if expires is not None:
        try:
            when = parsedate_to_datetime(expires)
        except (TypeError, ValueError, IndexError):
            return 0.0  # RFC 9111 §5.3: an invalid Expires means "already expired"
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, min((when - now).total_seconds(), cap))
    return min(default, cap)


@dataclass(slots=True)
class _Entry:
    result: FetchResult
    expires: float


class SiteFileCache:
    """Single-flight TTL cache of site-file fetches, keyed by ``(origin, path)``."""

    def __init__(self, default_ttl: float, error_ttl: float, cap: float | None = None) -> None:
        self._default_ttl = default_ttl
        self._error_ttl = error_ttl
        self._cap = cap if cap is not None else default_ttl
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.fetches: Counter[str] = Counter()

    async def get(
        self, origin: str, path: str, fetch: Callable[[], Awaitable[FetchResult]]
    ) -> FetchResult:
        """The cached response for ``origin + path``, fetching it at most once per TTL."""
        key = (origin, path)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires > time.monotonic():
                return entry.result
            result = await fetch()
            self.fetches[path] += 1
            ttl = self._ttl(result)
            if ttl > 0:
                self._entries[key] = _Entry(result, time.monotonic() + ttl)
            else:
                self._entries.pop(key, None)
            return result

    def _ttl(self, result: FetchResult) -> float:
        if result.error is not None or (result.status is not None and result.status >= 500):
            return min(self._error_ttl, self._cap)
        now = result.fetched_at or datetime.now(UTC)
        return ttl_from_headers(result.headers, self._default_ttl, self._cap, now)
