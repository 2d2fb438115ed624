"""The evidence report: what was searched, in which releases, and every row that matched.

The report body is plain data (pydantic) so that it has exactly one JSON form, which is
what gets canonicalised and signed (``evidence.seal``). Everything a lawyer or a data
protection authority needs to re-find a row is in it: the release (with the SHA-256 of
each source file from the manifest), the source file and 0-based row, and the number
behind the match with its threshold in plain words. Searches that found nothing are
listed too: a negative result is evidence that a file was checked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "REPORT_FORMAT",
    "EvidenceMatch",
    "EvidenceReport",
    "ImageDigests",
    "Outcome",
    "PublishedRow",
    "QueryRecord",
    "ReleaseSearched",
    "SourceFile",
]

REPORT_FORMAT: Literal["traindex-evidence/1"] = "traindex-evidence/1"
Outcome = Literal["found", "not found", "unreadable"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceFile(_Frozen):
    """One source file of a release as the manifest recorded it at ingest."""

    path: str
    bytes: int
    sha256: str
    rows: int


class ReleaseSearched(_Frozen):
    """A dataset release that was searched (or, if ``in_catalog`` is false, only cited)."""

    dataset: str
    release: str
    in_catalog: bool
    format: str | None = None
    rows: int | None = Field(default=None, description="searchable rows")
    failed_rows: int | None = None
    rejected_rows: int | None = None
    ingested_at: datetime | None = None
    sources: list[SourceFile] = Field(default_factory=list)


class ImageDigests(_Frozen):
    """SHA-256 of the bytes and PDQ hash (64 hex) of one image, as far as known."""

    sha256: str | None = None
    pdq: str | None = None


class PublishedRow(_Frozen):
    """Where a matched row is in the dataset file as published, with its raw values.

    Anyone holding the public file can confirm the row without traindex: the file is
    named with its size and SHA-256 (from the ingest manifest), the row by its 0-based
    position, and ``check`` is a one-line DuckDB query that prints it.
    """

    file: str = Field(description="source file as published (path inside the release)")
    bytes: int
    sha256: str
    row: int = Field(description="0-based position of the row in that file")
    url: str = Field(description="the URL exactly as the file has it (before normalising)")
    caption: str | None = None
    check: str | None = Field(default=None, description="DuckDB query showing the row")


class EvidenceMatch(_Frozen):
    """One dataset row that matched one query, with the number behind the match."""

    query: str = Field(description="what was searched: a file name or the query value")
    dataset: str
    release: str
    source_file: str
    row: int = Field(description="0-based row inside source_file")
    key: str | None = None
    url: str
    caption: str | None = None
    license: str | None = Field(default=None, description="licence id as normalised")
    license_url: str | None = None
    method: str = Field(description="exact URL, same file, same image, domain, caption text…")
    measure: str = Field(description="the number behind the match, in words")
    threshold: str | None = Field(default=None, description="the limit that number is held to")
    confidence: str = Field(description="certain, likely or review (a person should look)")
    explanation: str = Field(description="what the confidence rests on, in plain words")
    matched_terms: list[str] = Field(default_factory=list)
    query_image: ImageDigests | None = None
    dataset_image: ImageDigests | None = None
    published: PublishedRow | None = Field(
        default=None, description="the row in the published file (Parquet sources)"
    )


class QueryRecord(_Frozen):
    """One search as asked, and its outcome (also when nothing was found)."""

    kind: str
    value: str
    datasets: str = Field(description="which releases were searched ('all' or NAME[/RELEASE])")
    outcome: Outcome
    matches: int = Field(description="matching rows in the catalog")
    listed: int = Field(description="matching rows listed in this report")
    detail: str | None = Field(default=None, description="why a file was unreadable")
    image: ImageDigests | None = None


class EvidenceReport(_Frozen):
    """The signed body of an evidence report."""

    format: Literal["traindex-evidence/1"] = REPORT_FORMAT
    report_id: str
    requested_by: str
    created_at: datetime = Field(description="UTC")
    traindex_version: str
    releases: list[ReleaseSearched]
    queries: list[QueryRecord]
    matches: list[EvidenceMatch]

    @property
    def negatives(self) -> list[QueryRecord]:
        """Searches that found nothing (negative results are evidence too)."""
        return [q for q in self.queries if q.outcome != "found"]
