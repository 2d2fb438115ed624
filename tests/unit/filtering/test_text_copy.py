"""``filter`` on CSV/TSV inputs copies the file verbatim except removed rows: the records it
copies must be numbered exactly as ingest's table reader numbers the rows it decided on,
or the wrong row would go. Checked as a property over files with quoted delimiters, line
breaks inside cells, blank lines and CRLF endings."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traindex.filtering.deciders import Columns, Decider, Removal
from traindex.filtering.formats import LogSink, filter_text
from traindex.ingest.detect import detect_reader

_PROPERTY = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_CSV_CELL = st.lists(st.sampled_from([*"ab ,\"\nNA'é", "\r\n"]), max_size=6).map("".join)
_TSV_CELL = st.text(alphabet=st.sampled_from(list("ab ,\"'NAé")), max_size=6)


class _DropUrls(Decider):
    """Removes the rows whose URL is listed (a unit-test decider: no registry)."""

    def __init__(self, urls: set[str]) -> None:
        self.urls = urls

    def decide(self, columns: Columns) -> list[Removal | None]:
        return [
            Removal("claim", "remove", "test", verified=True) if url in self.urls else None
            for url in columns.url.to_pylist()
        ]


def _rows(path: Path) -> list[tuple[int, str | None, str | None]]:
    """(source_row, url, caption) as ingest reads ``path`` (the format it detects)."""
    reader = detect_reader(path)
    [source] = reader.sources(path)
    return [
        (r["source_row"], r["url"], r["caption"])
        for batch in reader.batches(source, 3)
        for r in batch.select(["source_row", "url", "caption"]).to_pylist()
    ]


def _write(path: Path, rows: list[tuple[str, str]], blanks: list[int], end: str) -> None:
    lines = [["url", "caption"], *rows]
    if path.suffix == ".tsv":  # TSV cells hold no tab or line break: joined as they are
        records = ["\t".join(cells) + end for cells in lines]
    else:
        records = []
        for cells in lines:
            out = io.StringIO()
            csv.writer(out, lineterminator=end).writerow(cells)
            records.append(out.getvalue())
    gaps = [end * blanks[i % len(blanks)] if blanks and i > 1 else "" for i in range(len(lines))]
    path.write_bytes("".join(g + r for g, r in zip(gaps, records, strict=True)).encode("utf-8"))


def _filtered(tmp: Path, name: str, drop: set[str]) -> tuple[Path, Path]:
    src, dst, log_path = tmp / name, tmp / f"out-{name}", tmp / f"{name}.log.parquet"
    log = LogSink(log_path, name)
    filter_text(src, dst, _DropUrls(drop), log, batch_rows=3, fmt=None, overrides=None,
                progress=lambda n: None)  # fmt: skip
    log.close()
    return dst, log_path


def _check(tmp: Path, name: str, rows: list[tuple[str, str]], drop: set[int]) -> None:
    urls = {rows[i][0] for i in drop}
    before = _rows(tmp / name)
    dst, log_path = _filtered(tmp, name, urls)
    assert [r[1:] for r in _rows(dst)] == [r[1:] for r in before if r[1] not in urls]
    logged = pq.read_table(log_path).to_pylist()
    assert sorted(r["row"] for r in logged) == [r[0] for r in before if r[1] in urls]


@_PROPERTY
@given(
    captions=st.lists(_CSV_CELL, max_size=10),
    blanks=st.lists(st.integers(0, 2), max_size=3),
    end=st.sampled_from(["\n", "\r\n"]),
    drop=st.sets(st.integers(0, 9), max_size=5),
)
def test_csv_filter_removes_the_rows_ingest_numbered(
    tmp_path: Path, captions: list[str], blanks: list[int], end: str, drop: set[int]
) -> None:
    rows = [(f"https://example.org/{i}.jpg", caption) for i, caption in enumerate(captions)]
    _write(tmp_path / "rows.csv", rows, blanks, end)
    _check(tmp_path, "rows.csv", rows, {i for i in drop if i < len(rows)})


@_PROPERTY
@given(
    captions=st.lists(_TSV_CELL, max_size=10),
    blanks=st.lists(st.integers(0, 2), max_size=3),
    end=st.sampled_from(["\n", "\r\n"]),
    drop=st.sets(st.integers(0, 9), max_size=5),
)
def test_tsv_filter_removes_the_rows_ingest_numbered(
    tmp_path: Path, captions: list[str], blanks: list[int], end: str, drop: set[int]
) -> None:
    rows = [(f"https://example.org/{i}.jpg", caption) for i, caption in enumerate(captions)]
    _write(tmp_path / "rows.tsv", rows, blanks, end)
    _check(tmp_path, "rows.tsv", rows, {i for i in drop if i < len(rows)})


def test_quoted_line_break_row_is_removed_whole(tmp_path: Path) -> None:
    """The example the property generalises: a caption spanning two lines, removed."""
    rows = [("https://a.example/1.jpg", "one\ntwo"), ("https://a.example/2.jpg", "three")]
    _write(tmp_path / "rows.csv", rows, [], "\n")
    dst, _ = _filtered(tmp_path, "rows.csv", {"https://a.example/1.jpg"})
    assert dst.read_text(encoding="utf-8") == "url,caption\nhttps://a.example/2.jpg,three\n"
