"""The manifest of one ingested dataset release.

It is the catalog's commit record: a source file counts as ingested only once the
manifest lists it, so anything a crash leaves behind (temporary files, uncommitted index
entries) is ignored and redone on the next run. It also carries what an evidence report
must cite: source files with sizes and SHA-256, row counts, reader and versions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from traindex import __version__
from traindex.core.files import write_atomic

__all__ = ["KEY_HASH", "Manifest", "SourceEntry", "utc_now"]

# how key indexes hash their values; stored so an index is never read with another scheme
KEY_HASH = "mmh3.hash64[0]/utf-8/unsigned"


def utc_now() -> datetime:
    return datetime.now(UTC)


class SourceEntry(BaseModel):
    """One ingested source file and what came of it."""

    id: int = Field(ge=0, description="stable id; catalog shard samples/<id>.parquet")
    relpath: str
    size: int
    sha256: str
    rows: int = Field(description="searchable rows written")
    failed: dict[str, int] = Field(default_factory=dict, description="failure status -> count")
    rejected: int = Field(default=0, description="bad rows logged with --skip-bad-rows")
    ingested_at: datetime


class Manifest(BaseModel):
    """Everything traindex knows about a release as a whole."""

    name: str
    release: str
    format: str
    root: str
    created_at: datetime
    updated_at: datetime
    traindex_version: str = __version__
    key_hash: str = KEY_HASH
    row_group_rows: int
    columns: dict[str, str] = Field(
        default_factory=dict, description="--columns given at ingest (evidence reads rows back)"
    )
    sources: list[SourceEntry] = Field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.sources)

    @property
    def failed_rows(self) -> int:
        return sum(sum(s.failed.values()) for s in self.sources)

    @property
    def rejected_rows(self) -> int:
        return sum(s.rejected for s in self.sources)

    def source(self, relpath: str) -> SourceEntry | None:
        return next((s for s in self.sources if s.relpath == relpath), None)

    def next_id(self) -> int:
        return max((s.id for s in self.sources), default=-1) + 1

    def save(self, path: Path) -> None:
        write_atomic(path, self.model_dump_json(indent=2).encode())

    @classmethod
    def load(cls, path: Path) -> Manifest:
        return cls.model_validate_json(path.read_bytes())
