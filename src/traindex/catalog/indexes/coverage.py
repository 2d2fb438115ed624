"""Measure a release's coverage (``core.coverage``) from its stage tables.

A row counts as covered by a signal only once its shard was added to that signal's index
(``<stage>/indexed.json``): a fingerprint table written but not yet indexed is not
searched. Counts come from Parquet metadata and statistics where they can (the ``error``
column's null count) and otherwise from one or two small columns, so measuring reads no
images. Failures are the rows the download stage could not fetch or was refused
(``downloads/<shard>.parquet``, by reason) plus images that could not be decoded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from traindex.catalog.manifest import Manifest
from traindex.catalog.store import Release
from traindex.core.coverage import ReleaseCoverage

__all__ = ["DOWNLOAD_OK", "DOWNLOAD_STAGE", "error_counts", "measure_release"]

DOWNLOAD_STAGE = "downloads"
DOWNLOAD_OK = "ok"
UNREADABLE = "unreadable image"
_STAGE_OF = {
    "sha256": "fingerprints", "pdq": "fingerprints", "keypoints": "keypoints", "iscc": "iscc",
}  # fmt: skip
_UNINDEXED = ("iscc",)  # stages searched by a scan of their tables, without an index


def error_counts(path: Path) -> tuple[int, int]:
    """(rows, rows with ``error`` set) of one stage table, from Parquet statistics when
    every row group has a null count."""
    meta = pq.ParquetFile(path).metadata
    column = meta.schema.names.index("error")
    stats = [meta.row_group(g).column(column).statistics for g in range(meta.num_row_groups)]
    if all(s is not None and s.has_null_count for s in stats):
        return meta.num_rows, meta.num_rows - sum(s.null_count for s in stats if s is not None)
    values = pq.read_table(path, columns=["error"]).column(0)
    return meta.num_rows, int(pc.count(values, mode="only_valid").as_py())


def _table_stage(release: Release, stage: str, shards: list[int]) -> tuple[int, int]:
    """(rows, failed rows) over the indexed shards of a one-row-per-image stage table."""
    rows = failed = 0
    for shard in shards:
        path = release.stage_table(stage, shard)
        if path.exists():
            total, errors = error_counts(path)
            rows, failed = rows + total, failed + errors
    return rows, failed


def _face_rows(release: Release, shards: list[int]) -> int:
    """Distinct images the face stage read without error (one table row per face)."""
    count = 0
    for shard in shards:
        path = release.stage_table("faces", shard)
        if path.exists():
            table = pq.read_table(path, columns=["row", "error"])
            good = table.filter(pc.is_null(table.column("error")))
            count += len(pc.unique(good.column("row")))
    return count


def _clip_rows(release: Release, manifest: Manifest) -> int:
    """Rows with a published image embedding (LAION layout: ``emb_file``/``emb_row``)."""
    count = 0
    for source in manifest.sources:
        path = release.shard_path(source.id)
        if "emb_file" in pq.ParquetFile(path).schema_arrow.names:
            column = pq.read_table(path, columns=["emb_file"]).column(0)
            count += int(pc.count(column, mode="only_valid").as_py())
    return count


def _download_failures(release: Release) -> Counter[str]:
    failures: Counter[str] = Counter()
    for shard in release.stage_tables(DOWNLOAD_STAGE):
        status = pq.read_table(release.stage_table(DOWNLOAD_STAGE, shard), columns=["status"])
        for value, n in Counter(status.column(0).to_pylist()).items():
            if value != DOWNLOAD_OK:
                failures[str(value)] += n
    return failures


def measure_release(
    release: Release, manifest: Manifest, signals: Sequence[str]
) -> ReleaseCoverage:
    """The coverage of ``release`` for the given signals (others are not measured)."""
    covered: dict[str, int] = {}
    failures = _download_failures(release)
    searched_shards: set[int] = set()
    for signal in signals:
        stage = "faces" if signal == "faces" else _STAGE_OF.get(signal)
        if stage is None:  # clip: the release's own published embeddings
            covered[signal] = _clip_rows(release, manifest)
            if covered[signal]:
                searched_shards.update(s.id for s in manifest.sources)
            continue
        shards = release.stage_tables(stage) if stage in _UNINDEXED else release.indexed(stage)
        searched_shards.update(shards)
        if stage == "faces":
            covered[signal] = _face_rows(release, shards)
            continue
        rows, failed = _table_stage(release, stage, shards)
        covered[signal] = rows if signal == "sha256" else rows - failed
        if signal in ("pdq", "iscc") and failed:
            failures[UNREADABLE] += failed
    missing = tuple(s.relpath for s in manifest.sources if s.id not in searched_shards)
    return ReleaseCoverage(
        dataset=manifest.name,
        release=manifest.release,
        rows=manifest.rows,
        covered=covered,
        failures=dict(failures),
        shards=len(manifest.sources),
        shards_not_searched=missing,
    )
