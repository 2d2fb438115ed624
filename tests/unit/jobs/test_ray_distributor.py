"""The Ray distributor runs the same stage as local processes, in Ray local mode."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint

pytestmark = [pytest.mark.shared, pytest.mark.slow]

OUT = "_generated/img2dataset-1.47.0-output-cc3m-test-images/webdataset"


def test_ray_and_local_write_identical_fingerprints(tmp_path: Path, shared_data: Path) -> None:
    tables = {}
    for mode in ("local", "ray"):
        settings = Settings(home=tmp_path / mode)
        ingest(settings, shared_data / OUT, dataset="cc3m", release="main")
        [report] = fingerprint(settings, "cc3m", distributor=mode, workers=2)  # type: ignore[arg-type]
        assert (report.images, report.shards) == (18, 2)
        folder = settings.datasets_dir / "cc3m/main/fingerprints"
        tables[mode] = [pq.read_table(p).to_pylist() for p in sorted(folder.glob("*.parquet"))]
    assert tables["ray"] == tables["local"]
