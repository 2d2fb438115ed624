"""Every reader by format name, and auto-detection of a path's format.

Contract: ``detect_reader(path)`` asks every reader's ``sniff`` (cheap: a parquet footer
schema, a first line, a folder listing) and picks the highest score. A tie at the top is
not guessed -- guessing wrong would silently swap widths or mix up caption and URL --
so it raises ``InputError`` listing the candidates and asking for ``--format``; so does
a path no reader recognises. ``fmt`` (``--format``) skips sniffing; an unknown name
raises ``InputError`` listing the known ones.
"""

from __future__ import annotations

from pathlib import Path

from traindex.errors import InputError
from traindex.ingest.base import DatasetReader, ReaderOptions
from traindex.ingest.coyo import CoyoReader
from traindex.ingest.datacomp import DataCompReader
from traindex.ingest.img2dataset import (
    Img2datasetFilesReader,
    Img2datasetParquetReader,
    Img2datasetWebdatasetReader,
)
from traindex.ingest.laion import Laion2bRawReader, LaionEmbeddingsReader, LaionReader
from traindex.ingest.table import TableReader
from traindex.ingest.tsv import Cc3mReader, Cc12mReader, UrlListReader
from traindex.ingest.yfcc import YfccReader

__all__ = ["READERS", "detect_reader", "sniff_scores"]

READERS: dict[str, type[DatasetReader]] = {
    reader.format: reader
    for reader in (
        LaionReader,
        Laion2bRawReader,
        LaionEmbeddingsReader,
        DataCompReader,
        CoyoReader,
        Cc3mReader,
        Cc12mReader,
        YfccReader,
        UrlListReader,
        Img2datasetParquetReader,
        Img2datasetWebdatasetReader,
        Img2datasetFilesReader,
        TableReader,
    )
}

_TIE = 1e-9


def sniff_scores(path: Path) -> dict[str, float]:
    """Each format's confidence for ``path``, highest first (zeros left out)."""
    scores = {name: reader.sniff(path) for name, reader in READERS.items()}
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    return {name: score for name, score in ranked if score > 0}


def detect_reader(
    path: Path, fmt: str | None = None, options: ReaderOptions | None = None
) -> DatasetReader:
    """The reader for ``path``: ``fmt`` if given, else the single best-sniffing format."""
    if fmt is not None:
        reader = READERS.get(fmt)
        if reader is None:
            known = ", ".join(sorted(READERS))
            raise InputError(f"unknown format {fmt!r}; known formats: {known}")
        return reader(options)
    if not path.exists():
        raise InputError("no such file or folder", path=str(path))
    scores = sniff_scores(path)
    if not scores:
        known = ", ".join(sorted(READERS))
        raise InputError(
            f"cannot tell the dataset format; name it with --format (one of: {known})",
            path=str(path),
        )
    best = max(scores.values())
    top = [name for name, score in scores.items() if best - score < _TIE]
    if len(top) > 1:
        raise InputError(
            f"ambiguous format: {', '.join(top)} fit equally well (score {best:.2f}); "
            "use --format to choose one",
            path=str(path),
        )
    return READERS[top[0]](options)
