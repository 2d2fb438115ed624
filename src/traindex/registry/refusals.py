"""Audit rows for refused anonymous requests, at most one per client and window.

Why: the audit log is append-only, and a refused login or registration costs the caller
nothing, so writing one row per refusal let anyone grow the table without bound (1,000
requests with invented tokens, 1,000 permanent rows). The first refusal of a client in a
window is written at once; the rest of that window are counted and the count travels in
the client's next row (``suppressed_before``). Memory is bounded as well: past
``max_clients`` clients in one window, further clients share the key ``*``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RefusalThrottle"]


class RefusalThrottle:
    """``admit(client, action)``: refusals suppressed since the last row, or None (count it)."""

    def __init__(
        self,
        window: float,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.max_clients = max_clients
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def admit(self, client: str, action: str) -> int | None:
        now = self.clock()
        with self._lock:
            key = self._key(client, action, now)
            started, suppressed = self._seen.get(key, (None, 0))
            if started is not None and now - started < self.window:
                self._seen[key] = (started, suppressed + 1)
                return None
            self._seen[key] = (now, 0)
            return suppressed

    def _key(self, client: str, action: str, now: float) -> tuple[str, str]:
        key = (client, action)
        if key in self._seen or len(self._seen) < self.max_clients:
            return key
        for old in [k for k, (t, n) in self._seen.items() if now - t >= self.window and not n]:
            del self._seen[old]  # expired windows with nothing left to report
        return key if len(self._seen) < self.max_clients else ("*", action)
