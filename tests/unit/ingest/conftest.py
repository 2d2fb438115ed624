"""Helpers for reader tests: drain a reader into plain rows, and the sample paths."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from traindex.ingest.base import RAW_SCHEMA, DatasetReader

Rows = list[dict[str, Any]]


def drain(reader: DatasetReader, root: Path, batch_rows: int = 3) -> Rows:
    """Every row of every source, each tagged with its source's relpath as ``_source``.
    A small ``batch_rows`` makes tests cross batch boundaries."""
    rows: Rows = []
    for source in reader.sources(root):
        for batch in reader.batches(source, batch_rows):
            assert batch.schema == RAW_SCHEMA
            assert batch.num_rows <= batch_rows
            rows.extend({**row, "_source": source.relpath} for row in batch.to_pylist())
    return rows


@pytest.fixture
def read_rows() -> Callable[..., Rows]:
    return drain


@pytest.fixture(scope="session")
def generated(shared_data: Path) -> Path:
    return shared_data / "_generated"


@pytest.fixture(scope="session")
def img2dataset_out(generated: Path) -> Path:
    return generated / "img2dataset-1.47.0-output-cc3m-test-images"


@pytest.fixture(scope="session")
def laion_rows(shared_data: Path) -> pa.Table:
    """The 1,000 real LAION-400M rows (URL, TEXT) of img2dataset's test parquet."""
    import pyarrow.parquet as pq

    return pq.read_table(shared_data / "img2dataset/tests/test_files/test_1000.parquet")
