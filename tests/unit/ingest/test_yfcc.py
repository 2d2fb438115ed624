"""YFCC100M reader on lines in the official 25- and 23-column layouts, filled with the
real Flickr photos of the CC3M credits (no public YFCC line sample exists)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from traindex.errors import BadRowError
from traindex.ingest.base import ReaderOptions
from traindex.ingest.yfcc import YfccReader

pytestmark = pytest.mark.shared
ReadRows = Callable[..., list[dict[str, Any]]]
CREDITS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images/credits.csv"
BY_20 = "Attribution License"
BY_20_URL = "http://creativecommons.org/licenses/by/2.0/"


def _cells(credit: dict[str, str], number: int, marker: str = "0") -> list[str]:
    photo_id = credit["OriginalLandingURL"].rstrip("/").rsplit("/", 1)[1]
    owner = credit["OriginalLandingURL"].split("/photos/")[1].split("/")[0]
    return [
        str(number),
        photo_id,
        f"{number:032x}",
        owner,
        quote_plus(credit["Author"]),
        "2010-06-01 10:00:00.0",
        "1275386400",
        "Canon+EOS+40D",
        quote_plus(credit["Title"]),
        "a+description",
        "oil,forum",
        "",
        "-90.1",
        "30.4",
        "12",
        credit["OriginalLandingURL"] + "/",
        credit["OriginalURL"],
        BY_20,
        BY_20_URL,
        "1268",
        "1",
        "b1a43fd2d4",
        "b1a43fd2d4",
        "jpg",
        marker,
    ]


@pytest.fixture
def credits(shared_data: Path) -> list[dict[str, str]]:
    with (shared_data / CREDITS).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_25_columns(tmp_path: Path, credits: list[dict[str, str]], read_rows: ReadRows) -> None:
    lines = [_cells(c, i) for i, c in enumerate(credits)]
    lines[2][-1] = "1"  # a video: not a row
    path = _write(tmp_path / "yfcc100m_dataset", lines)
    assert YfccReader.sniff(path) == pytest.approx(0.9)
    assert [s.relpath for s in YfccReader().sources(tmp_path)] == ["yfcc100m_dataset"]
    rows = read_rows(YfccReader(), path)
    assert len(rows) == 17
    assert 2 not in [r["source_row"] for r in rows]
    louisiana = next(r for r in rows if r["flickr_photo_id"] == 4662802031)
    assert louisiana["flickr_owner"] == "88158121@N00"
    assert louisiana["author"] == "Louisiana Sea Grant College Program Louisiana State University"
    assert louisiana["caption"] == "St. Tammany Oil Spill Forum 06.01.2010 029"
    assert louisiana["url"] == "https://farm1.staticflickr.com/1268/4662802031_b1a43fd2d4_o.jpg"
    assert (louisiana["license"], louisiana["license_url"]) == (BY_20, BY_20_URL)
    assert louisiana["key"] == "4662802031"
    extra = json.loads(louisiana["extra"])
    assert extra["page_url"] == "https://www.flickr.com/photos/88158121@N00/4662802031/"
    assert (extra["description"], extra["device"]) == ("a description", "Canon EOS 40D")
    assert extra["photo_hash"] == f"{louisiana['source_row']:032x}"


def test_23_columns(tmp_path: Path, credits: list[dict[str, str]], read_rows: ReadRows) -> None:
    lines = [[c for i, c in enumerate(_cells(credit, 0)) if i not in {0, 2}] for credit in credits]
    path = _write(tmp_path / "yfcc100m_2014.tsv", lines)
    rows = read_rows(YfccReader(), path)
    assert len(rows) == 18
    assert rows[0]["flickr_photo_id"] == 946782888
    assert rows[0]["caption"] == "Fireworks and Morey's Pier in North Wildwood July 2007"


def test_bad_photo_id(tmp_path: Path, credits: list[dict[str, str]], read_rows: ReadRows) -> None:
    lines = [_cells(c, i) for i, c in enumerate(credits[:3])]
    lines[1][1] = "12x4"
    path = _write(tmp_path / "yfcc.tsv", lines)
    with pytest.raises(BadRowError, match="photo id is not a number") as info:
        read_rows(YfccReader(), path)
    assert (info.value.row, info.value.column) == (1, "photo id")
    rejected: list[BadRowError] = []
    rows = read_rows(YfccReader(ReaderOptions(on_bad_row=rejected.append)), path)
    assert [r["source_row"] for r in rows] == [0, 2]
