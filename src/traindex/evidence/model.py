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

from traindex.core.proofs import PROOF_CLOCK

__all__ = [
    "REPORT_FORMAT",
    "DownloadProof",
    "EvidenceMatch",
    "EvidenceReport",
    "ImageDigests",
    "Outcome",
    "PublishedRow",
    "QueryMatch",
    "QueryRecord",
    "ReleaseCovered",
    "ReleaseSearched",
    "SourceFile",
    "TextLayout",
]

REPORT_FORMAT: Literal["traindex-evidence/1"] = "traindex-evidence/1"
Outcome = Literal["found", "not found", "partly searched", "not searched", "unreadable"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceFile(_Frozen):
    """One source file of a release as the manifest recorded it at ingest."""

    path: str
    bytes: int
    sha256: str
    rows: int


class ReleaseCovered(_Frozen):
    """What an image search compared in one release (``core.coverage``): a report never
    claims absence for rows outside ``rows_searched``."""

    signals: list[str]
    state: str = Field(description="searched, partly searched or not searched")
    rows: int | None = Field(default=None, description="rows of the release")
    rows_searched: int
    shards: int | None = Field(default=None, description="source files of the release")
    failures: dict[str, int] = Field(default_factory=dict, description="reason -> images")
    shards_not_searched: list[str] = Field(default_factory=list)
    index_shards_not_searched: list[str] = Field(
        default_factory=list,
        description="index shards a fanned-out search could not reach (their node was lost)",
    )
    summary: str


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
    coverage: ReleaseCovered | None = None


class ImageDigests(_Frozen):
    """SHA-256 of the bytes and PDQ hash (64 hex) of one image, as far as known."""

    sha256: str | None = None
    pdq: str | None = None


class QueryMatch(_Frozen):
    """One search (a query file of a portfolio, or a query value) that matched a row."""

    query: str = Field(description="a file name (never a local path) or the query value")
    method: str
    measure: str
    threshold: str | None = None
    confidence: str
    query_image: ImageDigests | None = None


class DownloadProof(_Frozen):
    """How a candidate row was verified: its image fetched at ``fetched_at`` from ``url``
    (``search --verify-candidates``) and matched by the method and measure stated.

    ``timestamp`` is an RFC 3161 token over the proof's own fields (``core.proofs``), taken
    when the candidate was proven; ``time_basis`` says what the time rests on (that token,
    or only the fetching machine's clock). Proofs made before tokens existed read as
    machine-clock proofs, which they are.
    """

    url: str
    final_url: str | None = None
    fetched_at: str = Field(description="the fetching machine's clock (UTC)")
    http_status: int | None = None
    sha256: str = Field(description="SHA-256 of the bytes fetched")
    timestamp: dict[str, str] | None = Field(
        default=None, description="RFC 3161 token over the fields above: authority, time, token"
    )
    time_basis: str = PROOF_CLOCK


class TextLayout(_Frozen):
    """How a CSV/TSV source file is read, so a row can be read back with ingest's numbering.

    ``lines`` (Conceptual Captions TSVs, URL lists): the row is the 0-based physical line
    (``sed -n``), cells are split on ``delimiter`` with no quoting, a ``.gz``/``.bz2``
    file is decompressed first, and ``cells`` names the fields' 0-based positions.
    ``records`` (tables with a header): the row is the 0-based CSV record after the
    header, blank lines are not records, values may be quoted with ``quote``, and
    ``columns`` are the ``--columns`` names ingest was given (the rest resolve from the
    header by the same aliases).
    """

    rows: Literal["lines", "records"]
    delimiter: str
    quote: Literal['"'] | None = None
    header: bool = Field(description="records: the first record names the columns")
    compression: Literal["gzip", "bz2"] | None = None
    cells: dict[str, int] = Field(default_factory=dict, description="lines: field -> position")
    columns: dict[str, str] = Field(default_factory=dict, description="records: --columns")


class PublishedRow(_Frozen):
    """Where a matched row is in the dataset file as published, with its raw values.

    Anyone holding the public file can confirm the row without traindex: the file is
    named with its size and SHA-256 (from the ingest manifest), the row by its 0-based
    position, and ``check`` is a one-line command that prints it (a DuckDB query for
    Parquet; ``sed`` or ``python3`` for CSV/TSV, read as ``layout`` says).
    """

    file: str = Field(description="source file as published (path inside the release)")
    bytes: int
    sha256: str
    row: int = Field(description="0-based position of the row in that file")
    url: str = Field(description="the URL exactly as the file has it (before normalising)")
    caption: str | None = None
    check: str | None = Field(
        default=None, description="one-line command printing the row (DuckDB, sed or python3)"
    )
    layout: TextLayout | None = Field(
        default=None, description="how to read a CSV/TSV file's row; None for Parquet"
    )


class EvidenceMatch(_Frozen):
    """One dataset row, listed once, with every search that matched it.

    The top-level ``query``, ``method``, ``measure``... are the most certain of those
    matches; ``matched_by`` lists all of them (a portfolio's files that hit the same row).
    """

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
    matched_by: list[QueryMatch] = Field(default_factory=list)
    download_proof: DownloadProof | None = None
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
    detail: str | None = Field(
        default=None, description="why a file was unreadable, or which rows were left out"
    )
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
        """Searches that found nothing (negative results are evidence too), including
        those that could not search every row (their outcome says so)."""
        return [q for q in self.queries if q.outcome != "found"]

    @property
    def not_found(self) -> list[QueryRecord]:
        """Searches that compared every row and found none: the only true negatives."""
        return [q for q in self.queries if q.outcome == "not found"]

    @property
    def unsearched(self) -> list[QueryRecord]:
        """Searches over rows never fingerprinted (wholly or in part): no absence claimed."""
        return [q for q in self.queries if q.outcome in ("not searched", "partly searched")]
