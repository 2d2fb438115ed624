"""Typed errors. Each says what went wrong and where (file, row, column)."""

from __future__ import annotations

__all__ = [
    "BadRowError",
    "DatasetNotFoundError",
    "InputError",
    "RateLimitedError",
    "TraindexError",
]


class TraindexError(Exception):
    """Base class: anything traindex raises on purpose, with a message fit for a user."""


class InputError(TraindexError):
    """The input cannot be read as asked: names the file and, where known, row and column."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = path
        self.row = row
        self.column = column
        where = ", ".join(
            part
            for part in (
                f"file {path}" if path is not None else "",
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column is not None else "",
            )
            if part
        )
        super().__init__(f"{message} ({where})" if where else message)


class BadRowError(InputError):
    """One row is unusable; ingest logs and skips it (``--skip-bad-rows``, the CLI default)
    or, with ``--strict`` (the library's default), fails on it."""


class RateLimitedError(TraindexError):
    """A client used up its share (registry writes, expensive searches, face searches);
    ``retry_after`` seconds until it may try again. Every surface answers HTTP 429."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DatasetNotFoundError(TraindexError):
    """No ingested release has that name."""
