"""The Ray distributor runs the same stages as local processes, in Ray local mode."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from traindex.config import Settings
from traindex.fingerprint.keypoints import KeypointOptions
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint

pytestmark = [pytest.mark.shared, pytest.mark.slow]

OUT = "_generated/img2dataset-1.47.0-output-cc3m-test-images/webdataset"


def test_ray_and_local_write_identical_fingerprints(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAY_ADDRESS", "local")  # its own runtime, not another job's cluster
    tables = {}
    for mode in ("local", "ray"):
        settings = Settings(home=tmp_path / mode)
        ingest(settings, shared_data / OUT, dataset="cc3m", release="main")
        [report] = fingerprint(
            settings,
            "cc3m",
            distributor=mode,
            workers=2,
            keypoints=KeypointOptions(),  # type: ignore[arg-type]
            iscc=True,
        )
        assert (report.images, report.shards, report.keypoint_images) == (18, 2, 18)
        assert report.iscc_images == 18
        assert report.keypoints_indexed > 18 * 64
        release = settings.datasets_dir / "cc3m/main"
        tables[mode] = [
            pq.read_table(p).to_pylist()
            for stage in ("fingerprints", "keypoints", "iscc")
            for p in sorted((release / stage).glob("*.parquet"))
        ]
    assert tables["ray"] == tables["local"]
