"""Which rows ``fingerprint --download`` fetches: all, those matching one search, or a list.

Fetching a whole LAION release to find one photographer's images is neither polite nor
needed: the same selectors as ``traindex search`` (``--domain``, ``--url-prefix``,
``--flickr-user``, ``--text``) pick the candidate rows, or ``--rows FILE`` lists them as
``SOURCE_FILE:ROW`` lines (the ``file:row`` column search tables print; ``#`` comments).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from traindex.errors import InputError
from traindex.search.queries import Query
from traindex.search.service import SearchService
from traindex.search.views import ReleaseView

__all__ = ["RowSelection", "read_rows_file"]


def read_rows_file(path: Path) -> dict[str, set[int]]:
    """``SOURCE_FILE:ROW`` lines -> source file -> source rows; errors name the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read rows file: {exc.strerror or exc}", path=str(path)) from exc
    wanted: dict[str, set[int]] = defaultdict(set)
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        source, _, row = text.rpartition(":")
        if not source or not row.isdigit():
            raise InputError(f"expected SOURCE_FILE:ROW, got {text!r}", path=str(path), row=number)
        wanted[source].add(int(row))
    return dict(wanted)


@dataclass(frozen=True, slots=True)
class RowSelection:
    """A search query or a rows file (or neither: every row)."""

    query: Query | None = None
    rows: dict[str, set[int]] | None = None

    def positions(
        self, view: ReleaseView, search: SearchService
    ) -> dict[int, tuple[int, ...]] | None:
        """Catalog positions per shard to fetch; ``None`` means every row."""
        if self.query is not None:
            found = search.positions(view, self.query)
            return {sid: tuple(rows) for sid, rows in found.items()}
        if self.rows is None:
            return None
        picked: dict[int, tuple[int, ...]] = {}
        for sid in view.shard_ids:
            wanted = self.rows.get(view.relpaths[sid])
            if wanted:
                source_rows = pq.read_table(
                    view.release.shard_path(sid), columns=["source_row"]
                ).column(0)
                picked[sid] = tuple(p for p, r in enumerate(source_rows.to_pylist()) if r in wanted)
        return picked
