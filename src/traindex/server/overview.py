"""The datasets page's numbers: rows, fingerprint coverage and ingest dates per release.

Coverage is what image search can see: a row is covered when the fingerprint job hashed
its image (found locally); rows whose image could not be decoded count as errors. Counts
come from the fingerprint shards' Parquet statistics (null count of ``error``), so the
page reads no data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from traindex.catalog.indexes.coverage import error_counts
from traindex.catalog.indexes.pdq import fingerprinted_shards, indexed_shards
from traindex.catalog.store import Catalog

__all__ = ["ReleaseSummary", "summarise"]


@dataclass(frozen=True, slots=True)
class ReleaseSummary:
    name: str
    release: str
    format: str
    sources: int
    rows: int
    failed: int
    rejected: int
    created_at: datetime
    updated_at: datetime
    images: int
    image_errors: int
    indexed_shards: int

    @property
    def coverage(self) -> float:
        """Share of rows with a fingerprinted image (0..1)."""
        return self.images / self.rows if self.rows else 0.0


def summarise(catalog: Catalog) -> list[ReleaseSummary]:
    """One summary per committed release, in the catalog's order."""
    found = []
    for release, manifest in catalog.releases():
        images = errors = 0
        for shard in fingerprinted_shards(release):
            total, failed = error_counts(release.dir / "fingerprints" / f"{shard:05d}.parquet")
            errors += failed
            images += total - failed
        found.append(
            ReleaseSummary(
                manifest.name, manifest.release, manifest.format, len(manifest.sources),
                manifest.rows, manifest.failed_rows, manifest.rejected_rows,
                manifest.created_at, manifest.updated_at, images, errors,
                len(indexed_shards(release)),
            )
        )  # fmt: skip
    return found
