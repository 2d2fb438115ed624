"""Which rows image search can compare: only rows of fingerprinted shards.

A release ingested from metadata alone (LAION's parquet files hold URLs and captions, not
images) has nothing to compare a photo with until its images are downloaded and
fingerprinted. Answers say so ("not searched") instead of implying "not found".
"""

from __future__ import annotations

from dataclasses import dataclass

from traindex.catalog.store import Catalog

__all__ = ["ImageCoverage", "image_coverage"]


@dataclass(frozen=True, slots=True)
class ImageCoverage:
    """Rows of one release, and how many sit in shards whose images are fingerprinted."""

    dataset: str
    release: str
    rows: int
    fingerprinted_rows: int

    @property
    def not_searched(self) -> int:
        return self.rows - self.fingerprinted_rows


def image_coverage(catalog: Catalog, dataset: str | None = None) -> list[ImageCoverage]:
    """Image-search coverage of every release (or of ``dataset``)."""
    found = []
    for release, manifest in catalog.select(dataset):
        done = set(release.indexed("fingerprints"))
        covered = sum(s.rows for s in manifest.sources if s.id in done)
        found.append(ImageCoverage(manifest.name, manifest.release, manifest.rows, covered))
    return found
