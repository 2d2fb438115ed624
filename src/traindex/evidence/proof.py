"""Proof against the published dataset file: rows a third party can confirm without traindex.

At build time each matched row gets a ``PublishedRow``: the source file as the ingest
manifest recorded it (name, size, SHA-256), the row's 0-based position, its raw URL and
caption as the file holds them (the catalog keeps ``url_raw`` next to the normalised URL),
and a one-line command that prints the row: a DuckDB query for Parquet, ``sed`` or
``python3`` for CSV/TSV (whose reading rules the row's ``layout`` records, see
``textrows``). ``check_against`` is the same check in code: it reads only the given file,
never the catalog, so it shows the row is in the public file with that URL and caption,
and refuses a row whose values were edited.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from traindex.catalog.manifest import Manifest
from traindex.catalog.store import Catalog
from traindex.core.signing import file_sha256
from traindex.errors import InputError
from traindex.evidence.model import EvidenceMatch, EvidenceReport, PublishedRow, TextLayout
from traindex.evidence.textrows import FileRow, layout_of, read_rows, text_check
from traindex.ingest.columns import resolve_columns

__all__ = ["RowCheck", "check_against", "duckdb_check", "with_published_rows"]


def duckdb_check(file: str, row: int) -> str:
    """The one-line query that prints row ``row`` (0-based) of a Parquet file."""
    name = Path(file).name.replace("'", "''")
    return (
        f"duckdb -c \"SELECT * FROM read_parquet('{name}', file_row_number=true) "
        f'WHERE file_row_number = {row}"'
    )


def _raw_values(
    catalog: Catalog, manifest: Manifest, shard: str, rows: list[int]
) -> dict[int, tuple[str, str | None]]:
    source = manifest.source(shard)
    if source is None:
        return {}
    path = catalog.release(manifest.name, manifest.release).shard_path(source.id)
    table = pq.read_table(
        path, columns=["source_row", "url_raw", "caption"], filters=[("source_row", "in", rows)]
    )
    return {r["source_row"]: (r["url_raw"], r["caption"]) for r in table.to_pylist()}


def _entry(shard: str, row: int, layout: TextLayout | None) -> tuple[str, TextLayout | None]:
    return (duckdb_check(shard, row) if layout is None else text_check(shard, row, layout)), layout


def _published(
    catalog: Catalog, matches: Sequence[EvidenceMatch]
) -> dict[tuple[str, str, str, int], PublishedRow]:
    wanted: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for m in matches:
        wanted[(m.dataset, m.release, m.source_file)].append(m.row)
    found: dict[tuple[str, str, str, int], PublishedRow] = {}
    for (dataset, release, shard), rows in wanted.items():
        rel = catalog.release(dataset, release)
        manifest = rel.manifest() if rel.exists() else None
        source = manifest.source(shard) if manifest else None
        if manifest is None or source is None:
            continue
        layout = layout_of(manifest.format, shard, manifest.columns)
        if layout is None and not shard.lower().endswith(".parquet"):
            continue  # tar shards and formats without a row rule are cited by key only
        for row, (url, caption) in _raw_values(catalog, manifest, shard, rows).items():
            check, layout = _entry(shard, row, layout)
            found[(dataset, release, shard, row)] = PublishedRow(
                file=shard,
                bytes=source.size,
                sha256=source.sha256,
                row=row,
                url=url,
                caption=caption,
                check=check,
                layout=layout,
            )
    return found


def with_published_rows(report: EvidenceReport, catalog: Catalog) -> EvidenceReport:
    """``report`` with each match's row in the published file (Parquet, CSV or TSV)."""
    found = _published(catalog, report.matches)
    matches = [
        m.model_copy(update={"published": found.get((m.dataset, m.release, m.source_file, m.row))})
        for m in report.matches
    ]
    return report.model_copy(update={"matches": matches})


@dataclass(frozen=True, slots=True)
class RowCheck:
    """One report row checked against the file: confirmed, or why not."""

    match: EvidenceMatch
    confirmed: bool
    reason: str


def _compare(match: EvidenceMatch, values: FileRow | None) -> RowCheck:
    published = match.published
    assert published is not None
    if values is None:
        return RowCheck(match, False, f"the file has no row {published.row}")
    if values.url != published.url:
        return RowCheck(match, False, f"row {published.row} has URL {values.url!r}")
    if values.has_caption and values.caption != published.caption:
        return RowCheck(match, False, f"row {published.row} has another caption")
    if match.caption is not None and match.caption != published.caption:
        return RowCheck(match, False, "the report's caption is not the row's")
    return RowCheck(match, True, f"row {published.row}: URL and caption as in the report")


def _parquet_rows(path: Path, rows: set[int]) -> dict[int, FileRow]:
    parquet = pq.ParquetFile(path)
    columns = resolve_columns(parquet.schema_arrow.names, path=str(path))
    names = [columns["url"], *([columns["caption"]] if "caption" in columns else [])]
    found: dict[int, FileRow] = {}
    for row in sorted(r for r in rows if 0 <= r < parquet.metadata.num_rows):
        values = _read_row(parquet, row, names)
        caption = values.get(columns["caption"]) if "caption" in columns else None
        found[row] = FileRow(str(values[columns["url"]]), _text(caption), "caption" in columns)
    return found


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _read_row(parquet: pq.ParquetFile, row: int, columns: list[str]) -> dict[str, object]:
    start = 0
    for group in range(parquet.num_row_groups):
        size = parquet.metadata.row_group(group).num_rows
        if row < start + size:
            table = parquet.read_row_group(group, columns=columns)
            values: dict[str, object] = table.slice(row - start, 1).to_pylist()[0]
            return values
        start += size
    raise InputError(f"row {row} is past the end of the file")


def check_against(report: EvidenceReport, path: Path) -> list[RowCheck]:
    """Check every row the report cites in ``path`` (matched by SHA-256) from the file alone."""
    try:
        sha256 = file_sha256(path)
    except OSError as exc:
        raise InputError(f"cannot read the dataset file: {exc}", path=str(path)) from exc
    cited = [m for m in report.matches if m.published and m.published.sha256 == sha256]
    if not cited:
        files = sorted({m.published.file for m in report.matches if m.published})
        raise InputError(
            f"the report cites no row of this file (SHA-256 {sha256}); "
            f"it cites {', '.join(files) or 'no published file'}",
            path=str(path),
        )
    rows = {m.published.row for m in cited if m.published}
    layout = next((m.published.layout for m in cited if m.published), None)
    try:
        found = _parquet_rows(path, rows) if layout is None else read_rows(path, layout, rows)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the dataset file: {exc}", path=str(path)) from exc
    return [_compare(m, found.get(m.published.row) if m.published else None) for m in cited]
