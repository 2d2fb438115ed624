"""Guardrails around face search on a server: off by default, rate-limited, counted.

* **Off by default.** ``Settings.face_search_enabled`` is ``False``; a server answers face
  searches only after its operator sets ``TRAINDEX_FACE_SEARCH_ENABLED=1``. A public
  instance must not become a face lookup service by accident.
* **Per-client rate limit.** At most ``face_search_rate_limit`` searches per client per
  ``face_search_rate_window`` seconds (sliding window, in memory): enough to find
  yourself with a few photos, too few to sweep a crowd through the index.
* **Audit counter, counts only.** ``<home>/audit/face_searches.json`` holds, per UTC day,
  how many face searches ran, were refused (bad query photo), rate-limited or asked while
  disabled. Never the photo, its embedding, its file name, the client or the results:
  an operator can show how the feature is used without holding anything about anyone.
"""

from __future__ import annotations

import fcntl
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from traindex.config import Settings
from traindex.core.files import write_atomic
from traindex.errors import RateLimitedError, TraindexError

__all__ = [
    "FaceAudit",
    "FaceSearchDisabledError",
    "FaceSearchGuard",
    "Outcome",
    "RateLimiter",
]

Outcome = Literal["searched", "refused", "rate_limited", "disabled"]


class FaceSearchDisabledError(TraindexError):
    """Face search is off on this server (the default)."""


class RateLimiter:
    """At most ``limit`` admissions per ``window`` seconds per client key (sliding window).

    ``clock`` is injectable so tests never depend on real time.
    """

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def admit(self, client: str) -> None:
        """Count one request for ``client`` or raise :class:`RateLimitedError`."""
        now = self.clock()
        seen = self._seen[client]
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= self.limit:
            wait = seen[0] + self.window - now
            raise RateLimitedError(
                f"face search limit reached ({self.limit} per {self.window:g} s); "
                f"try again in {wait:.0f} s",
                retry_after=wait,
            )
        seen.append(now)
        if len(self._seen) > 10_000:  # forget idle clients so memory stays bounded
            for key in [k for k, v in self._seen.items() if not v or v[-1] <= now - self.window]:
                del self._seen[key]


class FaceAudit:
    """Per-day counters of face-search outcomes in one JSON file (counts only)."""

    def __init__(self, home: Path) -> None:
        self.path = home / "audit" / "face_searches.json"

    def record(self, outcome: Outcome, today: str | None = None) -> None:
        """Add one to today's ``outcome`` counter (file-locked: several server processes)."""
        day = today or datetime.now(UTC).date().isoformat()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with (self.path.parent / ".face_searches.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            counts = self.counts()
            counts.setdefault(day, {})
            counts[day][outcome] = counts[day].get(outcome, 0) + 1
            write_atomic(self.path, json.dumps(counts, indent=2, sort_keys=True).encode())

    def counts(self) -> dict[str, dict[str, int]]:
        """``{day: {outcome: count}}``; empty before the first face search."""
        if not self.path.exists():
            return {}
        data: dict[str, dict[str, int]] = json.loads(self.path.read_text(encoding="utf-8"))
        return data


class FaceSearchGuard:
    """What a server checks before running a face search, and counts after."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = settings.face_search_enabled
        self.limiter = RateLimiter(
            settings.face_search_rate_limit, settings.face_search_rate_window, clock
        )
        self.audit = FaceAudit(settings.home)

    def admit(self, client: str) -> None:
        """Raise if face search is off or ``client`` is over its limit (both are counted)."""
        if not self.enabled:
            self.audit.record("disabled")
            raise FaceSearchDisabledError(
                "face search is turned off on this server; its operator can enable it "
                "with TRAINDEX_FACE_SEARCH_ENABLED=1 (or run `traindex search --face` locally)"
            )
        try:
            self.limiter.admit(client)
        except RateLimitedError:
            self.audit.record("rate_limited")
            raise
