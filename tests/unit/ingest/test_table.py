"""``table`` on the real CC3M competition credits.csv (Open Images credit format), the
img2dataset input parquet with a ``--columns`` mapping, and broken CSVs built from them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from traindex.errors import BadRowError, InputError
from traindex.ingest.base import ReaderOptions
from traindex.ingest.columns import parse_column_spec
from traindex.ingest.table import TableReader

pytestmark = pytest.mark.shared
ReadRows = Callable[..., list[dict[str, Any]]]
CREDITS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images/credits.csv"


def test_credits_csv(shared_data: Path, read_rows: ReadRows) -> None:
    rows = read_rows(TableReader(), shared_data / CREDITS)
    assert len(rows) == 18
    first = rows[0]
    assert first["key"] == "0006400c1c224e19"
    assert first["url"] == "https://c2.staticflickr.com/2/1433/946782888_84c5811a41_o.jpg"
    assert first["caption"] == "Fireworks and Morey's Pier in North Wildwood July 2007"
    assert first["author"] == "sneakerdog"
    assert first["license"] == "https://creativecommons.org/licenses/by/2.0/"
    assert first["md5"] == "pDSYaFytmWu7/qeVPjoryQ=="
    assert first["flickr_owner"] == "https://www.flickr.com/people/sneakerdog/"
    extra = json.loads(first["extra"])
    assert extra["OriginalLandingURL"] == "https://www.flickr.com/photos/sneakerdog/946782888"
    assert [r["source_row"] for r in rows] == list(range(18))


def test_columns_mapping_wins(img2dataset_out: Path, read_rows: ReadRows) -> None:
    options = ReaderOptions(columns=parse_column_spec("url=flickr_url,caption=caption"))
    rows = read_rows(TableReader(options), img2dataset_out / "input.parquet")
    assert len(rows) == 20
    assert rows[0]["url"] == "https://c2.staticflickr.com/2/1433/946782888_84c5811a41_o.jpg"
    assert "http://127.0.0.1:18765/0006400c1c224e19.jpg" in rows[0]["extra"]


def test_mapping_to_missing_column(img2dataset_out: Path) -> None:
    reader = TableReader(ReaderOptions(columns={"url": "PhotoURL"}))
    with pytest.raises(InputError, match="PhotoURL") as info:
        next(reader.batches(reader.sources(img2dataset_out / "input.parquet")[0], 10))
    assert "flickr_url" in str(info.value)  # lists the columns that exist


def _credits_lines(shared_data: Path) -> list[bytes]:
    return (shared_data / CREDITS).read_bytes().splitlines(keepends=True)


def test_wrong_cell_count(shared_data: Path, tmp_path: Path, read_rows: ReadRows) -> None:
    lines = _credits_lines(shared_data)
    lines[3] = lines[3].rstrip(b"\n") + b",surplus\n"
    path = tmp_path / "credits.csv"
    path.write_bytes(b"".join(lines))
    with pytest.raises(BadRowError, match="expected 12 columns, found 13") as info:
        read_rows(TableReader(), path)
    assert (info.value.row, info.value.path) == (2, str(path))
    rejected: list[BadRowError] = []
    rows = read_rows(TableReader(ReaderOptions(on_bad_row=rejected.append)), path)
    assert [e.row for e in rejected] == [2]
    assert [r["source_row"] for r in rows] == [0, 1, *range(3, 18)]
    assert rows[2]["key"] == lines[4].split(b",")[0].decode()


def test_not_utf8(shared_data: Path, tmp_path: Path, read_rows: ReadRows) -> None:
    lines = _credits_lines(shared_data)
    lines[5] = lines[5].replace(b"train", b"tr\xffin", 1)
    path = tmp_path / "credits.csv"
    path.write_bytes(b"".join(lines))
    with pytest.raises(InputError, match="not UTF-8") as info:
        read_rows(TableReader(), path)
    assert (info.value.row, info.value.path) == (4, str(path))


def test_not_a_number(shared_data: Path, tmp_path: Path, read_rows: ReadRows) -> None:
    path = tmp_path / "sizes.csv"
    path.write_text(
        "url,width,height\nhttp://a.example/1.jpg,640,480\nhttp://a.example/2.jpg,wide,1\n"
    )
    with pytest.raises(InputError, match="not a number") as info:
        read_rows(TableReader(), path)
    assert (info.value.row, info.value.column) == (1, "width")


def test_tsv_with_header(tmp_path: Path, read_rows: ReadRows) -> None:
    path = tmp_path / "list.tsv"
    path.write_text('URL\tTEXT\nhttp://a.example/1.jpg\tsays "hi", twice\n')
    rows = read_rows(TableReader(), path)
    assert rows[0]["caption"] == 'says "hi", twice'


def test_empty_csv(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    reader = TableReader()
    with pytest.raises(InputError, match="empty file") as info:
        next(reader.batches(reader.sources(path)[0], 10))
    assert str(path) in str(info.value)


@pytest.mark.parametrize("word", ["NA", "N/A", "null", "NULL", "NaN", "nan", "#N/A", "None"])
def test_words_that_look_missing_stay_text(
    shared_data: Path, tmp_path: Path, read_rows: ReadRows, word: str
) -> None:
    """A caption or author that is literally "NA" or "null" is text the release holds:
    only an empty cell is missing (pyarrow's default null words would drop them)."""
    lines = _credits_lines(shared_data)
    header = next(csv.reader([lines[0].decode()]))
    cells = next(csv.reader([lines[1].decode()]))
    cells[header.index("Title")] = word
    cells[header.index("Author")] = ""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    path = tmp_path / "credits.csv"
    path.write_bytes(lines[0] + out.getvalue().encode())
    [row] = read_rows(TableReader(), path)
    assert row["caption"] == word
    assert row["author"] is None
