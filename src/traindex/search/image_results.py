"""What an image search answers (``search.images.ImageSearch``): the query files as read
(``QueryImage``) and the matches with their coverage (``ImageSearchResult``), in the JSON
the CLI, the web app and signed reports share. A file without a match is "not found" only
where the coverage says every row was compared (``core.coverage``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from traindex.core.coverage import Coverage, outcome_without_match
from traindex.core.matches import Match
from traindex.fingerprint.base import PDQ_MATCH_RADIUS, Fingerprint

__all__ = ["ImageSearchResult", "QueryImage"]


@dataclass(frozen=True, slots=True)
class QueryImage:
    """What was searched for: the file as given, its digests, or why it could not be read."""

    name: str
    sha256: str
    pdq: str | None = None
    quality: int | None = None
    variants: int = 0
    error: str | None = None


@dataclass
class ImageSearchResult:
    """Matches for one or many query files, plus the files that found nothing."""

    queries: list[QueryImage]
    matches: list[Match]
    dataset: str | None = None
    threshold: int = PDQ_MATCH_RADIUS
    query_hashes: list[list[Fingerprint]] = field(default_factory=list, repr=False)
    coverage: Coverage | None = None
    index_shards_lost: list[str] = field(default_factory=list)
    """``<dataset>/<release>:<index shard>`` of PDQ index shards a fanned-out search could
    not reach (their holder was lost): matches there may exist and are not reported. The
    coverage record carries them too (per release), so every surface says "partly
    searched" with their names."""
    similar: list[Match] = field(default_factory=list)
    """Candidate verification with CLIP: neighbours whose pixels did not prove them. Kept
    out of ``matches`` (and so out of outcomes and reports): a neighbour is not evidence."""
    candidates: dict[str, Any] | None = None
    """Candidate verification: what picked the candidates, the cap, how many were picked
    and downloaded (``None`` for an index search)."""

    def outcome(self, query: QueryImage, found: set[str]) -> str:
        """found, unreadable, or what the coverage lets a file without a match claim
        (never "not found" when index shards were lost mid-search: the coverage says so)."""
        if query.error is not None:
            return "unreadable"
        if query.name in found:
            return "found"
        return outcome_without_match(self.coverage)

    def outcomes(self) -> dict[str, str]:
        found = {m.query for m in self.matches}
        return {q.name: self.outcome(q, found) for q in self.queries}

    def to_json(self) -> dict[str, Any]:
        outcomes = self.outcomes()
        return (
            {
                "query": {
                    "kind": "images" if len(self.queries) > 1 else "image",
                    "files": [q.name for q in self.queries],
                    "dataset": self.dataset,
                    "threshold": self.threshold,
                },
                "total": len(self.matches),
                "matches": [m.to_json() for m in self.matches],
                "not_found": [name for name, o in outcomes.items() if o == "not found"],
                "not_searched": [name for name, o in outcomes.items() if o == "not searched"],
                "partly_searched": [name for name, o in outcomes.items() if o == "partly searched"],
                "errors": [{"query": q.name, "error": q.error} for q in self.queries if q.error],
                "coverage": self.coverage.to_json() if self.coverage is not None else None,
            }
            | self._lost()
            | self._candidates()
        )

    def _candidates(self) -> dict[str, Any]:
        """Said only by candidate verification (``search.verify``)."""
        if self.candidates is None:
            return {}
        return {"candidates": self.candidates, "similar": [m.to_json() for m in self.similar]}

    def _lost(self) -> dict[str, Any]:
        """Said only when a fanned-out search lost index shards (see ``search.fanout``)."""
        if not self.index_shards_lost:
            return {}
        return {"index_shards_not_searched": sorted(self.index_shards_lost)}
