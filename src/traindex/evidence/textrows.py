"""Rows of CSV/TSV source files read back by position, with ingest's numbering rules.

A report names each CSV/TSV row with a ``TextLayout`` (how its file is read) and a
one-line ``sed``/``python3`` command that prints it, so anyone with the published file
can see the row without traindex. ``read_rows`` is the same reading in code:

* ``lines`` formats (``ingest.tsv``: CC3M, CC12M, URL lists) are read with ingest's own
  ``iter_lines``, so a row is the physical line ingest numbered, whatever the file holds;
* ``records`` tables (``ingest.table``, read by pyarrow at ingest) are read with Python's
  ``csv`` module, exactly as the printed one-liner does, so the command a third party
  runs and ``verify`` agree; a property test holds both to pyarrow's numbering.
"""

from __future__ import annotations

import csv
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from traindex.errors import BadRowError
from traindex.evidence.model import TextLayout
from traindex.ingest._lines import iter_lines
from traindex.ingest.base import ReaderOptions
from traindex.ingest.columns import resolve_columns
from traindex.ingest.table import NULL_CELLS, TableReader
from traindex.ingest.tsv import Cc3mReader, Cc12mReader, UrlListReader

__all__ = ["FileRow", "layout_of", "read_rows", "text_check"]

# field order of each line format, from the readers themselves
_LINE_FIELDS = {
    Cc3mReader.format: Cc3mReader.order,
    Cc12mReader.format: Cc12mReader.order,
    UrlListReader.format: UrlListReader.header,
}
_COMPRESSION: dict[str, Literal["gzip", "bz2"]] = {".gz": "gzip", ".bz2": "bz2"}
_UNPACK = {"gzip": "zcat", "bz2": "bzcat"}


@dataclass(frozen=True, slots=True)
class FileRow:
    """A row's URL and caption as the published file holds them."""

    url: str
    caption: str | None
    has_caption: bool


def layout_of(fmt: str, shard: str, columns: dict[str, str]) -> TextLayout | None:
    """How ingest read ``shard`` of a release in format ``fmt``; ``None`` when it is not a
    CSV/TSV file whose rows can be read back by position (Parquet, tar shards, YFCC)."""
    suffix = PurePosixPath(shard.lower()).suffix
    if fmt in _LINE_FIELDS:
        fields = _LINE_FIELDS[fmt]
        return TextLayout(
            rows="lines",
            delimiter="\t",
            header=False,
            compression=_COMPRESSION.get(suffix),
            cells={name: i for i, name in enumerate(fields)},
        )
    if fmt == TableReader.format and suffix in (".csv", ".tsv"):
        tsv = suffix == ".tsv"
        return TextLayout(
            rows="records",
            delimiter="\t" if tsv else ",",
            quote=None if tsv else '"',
            header=True,
            columns=columns,
        )
    return None


def text_check(file: str, row: int, layout: TextLayout) -> str:
    """The one-line shell command that prints row ``row`` of ``file`` as ``layout`` reads it."""
    name = shlex.quote(PurePosixPath(file).name)
    if layout.rows == "lines":
        show = f"sed -n '{row + 1}{{p;q;}}'"
        unpack = _UNPACK.get(layout.compression or "")
        return f"{unpack} {name} | {show}" if unpack else f"{show} {name}"
    quoting = "" if layout.quote else ",quoting=csv.QUOTE_NONE"  # csv's default quote is "
    delimiter = "\\t" if layout.delimiter == "\t" else layout.delimiter
    script = (
        "import csv,itertools,sys; "
        'f=open(sys.argv[1],newline="",encoding="utf-8-sig"); '
        f'r=(x for x in csv.reader(f,delimiter="{delimiter}"{quoting}) if x); '
        f"next(r); print(next(itertools.islice(r,{row},None)))"
    )
    return f"python3 -c '{script}' {name}"


def _ignore(error: BadRowError) -> None:
    del error  # a bad line elsewhere in the file keeps its number and is not a cited row


def _line_cells(path: Path, layout: TextLayout) -> Iterator[tuple[int, list[str]]]:
    for number, text in iter_lines(path, ReaderOptions(on_bad_row=_ignore)):
        yield number, text.split(layout.delimiter)


def _records(path: Path, layout: TextLayout) -> Iterator[tuple[int, list[str]]]:
    """The header as record -1, then the data records; blank lines are not records."""
    quoting: Literal[0, 3] = csv.QUOTE_MINIMAL if layout.quote else csv.QUOTE_NONE
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(
            fh, delimiter=layout.delimiter, quotechar=layout.quote or '"', quoting=quoting
        )
        yield from enumerate((r for r in reader if r), start=-1)


def read_rows(path: Path, layout: TextLayout, rows: set[int]) -> dict[int, FileRow]:
    """The URL and caption of each of ``rows`` that ``path`` has (stops after the last)."""
    if layout.rows == "lines":
        fields, cells = layout.cells, _line_cells(path, layout)
    else:
        cells = _records(path, layout)
        _, header = next(cells, (-1, []))
        columns = resolve_columns(header, path=str(path), overrides=layout.columns)
        fields = {field: header.index(name) for field, name in columns.items()}
    found: dict[int, FileRow] = {}
    last = max(rows, default=-1)
    for number, values in cells:
        if number > last:
            break
        if number in rows:
            found[number] = _row(values, fields, layout)
    return found


def _row(values: list[str], fields: dict[str, int], layout: TextLayout) -> FileRow:
    def cell(name: str) -> str | None:
        at = fields.get(name)
        value = values[at] if at is not None and at < len(values) else None
        return None if layout.rows == "records" and value in NULL_CELLS else value

    url = cell("url") or ""
    # line readers strip the URL; tables keep the cell as it is
    return FileRow(
        url.strip() if layout.rows == "lines" else url, cell("caption"), "caption" in fields
    )
