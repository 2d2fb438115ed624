"""Row numbering of ingest's CSV/TSV readers and of ``report verify`` agree, on generated
files with quotes, embedded delimiters and newlines, blank lines, a header or none; the
printed one-line command prints the same row."""

from __future__ import annotations

import ast
import csv
import gzip
import io
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traindex.errors import BadRowError
from traindex.evidence.model import TextLayout
from traindex.evidence.textrows import FileRow, layout_of, read_rows, text_check
from traindex.ingest.base import DatasetReader, ReaderOptions, SourceFile
from traindex.ingest.table import TableReader
from traindex.ingest.tsv import Cc3mReader, Cc12mReader, UrlListReader

_PROPERTY = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# cells with what trips readers: delimiters, quotes, line breaks, spaces, "NA" (a lone CR
# is left out: csv.writer does not quote it under a "\n" line end, so the file breaks)
_CELL = st.lists(st.sampled_from([*"ab ,\t\"\nNA'é", "\r\n"]), max_size=8).map("".join)
_TSV_CELL = st.text(alphabet=st.sampled_from(list("ab ,\"'NAé")), max_size=8)


_NONE: frozenset[int] = frozenset()


def _ingested(reader: DatasetReader, path: Path, has_caption: bool = True) -> dict[int, FileRow]:
    rows: dict[int, FileRow] = {}
    for batch in reader.batches(SourceFile.of(path, path), 4):
        for r in batch.select(["source_row", "url", "caption"]).to_pylist():
            rows[r["source_row"]] = FileRow(r["url"], r["caption"], has_caption)
    return rows


def _with_blanks(lines: list[str], blanks: list[int], end: str) -> str:
    out: list[str] = []
    for i, line in enumerate(lines):
        out.extend([""] * blanks[i % len(blanks)] if i and blanks else [])
        out.append(line)
    return "".join(line + end for line in out)


def _agree(
    reader: DatasetReader, path: Path, layout: TextLayout, rows: int, bad: frozenset[int] = _NONE
) -> None:
    has_caption = layout.rows == "records" or "caption" in layout.cells
    ingested = _ingested(reader, path, has_caption)
    assert len(ingested) == rows - len(bad)
    assert read_rows(path, layout, set(ingested)) == ingested
    if layout.rows == "records":  # no record that ingest did not number either
        assert set(read_rows(path, layout, set(range(rows + 3)))) == set(ingested) | bad


@_PROPERTY
@given(
    cells=st.lists(st.tuples(_CELL, _CELL, _CELL), max_size=12),
    blanks=st.lists(st.integers(0, 2), max_size=4),
    end=st.sampled_from(["\n", "\r\n"]),
    mapped=st.booleans(),
    short=st.sets(st.integers(0, 11), max_size=3),
)
def test_csv_records_numbered_alike(
    tmp_path: Path,
    cells: list[tuple[str, str, str]],
    blanks: list[int],
    end: str,
    mapped: bool,
    short: set[int],
) -> None:
    """Rows with a cell too few are rejected (--skip-bad-rows) but keep their numbers."""
    header = ["Link", "Text", "other"] if mapped else ["url", "caption", "other"]
    columns = {"url": "Link", "caption": "Text"} if mapped else {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=end)
    writer.writerow(header)
    lines = [out.getvalue().removesuffix(end)]
    for i, (url, caption, other) in enumerate(cells):
        out = io.StringIO()
        record = [f"http://h/{url}", caption, other][: 2 if i in short else 3]
        csv.writer(out, lineterminator=end).writerow(record)
        lines.append(out.getvalue().removesuffix(end))
    path = tmp_path / "table.csv"
    path.write_bytes(_with_blanks(lines, blanks, end).encode())
    layout = layout_of("table", path.name, columns)
    assert layout is not None
    assert (layout.rows, layout.header) == ("records", True)
    rejected: list[BadRowError] = []
    reader = TableReader(ReaderOptions(columns=columns, on_bad_row=rejected.append))
    bad = frozenset(i for i in short if i < len(cells))
    _agree(reader, path, layout, len(cells), bad)
    assert {e.row for e in rejected} == bad


@_PROPERTY
@given(
    cells=st.lists(st.tuples(_TSV_CELL, _TSV_CELL), max_size=12),
    blanks=st.lists(st.integers(0, 2), max_size=4),
)
def test_tsv_table_records_numbered_alike(
    tmp_path: Path, cells: list[tuple[str, str]], blanks: list[int]
) -> None:
    lines = ["url\tcaption", *(f"http://h/{u}\t{c}" for u, c in cells)]
    path = tmp_path / "table.tsv"
    path.write_text(_with_blanks(lines, blanks, "\n"), encoding="utf-8")
    layout = layout_of("table", path.name, {})
    assert layout is not None
    assert layout.quote is None
    _agree(TableReader(), path, layout, len(cells))


_LINE_READERS: dict[str, tuple[DatasetReader, tuple[str, ...]]] = {
    "cc3m": (Cc3mReader(), Cc3mReader.order),
    "cc12m": (Cc12mReader(), Cc12mReader.order),
    "urls": (UrlListReader(), UrlListReader.header),
}


@_PROPERTY
@given(
    cells=st.lists(st.tuples(_TSV_CELL, _TSV_CELL), min_size=1, max_size=12),
    blanks=st.lists(st.integers(0, 2), max_size=4),
    header=st.booleans(),
    kind=st.sampled_from(sorted(_LINE_READERS)),
    packed=st.booleans(),
)
def test_headerless_lines_numbered_alike(
    tmp_path: Path,
    cells: list[tuple[str, str]],
    blanks: list[int],
    header: bool,
    kind: str,
    packed: bool,
) -> None:
    reader, fields = _LINE_READERS[kind]
    # the readers strip the URL, so it gets a trailing space
    values = [{"url": f"http://h/{u} ", "caption": c} for u, c in cells]
    lines = ["\t".join(fields)] * header + ["\t".join(v[f] for f in fields) for v in values]
    text = _with_blanks(lines, blanks, "\n").encode()
    path = tmp_path / ("cc.tsv.gz" if packed else "cc.tsv")
    path.write_bytes(gzip.compress(text) if packed else text)
    layout = layout_of(reader.format, path.name, {})
    assert layout is not None
    assert (layout.rows, layout.header, layout.compression) == (
        "lines", False, "gzip" if packed else None,
    )  # fmt: skip
    _agree(reader, path, layout, len(cells))


@settings(max_examples=10, deadline=None)
@given(
    cells=st.lists(st.tuples(_CELL, _CELL), min_size=1, max_size=6),
    pick=st.integers(0, 5),
)
def test_printed_python_check_prints_the_row(
    tmp_path_factory: pytest.TempPathFactory, cells: list[tuple[str, str]], pick: int
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["url", "caption"])
    writer.writerows([f"http://h/{u}", c] for u, c in cells)
    folder = tmp_path_factory.mktemp("check")
    path = folder / "it's a table.csv"  # a name the shell must quote
    path.write_text(out.getvalue().replace("\n", "\n\n", 1), encoding="utf-8")
    layout = layout_of("table", path.name, {})
    assert layout is not None
    row = pick % len(cells)
    command = text_check(path.name, row, layout)
    printed = subprocess.run(
        ["sh", "-c", command], cwd=folder, capture_output=True, text=True, check=True
    ).stdout
    assert ast.literal_eval(printed) == [f"http://h/{cells[row][0]}", cells[row][1]]


def test_printed_sed_check_prints_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cc3m.tsv"
    path.write_text("caption\turl\n\nfirst\thttp://h/1\nsecond\thttp://h/2\n", encoding="utf-8")
    layout = layout_of(Cc3mReader.format, path.name, {})
    assert layout is not None
    [(row, _)] = [(r, v) for r, v in _ingested(Cc3mReader(), path).items() if v.caption == "second"]
    printed = subprocess.run(
        ["sh", "-c", text_check(path.name, row, layout)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed == "second\thttp://h/2\n"
