"""CC3M / CC12M TSVs built from the real CC3M credits rows, and img2dataset URL lists
(the real ``test_1000.txt`` & co.), including the bad-line rules of ``_lines``."""

from __future__ import annotations

import bz2
import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from traindex.errors import BadRowError, InputError
from traindex.ingest._lines import MAX_LINE_BYTES
from traindex.ingest.base import ReaderOptions
from traindex.ingest.tsv import Cc3mReader, Cc12mReader, UrlListReader

pytestmark = pytest.mark.shared
ReadRows = Callable[..., list[dict[str, Any]]]
CREDITS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images/credits.csv"


@pytest.fixture
def credits(shared_data: Path) -> list[dict[str, str]]:
    with (shared_data / CREDITS).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_cc3m(tmp_path: Path, credits: list[dict[str, str]], read_rows: ReadRows) -> None:
    lines = [f"{c['Title']}\t{c['OriginalURL']}" for c in credits]
    path = _write(tmp_path / "Validation_GCC-1.1.0-Validation.tsv", lines)
    assert Cc3mReader.sniff(path) == pytest.approx(0.8)
    assert Cc12mReader.sniff(path) == 0.0
    rows = read_rows(Cc3mReader(), path)
    assert len(rows) == 18
    assert rows[0]["caption"] == "Fireworks and Morey's Pier in North Wildwood July 2007"
    assert rows[0]["url"] == "https://c2.staticflickr.com/2/1433/946782888_84c5811a41_o.jpg"
    assert [r["source_row"] for r in rows] == list(range(18))


def test_cc3m_img2dataset_header(
    tmp_path: Path, credits: list[dict[str, str]], read_rows: ReadRows
) -> None:
    lines = ["caption\turl", *(f"{c['Title']}\t{c['OriginalURL']}" for c in credits[:3])]
    path = _write(tmp_path / "cc3m.tsv", lines)
    assert Cc3mReader.sniff(path) == pytest.approx(0.9)
    rows = read_rows(Cc3mReader(), path)
    assert [r["source_row"] for r in rows] == [1, 2, 3]


def test_cc12m(tmp_path: Path, credits: list[dict[str, str]], read_rows: ReadRows) -> None:
    lines = [f"{c['OriginalURL']}\t{c['Title']}" for c in credits]
    path = _write(tmp_path / "cc12m.tsv", lines)
    assert (Cc12mReader.sniff(path), Cc3mReader.sniff(path)) == (0.8, 0.0)
    rows = read_rows(Cc12mReader(), path)
    assert rows[1]["url"] == "https://c1.staticflickr.com/4/3930/15240984498_83facecaf7_o.jpg"
    assert rows[1]["caption"] == "Boston - 00201"


def test_compressed_tsv(tmp_path: Path, credits: list[dict[str, str]], read_rows: ReadRows) -> None:
    text = "".join(f"{c['OriginalURL']}\t{c['Title']}\n" for c in credits)
    path = tmp_path / "cc12m.tsv.bz2"
    path.write_bytes(bz2.compress(text.encode()))
    assert Cc12mReader.sniff(path) == pytest.approx(0.8)
    assert len(read_rows(Cc12mReader(), path)) == 18


def test_bad_lines(tmp_path: Path, credits: list[dict[str, str]], read_rows: ReadRows) -> None:
    good = [f"{c['Title']}\t{c['OriginalURL']}".encode() for c in credits[:4]]
    huge = b"caption\thttps://example.com/" + b"a" * 100_000 + b".jpg"
    lines = [good[0], b"no tab here", good[1], b"caf\xe9\t" + good[2].split(b"\t")[1], huge, b""]
    path = tmp_path / "cc3m.tsv"
    path.write_bytes(b"\r\n".join([*lines, good[3]]) + b"\r\n")
    with pytest.raises(BadRowError, match="expected 2 tab-separated columns, found 1") as info:
        read_rows(Cc3mReader(), path)
    assert (info.value.row, info.value.path) == (1, str(path))
    rejected: list[BadRowError] = []
    rows = read_rows(Cc3mReader(ReaderOptions(on_bad_row=rejected.append)), path)
    assert [(e.row, "UTF-8" in str(e)) for e in rejected] == [(1, False), (3, True)]
    assert [r["source_row"] for r in rows] == [0, 2, 4, 6]
    assert len(rows[2]["url"]) > 100_000  # kept whole; URL policy is normalise's job
    assert not rows[1]["url"].endswith("\r")


def test_overlong_line_is_skipped_not_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_rows: ReadRows
) -> None:
    monkeypatch.setattr("traindex.ingest._lines.MAX_LINE_BYTES", 64)
    path = tmp_path / "cc12m.tsv"
    path.write_text("http://a.example/1.jpg\tone\nhttp://a.example/" + "x" * 500 + "\ttwo\n")
    rejected: list[BadRowError] = []
    rows = read_rows(Cc12mReader(ReaderOptions(on_bad_row=rejected.append)), path)
    assert [r["caption"] for r in rows] == ["one"]
    assert rejected[0].row == 1
    assert "longer than 64 bytes" in str(rejected[0])
    assert MAX_LINE_BYTES == 1 << 24


def test_empty_tsv(tmp_path: Path) -> None:
    path = tmp_path / "cc3m.tsv"
    path.write_bytes(b"")
    reader = Cc3mReader()
    with pytest.raises(InputError, match="empty file") as info:
        list(reader.batches(reader.sources(path)[0], 10))
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("name", "count", "odd"),
    [
        ("test_1000.txt", 1000, []),
        # a real LAION row whose URL field holds an NSFW tag: kept, normalise rejects it
        ("test_10000.txt", 10000, [(3053, "UNLIKELY")]),
        ("unique_images.txt", 54, []),
    ],
)
def test_url_lists(
    shared_data: Path, read_rows: ReadRows, name: str, count: int, odd: list[tuple[int, str]]
) -> None:
    path = shared_data / "img2dataset/tests/test_files" / name
    rows = read_rows(UrlListReader(), path, batch_rows=4096)
    assert len(rows) == count
    assert [(r["source_row"], r["url"]) for r in rows if not r["url"].startswith("http")] == odd
    assert all(r["caption"] is None for r in rows)


def test_url_list_matches_parquet(shared_data: Path, read_rows: ReadRows) -> None:
    folder = shared_data / "img2dataset/tests/test_files"
    rows = read_rows(UrlListReader(), folder / "test_1000.txt", batch_rows=1000)
    assert rows[1]["url"].startswith("http://t03.deviantart.net/3pw5NfZBHaCUyrk6y8e0uiOpm7o=")
    single = read_rows(UrlListReader(), folder / "sample_image.txt")  # no final newline
    assert [r["url"] for r in single] == [
        "https://raw.githubusercontent.com/rom1504/img2dataset/main/tests/blur_test_files/original.png"
    ]
