"""Catalog fixtures: small real-row releases built in a temporary home."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from traindex.config import Settings


@pytest.fixture
def small_settings(tmp_path: Path) -> Settings:
    """Tiny row groups and batches so multi-group and multi-batch paths run on small data."""
    return Settings(home=tmp_path / "home", batch_rows=300, row_group_rows=128)


@pytest.fixture
def laion_rows(shared_data: Path) -> pa.Table:
    return pq.read_table(shared_data / "img2dataset/tests/test_files/test_10000.parquet")


@pytest.fixture
def laion_folder(tmp_path: Path, laion_rows: pa.Table) -> Path:
    """The 10,000 real LAION-400M rows split into three parquet parts."""
    folder = tmp_path / "laion"
    folder.mkdir()
    for i, start in enumerate((0, 4000, 7000)):
        stop = {0: 4000, 4000: 7000, 7000: 10_000}[start]
        pq.write_table(laion_rows.slice(start, stop - start), folder / f"part-{i:05d}.parquet")
    return folder
