"""Deliverable 7 at the reader level: broken copies of real parquet files, empty files and
renamed columns each give an ``InputError`` naming the file (and row/column if known)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from traindex.errors import InputError
from traindex.ingest._parquet import ParquetReader
from traindex.ingest.coyo import CoyoReader
from traindex.ingest.img2dataset import Img2datasetParquetReader
from traindex.ingest.laion import LaionReader
from traindex.ingest.table import TableReader

pytestmark = pytest.mark.shared
TEST_10000 = "img2dataset/tests/test_files/test_10000.parquet"


def _drain(reader: ParquetReader, path: Path) -> int:
    return sum(b.num_rows for s in reader.sources(path) for b in reader.batches(s, 1000))


@pytest.fixture
def broken(shared_data: Path, tmp_path: Path) -> Path:
    path = tmp_path / "part-00000.parquet"
    shutil.copy(shared_data / TEST_10000, path)
    return path


def test_truncated_parquet(broken: Path) -> None:
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="not a readable parquet file") as info:
        _drain(LaionReader(), broken)
    assert info.value.path == str(broken)


def test_corrupt_pages(broken: Path) -> None:
    data = bytearray(broken.read_bytes())
    middle = len(data) // 2
    data[100:middle] = bytes(middle - 100)
    broken.write_bytes(bytes(data))
    with pytest.raises(InputError, match="corrupt parquet data") as info:
        _drain(LaionReader(), broken)
    assert (info.value.path, info.value.row) == (str(broken), 0)


def test_empty_parquet(tmp_path: Path) -> None:
    path = tmp_path / "00000.parquet"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="empty file") as info:
        _drain(Img2datasetParquetReader(), path)
    assert str(path) in str(info.value)


def test_renamed_url_column(broken: Path) -> None:
    table = pq.read_table(broken).rename_columns(["LINK", "TEXT", "__index_level_0__"])
    pq.write_table(table, broken)
    with pytest.raises(InputError, match="no url column found") as info:
        _drain(TableReader(), broken)
    message = str(info.value)
    assert "LINK" in message
    assert "--columns url=COLUMN" in message
    assert str(broken) in message
    assert info.value.column == "url"


def test_missing_column_in_known_format(generated: Path, tmp_path: Path) -> None:
    source = generated / "coyo-700m-readme-preview/coyo700m_readme_preview.parquet"
    table = pq.read_table(source).drop_columns(["url"])
    path = tmp_path / "coyo.parquet"
    pq.write_table(table, path)
    with pytest.raises(InputError, match=r"no url column found.*image_phash"):
        _drain(CoyoReader(), path)
