"""Search by ISCC: which rows hold an image whose ISO 24138 Image-Code is within the ISCC
radius of a given code, or of the code a TDM·AI declaration names?

A creator who published a content-bound declaration (or got an ISCC from iscc-sdk) can ask
where that content is without the file at hand. The codes of a release's images come from
``traindex fingerprint --iscc`` (``jobs/iscc.py``); a release is compared by one exact
Hamming scan over its 64-bit bodies (``iscc_core``'s ``iscc_distance`` rule, radius
``DEFAULT_ISCC_RADIUS``, the one the registry and ``filter --iscc-release`` use). Eight bytes
per row: a query scans a million rows in ~8 ms (``bench/iscc_search.py``), so there is no
index to keep, and the scan is exact (tests compare it with ``iscc_distance`` row by row).

Rows never given an ISCC (no image on disk, the stage not run, an unreadable image) were
not compared: the answer's coverage (signal ``iscc``) says how many rows were, and a query
without a match is "not found" only when every row was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from traindex.catalog.store import Catalog, Release
from traindex.core.coverage import outcome_without_match
from traindex.core.match_evidence import IsccEvidence
from traindex.core.matches import Match, SearchResult
from traindex.errors import InputError
from traindex.fingerprint.iscc import (
    DEFAULT_ISCC_RADIUS,
    ISCC_BITS,
    image_code_body,
    iscc_from_body,
)
from traindex.jobs.iscc import read_iscc
from traindex.registry.declarations import declared_codes
from traindex.search.views import ReleaseView, ViewCache, coverage_of, row_match

__all__ = ["IsccCodes", "IsccQuery", "IsccSearch", "code_queries", "declaration_queries"]

SIGNALS = ("iscc",)
_HEX = ISCC_BITS // 4


@dataclass(frozen=True, slots=True)
class IsccQuery:
    """One code searched for: as the user named it (the code, or the declaration's file and
    position) and its Image-Code body (16 hex)."""

    name: str
    body: str

    @property
    def code(self) -> str:
        return iscc_from_body(self.body)


def code_queries(codes: Sequence[str]) -> list[IsccQuery]:
    """Queries for ISCC codes as given (an Image-Code or an ISCC-CODE holding one); raises
    ``InputError`` naming a code that is neither."""
    return [IsccQuery(code.strip(), image_code_body(code)) for code in codes]


def declaration_queries(text: str, source: str) -> list[IsccQuery]:
    """Queries for every declaration in a TDM·AI declaration file (its usage keys do not
    matter here: a creator may look for any content they declared)."""
    return [IsccQuery(where, body) for where, body in declared_codes(text, source=source)]


def _words(chunk: pa.Array) -> NDArray[np.uint64]:
    """One chunk of 16-hex bodies as 64-bit words, decoded from the string column's data
    buffer in one piece (Python strings per row cost ~5x more at a million rows)."""
    if chunk.null_count:
        raise InputError("ISCC table holds a row without a code where one was expected")
    offsets = np.frombuffer(chunk.buffers()[1], np.int32)[
        chunk.offset : chunk.offset + len(chunk) + 1
    ]
    if len(chunk) and not (np.diff(offsets) == _HEX).all():
        raise InputError("ISCC table holds a code that is not 16 hex characters")
    data = chunk.buffers()[2]
    text = b"" if data is None else data.to_pybytes()[offsets[0] : offsets[-1]]
    return np.frombuffer(bytes.fromhex(text.decode("ascii")), ">u8").astype(np.uint64)


@dataclass(frozen=True, slots=True)
class IsccCodes:
    """A release's ISCC bodies as unsigned 64-bit words, with each one's shard and row."""

    shards: NDArray[np.int32]
    rows: NDArray[np.int64]
    words: NDArray[np.uint64]

    @classmethod
    def read(cls, release: Release) -> IsccCodes:
        table = read_iscc(release)
        words = [_words(chunk) for chunk in table.column("iscc").chunks]
        return cls(
            np.asarray(table.column("shard"), np.int32),
            np.asarray(table.column("row"), np.int64),
            np.concatenate(words) if words else np.zeros(0, np.uint64),
        )

    def within(self, body: str, radius: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Positions of the codes within ``radius`` bits of ``body``, and their distances."""
        distance = np.bitwise_count(self.words ^ np.uint64(int(body, 16))).astype(np.int64)
        found = np.flatnonzero(distance <= radius)
        return found, distance[found]

    def body(self, position: int) -> str:
        return f"{int(self.words[position]):016x}"


@dataclass(frozen=True, slots=True)
class _Hit:
    query: int
    release: int
    shard: int
    row: int
    position: int
    distance: int


class IsccSearch:
    """Rows whose image's ISCC Image-Code lies within ``radius`` of the queries' codes."""

    def __init__(
        self, catalog: Catalog, views: ViewCache | None = None, radius: int = DEFAULT_ISCC_RADIUS
    ) -> None:
        self.views = views or ViewCache(catalog)
        self.radius = radius
        # per release: the view the codes were read for (a view is replaced when its
        # release gains ISCC tables, see ``search.views``) and the codes
        self._codes: dict[str, tuple[ReleaseView, IsccCodes]] = {}

    def _of(self, view: ReleaseView) -> IsccCodes:
        key = str(view.release.dir)
        held = self._codes.get(key)
        if held is None or held[0] is not view:
            held = self._codes[key] = (view, IsccCodes.read(view.release))
        return held[1]

    def _hits(self, views: list[ReleaseView], queries: Sequence[IsccQuery]) -> list[_Hit]:
        hits = []
        for vi, view in enumerate(views):
            codes = self._of(view)
            for qi, query in enumerate(queries):
                for p, d in zip(*codes.within(query.body, self.radius), strict=True):
                    hits.append(
                        _Hit(qi, vi, int(codes.shards[p]), int(codes.rows[p]), int(p), int(d))
                    )
        hits.sort(key=lambda h: (h.query, h.distance, h.release, h.shard, h.row))
        return hits

    def search(
        self,
        queries: Sequence[IsccQuery],
        *,
        query: dict[str, Any],
        dataset: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResult:
        """One page of matches, nearest first per query; ``query`` describes the request
        (kind and value) for the JSON answer."""
        views = self.views.select(dataset)
        hits = self._hits(views, queries)
        page = hits[offset : offset + limit]
        matches = [self._match(views, queries, hit) for hit in page]
        coverage = coverage_of(views, SIGNALS)
        found = {h.query for h in hits}
        described = {
            **query,
            "codes": [{"query": q.name, "iscc": q.code} for q in queries],
            "threshold": self.radius,
            "bits": ISCC_BITS,
            "dataset": dataset,
            "limit": limit,
            "offset": offset,
            "outcomes": {
                q.name: "found" if i in found else outcome_without_match(coverage)
                for i, q in enumerate(queries)
            },
        }
        return SearchResult(described, matches, len(hits), coverage)

    def _match(self, views: list[ReleaseView], queries: Sequence[IsccQuery], hit: _Hit) -> Match:
        view, query = views[hit.release], queries[hit.query]
        [record] = view.records(hit.shard, [hit.row])
        code = iscc_from_body(self._of(view).body(hit.position))
        evidence = IsccEvidence(
            query=query.name,
            query_iscc=query.code,
            iscc=code,
            variant="iscc",
            distance=hit.distance,
            threshold=self.radius,
            explanation=(
                f"ISCC Image-Codes {hit.distance} of {ISCC_BITS} bits apart "
                f"(same image within {self.radius}, ISO 24138 similarity)"
            ),
        )
        score = 1.0 - hit.distance / ISCC_BITS
        return row_match(
            view, hit.shard, record, method="same_image", score=score, evidence=evidence
        )
