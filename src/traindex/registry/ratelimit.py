"""Per-key token buckets: a simple in-process rate limit for the registry API.

Each key (an API token's id, or the client address for anonymous calls) gets a bucket of
``burst`` tokens refilled at ``rate`` per second; a request takes one token or is refused
with the seconds to wait. In-process on purpose: one server process owns its limits, and a
deployment with several processes puts a proxy limit in front. Buckets idle long enough to
be full again are dropped, so memory stays bounded by the keys active recently.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["TokenBuckets"]

_SWEEP_EVERY = 10_000


class TokenBuckets:
    """``take(key)`` returns 0.0 when allowed, else the seconds until a token is available."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._calls = 0

    def take(self, key: str) -> float:
        now = self.clock()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - stamp) * self.rate)
            self._calls += 1
            if self._calls % _SWEEP_EVERY == 0:
                self._sweep(now)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0

    def _sweep(self, now: float) -> None:
        full_after = self.burst / self.rate
        for key in [k for k, (_, stamp) in self._buckets.items() if now - stamp > full_after]:
            del self._buckets[key]
