"""What a near-copy check answers: a verdict per output, the thresholds, the coverage.

``NearCopyReport.to_json`` is the ``traindex nearcopy --json`` contract (and the web API's
answer): ``thresholds``, ``searched`` (signals per release), ``coverage`` (per release:
signals used, rows each covers, what was not used and why; ``nearcopy.coverage``),
``counts`` and ``results``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from traindex.core.match_evidence import NearCopyEvidence
from traindex.core.matches import Match
from traindex.nearcopy.coverage import NearCopyCoverage
from traindex.nearcopy.evidence import VERDICTS, Verdict, VerdictRules
from traindex.search.keypoints import KeypointRules

__all__ = ["NearCopyReport", "OutputResult"]


@dataclass
class OutputResult:
    """The verdict on one generated image and the training rows behind it."""

    image: str
    verdict: Verdict
    matches: list[Match] = field(default_factory=list)
    error: str | None = None

    @property
    def watermark_flag(self) -> bool:
        return any(m.evidence_as(NearCopyEvidence).watermark_flag for m in self.matches)

    def to_json(self) -> dict[str, Any]:
        verdict = self.verdict if self.error is None else None
        data: dict[str, Any] = {"image": self.image, "verdict": verdict}
        data["watermark_flag"] = self.watermark_flag
        data["matches"] = [m.to_json() for m in self.matches]
        if self.error is not None:
            data["error"] = self.error
        return data


@dataclass
class NearCopyReport:
    """Results for a batch of outputs, the thresholds used and what was searched where."""

    results: list[OutputResult]
    rules: VerdictRules
    dataset: str | None = None
    searched: dict[str, list[str]] = field(default_factory=dict)
    coverage: dict[str, NearCopyCoverage] = field(default_factory=dict)
    keypoints: KeypointRules = field(default_factory=KeypointRules)

    def counts(self) -> dict[str, int]:
        """Outputs per verdict (and ``error``), in verdict order."""
        counts = {
            v: sum(r.verdict == v and r.error is None for r in self.results) for v in VERDICTS
        }
        return counts | {"error": sum(r.error is not None for r in self.results)}

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "thresholds": asdict(self.rules) | {"keypoint_min_inliers": self.keypoints.min_inliers},
            "searched": self.searched,
            "coverage": {name: c.to_json() for name, c in self.coverage.items()},
            "counts": self.counts(),
            "results": [r.to_json() for r in self.results],
        }
