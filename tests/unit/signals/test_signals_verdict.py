"""Combining per-signal results: most restrictive wins, unreadable stays unknown."""

from __future__ import annotations

import pytest

from traindex.signals.base import Basis, CheckResult, Verdict
from traindex.signals.verdict import combine


def _r(signal: str, verdict: Verdict, basis: Basis) -> CheckResult:
    return CheckResult(signal, verdict, basis, f"src-{signal}", None, f"why-{signal}")


ALLOWED = _r("robots.txt", Verdict.ALLOWED, Basis.DEFAULT)
RESERVED = _r("iptc", Verdict.RESERVED, Basis.STATEMENT)
ERROR = _r("c2pa", Verdict.UNKNOWN, Basis.ERROR)
ABSENT = _r("tdmrep", Verdict.UNKNOWN, Basis.ABSENT)


@pytest.mark.parametrize(
    ("results", "verdict", "decider"),
    [
        ([ALLOWED, RESERVED, ERROR], Verdict.RESERVED, RESERVED),
        ([ALLOWED, ERROR, ABSENT], Verdict.UNKNOWN, ERROR),
        ([ALLOWED, ABSENT], Verdict.ALLOWED, ALLOWED),
        ([ABSENT], Verdict.UNKNOWN, None),
        ([], Verdict.UNKNOWN, None),
    ],
)
def test_combine(results: list[CheckResult], verdict: Verdict, decider: CheckResult | None) -> None:
    combined = combine("t", results)
    assert combined.verdict is verdict
    assert combined.decided_by is decider
    assert combined.results == tuple(results)


def test_json_shape_is_exact() -> None:
    data = combine("t", [RESERVED]).to_json()
    assert set(data) == {"target", "verdict", "signals"}
    assert data["verdict"] == "reserved"
    signals = data["signals"]
    assert isinstance(signals, list)
    assert set(signals[0]) == {"signal", "verdict", "source", "raw", "fetched_at"}


def test_error_results_cannot_claim_a_verdict() -> None:
    with pytest.raises(ValueError, match="must be unknown"):
        CheckResult("x", Verdict.ALLOWED, Basis.ERROR, "s", None, "r")
