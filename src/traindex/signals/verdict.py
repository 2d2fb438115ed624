"""Combine per-signal results into one verdict per target.

The rule follows the IETF AI-preferences draft ("if any statement of preference indicates
that the usage is disallowed, the result is that the usage is disallowed. Otherwise, if any
statement allows ... allowed. Otherwise ... unknown"), with one addition that the issue asks
for: a signal that could not be *read* (``Basis.ERROR``: 5xx robots.txt, timeout, broken
manifest) might have reserved, so it keeps the combined verdict at ``unknown`` unless another
signal reserves. Existing tools silently allow in that case; traindex does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from traindex.signals.base import Basis, CheckResult, Verdict

__all__ = ["TargetVerdict", "combine"]


@dataclass(frozen=True, slots=True)
class TargetVerdict:
    """The combined verdict for one URL or file, keeping every per-signal result.

    ``decided_by`` is the result that set the verdict (the first reservation, the first
    unreadable signal, or the first allowance); it is ``None`` when no signal applied.
    """

    target: str
    verdict: Verdict
    reason: str
    results: tuple[CheckResult, ...]
    decided_by: CheckResult | None

    def to_json(self) -> dict[str, object]:
        """``{"target", "verdict", "signals": [...]}`` as printed by ``traindex check --json``."""
        return {
            "target": self.target,
            "verdict": self.verdict.value,
            "signals": [result.to_json() for result in self.results],
        }


def combine(target: str, results: Iterable[CheckResult]) -> TargetVerdict:
    """Most restrictive wins: reserved > unreadable (unknown) > allowed > nothing (unknown)."""
    kept = tuple(results)
    reserved = [r for r in kept if r.verdict is Verdict.RESERVED]
    if reserved:
        first = reserved[0]
        return TargetVerdict(
            target, Verdict.RESERVED, f"{first.signal}: {first.reason}", kept, first
        )
    errors = [r for r in kept if r.basis is Basis.ERROR]
    if errors:
        first = errors[0]
        reason = f"no reservation found, but {first.signal} could not be read: {first.reason}"
        return TargetVerdict(target, Verdict.UNKNOWN, reason, kept, first)
    allowed = [r for r in kept if r.verdict is Verdict.ALLOWED]
    if allowed:
        names = ", ".join(sorted({r.signal for r in allowed}))
        reason = f"every signal was read and none reserves ({names} allow)"
        return TargetVerdict(target, Verdict.ALLOWED, reason, kept, allowed[0])
    return TargetVerdict(
        target, Verdict.UNKNOWN, "no signal states a preference for this target", kept, None
    )
