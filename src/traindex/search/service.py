"""Search the catalog: URL, URL prefix, domain, Flickr photo/owner and caption text.

One service object serves the CLI, the API and jobs. It keeps per-release readers
(memory-mapped key indexes, open Parquet shards, Tantivy searchers) for its lifetime.
Key lookups return rows in dataset order (release, shard, row); text lookups return the
best BM25 scores first. Every answer is a list of ``Match`` objects with provenance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from traindex.catalog.store import Catalog
from traindex.catalog.text import fold, query_terms
from traindex.core.match_evidence import UrlFormEvidence
from traindex.core.matches import Match, SearchResult
from traindex.search.queries import Query, Resolved, resolve
from traindex.search.views import ReleaseView, ViewCache, row_match

__all__ = ["SearchService"]


@dataclass(frozen=True, slots=True)
class _Hit:
    order: int
    shard_id: int
    row: int
    score: float


class SearchService:
    """Catalog search with provenance."""

    def __init__(self, catalog: Catalog, views: ViewCache | None = None) -> None:
        self.catalog = catalog
        self.views = views or ViewCache(catalog)

    def search(
        self, query: Query, *, dataset: str | None = None, limit: int = 20, offset: int = 0
    ) -> SearchResult:
        """One page of matches for ``query`` over all releases (or ``dataset``)."""
        resolved = resolve(query)
        views = self.views.select(dataset)
        per_view = [self._hits(view, resolved, limit + offset) for view in views]
        total = sum(count for count, _ in per_view)
        merged = [(v, h) for v, (_, hits) in zip(views, per_view, strict=True) for h in hits]
        if resolved.field is None:
            merged.sort(key=lambda vh: -vh[1].score)
        page = merged[offset : offset + limit]
        matches = self._matches(page, resolved)
        described: dict[str, Any] = {**resolved.to_json(), "dataset": dataset}
        described.update(limit=limit, offset=offset, searched=_coverage(views))
        return SearchResult(query=described, matches=matches, total=total)

    def positions(self, view: ReleaseView, query: Query) -> dict[int, list[int]]:
        """Every row of one release matching ``query``, as catalog positions per shard (no
        page limit): how ``fingerprint --download`` fetches only a creator's candidates."""
        _, hits = self._hits(view, resolve(query), max(view.manifest.rows, 1))
        found: dict[int, list[int]] = defaultdict(list)
        for hit in hits:
            found[hit.shard_id].append(hit.row)
        return dict(found)

    def matches_in(
        self, view: ReleaseView, query: Query, shard_ids: Collection[int]
    ) -> list[Match]:
        """Every match of ``query`` in these shards of one release (no page limit): what a
        watch compares when a release gains new shards (``traindex.watch``)."""
        resolved = resolve(query)
        _, hits = self._hits(view, resolved, max(view.manifest.rows, 1))
        return self._matches([(view, h) for h in hits if h.shard_id in shard_ids], resolved)

    def _hits(self, view: ReleaseView, resolved: Resolved, want: int) -> tuple[int, list[_Hit]]:
        if resolved.field is None:
            count, text_hits = view.text.search(resolved.query.value, limit=max(want, 1))
            known = set(view.shard_ids)
            return count, [
                _Hit(i, h.shard_id, h.row, h.score)
                for i, h in enumerate(text_hits)
                if h.shard_id in known
            ]
        found = _key_rows(view, resolved)
        if resolved.host is not None or resolved.prefix is not None:
            found = {sid: self._filtered(view, sid, rows, resolved) for sid, rows in found.items()}
        total = sum(len(rows) for rows in found.values())
        hits: list[_Hit] = []
        for sid in sorted(found):
            if len(hits) >= want:
                break
            hits.extend(_Hit(0, sid, int(r), 1.0) for r in found[sid][: want - len(hits)])
        return total, hits

    @staticmethod
    def _filtered(
        view: ReleaseView, sid: int, rows: npt.NDArray[np.int64], resolved: Resolved
    ) -> npt.NDArray[np.int64]:
        table = view.rows.fetch(sid, rows.tolist(), ["url", "host"])
        if resolved.prefix is not None:
            mask = pc.starts_with(table.column("url"), resolved.prefix)
            if resolved.other_scheme is not None:
                other = pc.starts_with(table.column("url"), resolved.other_scheme)
                mask = pc.or_(mask, other)
        else:
            host = pa.scalar(resolved.host or "")
            suffix = "." + (resolved.host or "")
            mask = pc.or_(
                pc.equal(table.column("host"), host), pc.ends_with(table.column("host"), suffix)
            )
        kept: npt.NDArray[np.int64] = rows[np.asarray(mask.to_pylist(), dtype=bool)]
        return kept

    def _matches(self, page: list[tuple[ReleaseView, _Hit]], resolved: Resolved) -> list[Match]:
        grouped: dict[tuple[int, int], list[int]] = defaultdict(list)
        views = {id(v): v for v, _ in page}
        for pos, (view, hit) in enumerate(page):
            grouped[(id(view), hit.shard_id)].append(pos)
        built: dict[int, Match] = {}
        for (vid, sid), positions in grouped.items():
            view = views[vid]
            records = view.records(sid, [page[p][1].row for p in positions])
            for pos, record in zip(positions, records, strict=True):
                match = _match(view, sid, record, page[pos][1].score, resolved)
                if match is not None:
                    built[pos] = match
        return [built[p] for p in sorted(built)]


def _coverage(views: list[ReleaseView]) -> list[dict[str, Any]]:
    """The releases (and their row counts) this answer compared: "not found" covers these."""
    return [
        {"dataset": v.manifest.name, "release": v.manifest.release, "rows": v.manifest.rows}
        for v in views
    ]


def _key_rows(view: ReleaseView, resolved: Resolved) -> dict[int, npt.NDArray[np.int64]]:
    """Shard id -> sorted candidate rows; an exact URL is looked up in both schemes."""
    assert resolved.field is not None
    assert resolved.key is not None
    keys = resolved.url_keys if resolved.method == "exact_url" else (resolved.key,)
    found: dict[int, npt.NDArray[np.int64]] = {}
    for key in keys:
        for sid, rows in view.keys.rows(resolved.field, key, view.shard_ids).items():
            found[sid] = np.union1d(found[sid], rows) if sid in found else rows
    return found


def _match(
    view: ReleaseView, sid: int, record: dict[str, Any], score: float, resolved: Resolved
) -> Match | None:
    wanted = resolved.url_keys if resolved.method == "exact_url" else (resolved.key,)
    if resolved.field is not None and str(record[resolved.field]) not in wanted:
        return None  # a 64-bit hash collision: not this value
    terms: tuple[str, ...] = ()
    if resolved.field is None:
        caption_terms = set(fold(record["caption"] or ""))
        terms = tuple(t for t in query_terms(resolved.query.value) if t in caption_terms)
    form = resolved.url_form(record["url"])
    return row_match(
        view,
        sid,
        record,
        method=resolved.method,
        score=score,
        matched_terms=terms,
        evidence=UrlFormEvidence(form) if form is not None else None,
    )
