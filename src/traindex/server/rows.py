"""One catalog row in full, and the same URL or image elsewhere in the catalog.

A row is addressed the way a ``Match`` cites it: dataset, release, the dataset's own
source file (``shard``) and the 0-based row in that file. The catalog shard may hold
fewer rows than the source (failed and rejected rows are not stored), so the stored row
is found by binary search over the monotonically increasing ``source_row`` column; each
probe decodes one row group of one integer column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from traindex.core.matches import Match
from traindex.errors import DatasetNotFoundError, InputError
from traindex.fingerprint.hashing import DATASET_PLAN
from traindex.ingest.normalise import SAMPLE_SCHEMA
from traindex.search.images import ImageSearch
from traindex.search.queries import Query
from traindex.search.views import ReleaseView
from traindex.server.searching import WebSearch
from traindex.server.thumbnails import LocalImage, Thumbnails, read_local

__all__ = ["RowDetail", "RowNotFoundError", "RowRef", "Rows"]

_COLUMNS = [f.name for f in SAMPLE_SCHEMA]
_ELSEWHERE_LIMIT = 50


class RowNotFoundError(DatasetNotFoundError):
    """The release has no such source file or row (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class RowRef:
    """A row as a ``Match`` cites it."""

    dataset: str
    release: str
    shard: str
    row: int

    @classmethod
    def of(cls, match: Match) -> RowRef:
        return cls(match.dataset, match.release, match.shard, match.row)


@dataclass
class RowDetail:
    """Everything the catalog knows about one row, and where else it appears."""

    ref: RowRef
    shard_id: int
    record: dict[str, Any]
    image: LocalImage | None
    has_local_image: bool
    elsewhere: list[Match] = field(default_factory=list)


def _source_row_at(view: ReleaseView, shard_id: int, index: int) -> int:
    return int(view.rows.fetch(shard_id, [index], ["source_row"]).column(0)[0].as_py())


class Rows:
    """Row lookups for the row-detail page and thumbnails."""

    def __init__(self, search: WebSearch, thumbnails: Thumbnails) -> None:
        self.search = search
        self.thumbnails = thumbnails
        # dataset image vs dataset images: both sides were hashed with the dataset plan
        # (image + trimmed border), so the query needs no crops, flips or rotations, and
        # no keypoints (~24 ms of extraction plus a look-up on every row page)
        self.same_image = ImageSearch(
            search.service.catalog, search.service.views, plan=DATASET_PLAN, keypoints=False
        )

    def view(self, dataset: str, release: str) -> ReleaseView:
        views = self.search.service.views.select(f"{dataset}/{release}")
        return views[0]

    def shard_id(self, view: ReleaseView, shard: str) -> int:
        found = next((sid for sid, rel in view.relpaths.items() if rel == shard), None)
        if found is None:
            raise RowNotFoundError(f"{view.manifest.name}/{view.manifest.release} has no {shard!r}")
        return found

    def catalog_row(self, view: ReleaseView, shard_id: int, source_row: int) -> int:
        """The stored row holding ``source_row``; ``RowNotFoundError`` if it was not stored."""
        entry = next(s for s in view.manifest.sources if s.id == shard_id)
        low, high = 0, min(source_row, entry.rows - 1)
        while low <= high:
            middle = (low + high) // 2
            value = _source_row_at(view, shard_id, middle)
            if value == source_row:
                return middle
            if value < source_row:
                low = middle + 1
            else:
                high = middle - 1
        raise RowNotFoundError(
            f"row {source_row} of {entry.relpath} is not in the catalog (failed or rejected)"
        )

    def detail(self, ref: RowRef) -> RowDetail:
        if ref.row < 0:
            raise InputError(f"row must be 0 or more, got {ref.row}")
        view = self.view(ref.dataset, ref.release)
        sid = self.shard_id(view, ref.shard)
        stored = self.catalog_row(view, sid, ref.row)
        record = view.rows.fetch(sid, [stored], _COLUMNS).to_pylist()[0]
        local = self.thumbnails.local(view, sid, ref.row)
        detail = RowDetail(
            ref, sid, record, self.thumbnails.showable(view, sid, ref.row), local is not None
        )
        detail.elsewhere = self._elsewhere(ref, record["url"], local)
        return detail

    def _elsewhere(self, ref: RowRef, url: str | None, local: LocalImage | None) -> list[Match]:
        """Other rows with the same file/image (when the image is here) or the same URL, each
        row once, under its strongest evidence (same file, then same image, then URL)."""
        found: list[Match] = []
        data = read_local(local.name) if local is not None else None
        if data is not None:
            images = self.same_image.search([("this row's image", data)], limit=_ELSEWHERE_LIMIT)
            found += images.matches
        if url:
            query = Query("url", url)
            found += self.search.service.search(query, limit=_ELSEWHERE_LIMIT).matches
        seen = {ref}
        unique = []
        for match in found:
            if RowRef.of(match) not in seen:
                seen.add(RowRef.of(match))
                unique.append(match)
        return unique
