"""``SourceFile`` for files and shard folders, and ``to_raw_batch`` casting rules."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pytest

from traindex.errors import InputError
from traindex.ingest.base import RAW_SCHEMA, SourceFile, to_raw_batch


def test_source_file_and_folder(tmp_path: Path) -> None:
    shard = tmp_path / "out" / "00000"
    shard.mkdir(parents=True)
    (shard / "000000.json").write_bytes(b"{}")
    (shard / "000000.jpg").write_bytes(b"\xff\xd8\xff")
    folder = SourceFile.of(shard, tmp_path)
    assert (folder.relpath, folder.size, folder.root) == ("out/00000", 5, tmp_path)
    before = folder.sha256()
    (shard / "000001.txt").write_bytes(b"")
    assert SourceFile.of(shard, tmp_path).sha256() != before
    single = SourceFile.of(shard / "000000.jpg", shard / "000000.jpg")
    assert (single.relpath, single.root) == ("000000.jpg", shard)
    assert single.sha256() == hashlib.sha256(b"\xff\xd8\xff").hexdigest()


def test_casts_text_numbers_and_keeps_extra() -> None:
    batch = pa.table(
        {
            "URL": ["http://a.example/1.jpg", "http://a.example/2.jpg"],
            "W": [" 640 ", ""],
            "jpg": pa.array([b"x", b"y"], pa.binary()),
            "note": ["a", None],
        }
    )
    raw = to_raw_batch(batch, {"url": "URL", "width": "W"}, 10)
    assert raw.schema == RAW_SCHEMA
    rows = raw.to_pylist()
    assert [(r["source_row"], r["width"]) for r in rows] == [(10, 640), (11, None)]
    assert rows[0]["extra"] == '{"note": "a"}'  # binary image bytes left out


def test_bad_number_names_row_and_column() -> None:
    batch = pa.table({"url": ["u1", "u2", "u3"], "w": ["1", "2", "wide"]})
    with pytest.raises(InputError, match="not a number") as info:
        to_raw_batch(batch, {"url": "url", "width": "w"}, 100, path="f.csv")
    assert (info.value.path, info.value.row, info.value.column) == ("f.csv", 102, "w")
