"""kill -9 of the real CLI mid-download, then a re-run: one status per row, no duplicates;
and the Ray distributor writes what the local one writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from traindex.cli.main import app

from .conftest import LaionLike, MakeRelease

pytestmark = [pytest.mark.shared, pytest.mark.slow]
runner = CliRunner()
CLI = "from traindex.cli.main import app; app()"


def _stage(release: LaionLike, name: str, stage: str) -> list[dict[str, object]]:
    folder = next((release.home / "datasets" / name).iterdir()) / stage
    rows: list[dict[str, object]] = []
    for path in sorted(folder.glob("*.parquet")):
        rows.extend({"shard": path.stem, **r} for r in pq.read_table(path).to_pylist())
    return rows


def _cli(release: LaionLike, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, **release.env, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-c", CLI, *release.cli(*args)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_sigkill_mid_download_then_rerun(laion_like: MakeRelease) -> None:
    release = laion_like(parts=3, special=False)
    release.site.delay = 0.4  # each image takes a while, so the kill lands inside a shard
    first_shard = next((release.home / "datasets" / "laionlike").iterdir())
    done_marker = first_shard / "fingerprints" / "00000.parquet"
    args = ("fingerprint", "-d", "laionlike", "--download", "--workers", "1")
    process = _cli(release, *args)
    deadline = time.monotonic() + 120
    while not done_marker.exists():
        assert process.poll() is None, process.communicate()[0].decode()
        assert time.monotonic() < deadline, "the first shard never finished"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    release.site.delay = 0.0
    rerun = _cli(release, *args)
    output = rerun.communicate(timeout=300)[0].decode()
    assert rerun.returncode == 0, output
    assert "already done" in output
    statuses = _stage(release, "laionlike", "downloads")
    keys = [(r["shard"], r["row"]) for r in statuses]
    assert len(keys) == len(set(keys)) == len(release.expected), "exactly one status per row"
    assert {str(r["url"]) for r in statuses} == set(release.expected)
    prints = [(r["shard"], r["row"]) for r in _stage(release, "laionlike", "fingerprints")]
    assert sorted(prints) == sorted(keys), "one fingerprint per fetched row, none twice"


def test_ray_distributor_equals_local(
    laion_like: MakeRelease, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a runtime of our own, even when other Ray clusters run on this machine
    monkeypatch.setenv("RAY_ADDRESS", "local")
    local = laion_like(name="local", parts=2, special=False)
    ray = laion_like(name="viaray", parts=2, special=False)
    for release, name, distributor in ((local, "local", "local"), (ray, "viaray", "ray")):
        result = runner.invoke(
            app,
            release.cli(
                "fingerprint", "-d", name, "--download", "--distributor", distributor,
                "--workers", "2",
            ),
        )  # fmt: skip
        assert result.exit_code == 0, result.output

    def comparable(release: LaionLike, name: str, stage: str) -> list[tuple[object, ...]]:
        rows = _stage(release, name, stage)
        fields = ("shard", "row", "status", "sha256") if stage == "downloads" else (
            "shard", "row", "sha256", "pdq", "error",
        )  # fmt: skip
        return sorted(tuple(r.get(f) for f in fields) for r in rows)

    for stage in ("downloads", "fingerprints"):
        assert comparable(local, "local", stage) == comparable(ray, "viaray", stage)
