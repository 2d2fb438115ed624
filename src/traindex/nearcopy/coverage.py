"""What the near-copy check could see in one release: signals used, rows each covers.

"Novel" is only as strong as what was compared. Per release the check reports which
signals it used - ``pdq`` (whole-image hashes), ``regions`` (the region index of tiles
and centre crops), ``keypoints`` (ORB points, finds a copy pasted at any place and scale),
``clip`` (semantic neighbours) - how many rows each covers, and, for each one it could not
use, why and the command that adds it. Row counts come from the stage tables of shards
already indexed: ``pdq`` and ``keypoints`` count rows whose image was described (not
failed); ``regions`` counts the PDQ-covered rows of the shards in the region index (it is
built from the same images). ``clip`` counts nothing: it uses the published embeddings.

Small on purpose (``NearCopyCoverage``): the general coverage type of the search answers
can absorb it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from traindex.catalog.store import Release

__all__ = ["MISSING", "NearCopyCoverage", "covered_rows"]

MISSING: dict[str, str] = {
    "pdq": "not fingerprinted: run `traindex fingerprint`",
    "regions": "no region index: run `traindex nearcopy-index`",
    "keypoints": (
        "no keypoints, so a copy pasted at an arbitrary place and scale is not found: "
        "run `traindex fingerprint --keypoints`"
    ),
}


def covered_rows(release: Release, stage: str, shards: set[int] | None = None) -> int:
    """Rows of ``stage``'s indexed tables (only ``shards`` if given) with no ``error``."""
    total = 0
    for shard in release.indexed(stage):
        path = release.stage_table(stage, shard)
        if (shards is None or shard in shards) and path.exists():
            errors = pq.read_table(path, columns=["error"]).column(0)
            total += len(errors) - int(pc.count(errors, mode="only_valid").as_py())
    return total


@dataclass
class NearCopyCoverage:
    """Signals used on one release (signal -> rows covered) and those not used (-> why)."""

    release: str
    rows: int
    signals: dict[str, int | None] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    index_shards_not_searched: list[str] = field(default_factory=list)
    """Index shards (``<kind>/<shard>``, PDQ ones bare) a fanned-out index could not reach
    in this check (``search.fanout``): rows there were not compared, so "novel" does not
    cover them."""

    @classmethod
    def of(cls, name: str, release: Release, rows: int, used: list[str]) -> NearCopyCoverage:
        coverage = cls(name, rows)
        for signal in used:
            if signal == "pdq":
                coverage.signals[signal] = covered_rows(release, "fingerprints")
            elif signal == "regions":
                shards = set(release.indexed("nearcopy"))
                coverage.signals[signal] = covered_rows(release, "fingerprints", shards)
            elif signal == "keypoints":
                coverage.signals[signal] = covered_rows(release, "keypoints")
            else:
                coverage.signals[signal] = None
        coverage.missing = {s: why for s, why in MISSING.items() if s not in used}
        return coverage

    def to_json(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "rows": self.rows,
            "signals": [{"signal": s, "rows_covered": n} for s, n in self.signals.items()],
            "not_used": [{"signal": s, "why": why} for s, why in self.missing.items()],
        }
        if self.index_shards_not_searched:  # said only when a fanned-out index lost shards
            described["index_shards_not_searched"] = self.index_shards_not_searched
        return described
