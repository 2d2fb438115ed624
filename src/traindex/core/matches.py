"""Search results with provenance.

A ``Match`` is never a bare bool or tuple: it says which dataset release, which source
file and row, how it matched and the number behind it, so that reports, letters and
the filter's log can be built from these objects alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeVar

from traindex.core.coverage import Coverage
from traindex.core.match_evidence import (
    ImageEvidence,
    IsccEvidence,
    MatchEvidence,
    SimilarEvidence,
)

__all__ = ["Match", "MatchMethod", "SearchResult"]

E = TypeVar("E", bound=MatchEvidence)

MatchMethod = Literal[
    "exact_url",
    "url_prefix",
    "domain",
    "flickr_photo",
    "flickr_user",
    "text",
    "same_file",
    "same_image",
    "same_face",
    "similar",
]


@dataclass(frozen=True, slots=True)
class Match:
    """One dataset row that answers a query.

    ``shard`` is the dataset's own source file (relative to the ingested root) and ``row``
    the 0-based row inside it, so anyone with the original release can find the row again.
    ``score`` is method-specific: 1.0 for exact lookups, BM25 for text, and for image
    methods the similarity derived from ``distance``. ``evidence`` says how it matched
    (typed, per method); ``extra`` holds only the row's own open-ended columns.
    """

    dataset: str
    release: str
    shard: str
    row: int
    url: str
    caption: str | None
    license: str | None
    width: int | None
    height: int | None
    method: MatchMethod
    score: float
    key: str | None = None
    matched_terms: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    evidence: MatchEvidence | None = None

    @property
    def query(self) -> str:
        """The query file (or code) this match answers; ``""`` when its evidence names
        none (catalog searches answer one query)."""
        if isinstance(self.evidence, ImageEvidence | IsccEvidence | SimilarEvidence):
            return self.evidence.query
        return ""

    def evidence_as(self, kind: type[E]) -> E:
        """The evidence, which the caller knows is a ``kind`` (the method's own)."""
        if not isinstance(self.evidence, kind):
            raise TypeError(f"a {self.method} match without {kind.__name__}: {self.evidence!r}")
        return self.evidence

    def to_json(self) -> dict[str, Any]:
        """The JSON contract of ``traindex search --json`` (later fields are additions):
        the fields, the row's columns, then the evidence's keys, all flat."""
        data = asdict(self)
        extra = data.pop("extra")
        del data["evidence"]
        data["matched_terms"] = list(self.matched_terms)
        data.update(extra)
        if self.evidence is not None:
            data.update(self.evidence.to_json())
        return data


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The answer to one query: what was asked, what matched, and how many in total."""

    query: dict[str, Any]
    matches: list[Match]
    total: int
    coverage: Coverage | None = None
    """Set by searches over fingerprints or embeddings (similar); ``None`` for metadata
    searches, which see every ingested row."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "query": self.query,
            "total": self.total,
            "matches": [m.to_json() for m in self.matches],
        }
        if self.coverage is not None:
            data["coverage"] = self.coverage.to_json()
        return data
