"""Ingest, fingerprint and filter on a real two-node Ray cluster equal the local runs.

The cluster (``raycluster.two_nodes``) is two raylets on 127.0.0.1; tasks pinned with the
``worker`` resource run on the second node. The CLI joins as a separate process through
``RAY_ADDRESS``, as a user's would.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from traindex.catalog.store import Release
from traindex.config import Settings
from traindex.errors import TraindexError
from traindex.fingerprint.faces import FaceOptions
from traindex.fingerprint.keypoints import KeypointOptions
from traindex.ingest.base import ReaderOptions
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.jobs.ray import RayOptions
from traindex.registry.models import Selector
from traindex.registry.service import RegistryService

sys.path.insert(0, str(Path(__file__).resolve().parent))
from raycluster import WORKER, TwoNodes, catalog_state, run_cli, two_nodes

pytestmark = [pytest.mark.shared, pytest.mark.slow]
__all__ = ["two_nodes"]  # the session fixture, imported so pytest finds it

CC3M = "_generated/img2dataset-1.47.0-output-cc3m-test-images/webdataset"
URLS = "img2dataset/tests/test_files/test_10000.parquet"


def _laion_parts(shared_data: Path, folder: Path, parts: range) -> Path:
    """LAION-layout parquet parts made of real rows (URLs made distinct per part)."""
    table = pq.read_table(shared_data / URLS, columns=["URL", "TEXT"])
    folder.mkdir(parents=True, exist_ok=True)
    for part in parts:
        urls = pc.binary_join_element_wise(table["URL"], pa.scalar(f"#{part}"), "")
        pq.write_table(table.set_column(0, "URL", urls), folder / f"part-{part:05d}.parquet")
    return folder


def _ingest(home: Path, root: Path, ray: RayOptions | None = None) -> Path:
    settings = Settings(home=home)
    options = ReaderOptions()
    ingest(settings, root, dataset="d", release="r", options=options, skip_bad_rows=True, ray=ray)
    return settings.datasets_dir / "d" / "r"


def test_ingest_pinned_to_the_second_node_equals_local(
    shared_data: Path, two_nodes: TwoNodes, tmp_path: Path
) -> None:
    parts = _laion_parts(shared_data, tmp_path / "parts", range(3))
    local = _ingest(tmp_path / "local", parts)
    # only the worker node offers the "worker" resource: every task runs there
    pinned = RayOptions(address=two_nodes.address, resources=WORKER)
    on_ray = _ingest(tmp_path / "ray", parts, pinned)
    state = catalog_state(on_ray)
    assert state == catalog_state(local)
    assert len(state["sources"]) == 3  # type: ignore[arg-type]
    assert "rejected/00000.parquet" in state  # bad rows are logged the same way
    assert not any((on_ray / ".tmp").iterdir())


def _registry(home: Path) -> None:
    service = RegistryService.open(Settings(home=home))
    owner, _ = service.register_owner("stock agency")
    for domain in ("dreamstime.com", "pinimg.com"):
        service.add_claim(owner, Selector("domain", domain), verified=True)
    service.close()


def _outputs(folder: Path) -> dict[str, object]:
    return {
        p.relative_to(folder).as_posix(): pq.read_table(p).to_pylist()
        for p in sorted(folder.rglob("*.parquet"))
        if not p.name.endswith(".removed.parquet")
    }


def test_cli_joins_the_cluster_and_equals_local(
    shared_data: Path, two_nodes: TwoNodes, tmp_path: Path
) -> None:
    results = {}
    parts = _laion_parts(shared_data, tmp_path / "parts", range(3))
    registry = tmp_path / "registry"  # one registry: both runs see the same claim ids
    _registry(registry)
    for mode in ("local", "ray"):
        home = tmp_path / mode
        run_cli(["ingest", str(shared_data / CC3M), "-d", "cc3m", "--distributor", mode], home,
                two_nodes.address)  # fmt: skip
        run_cli(["fingerprint", "-d", "cc3m", "--distributor", mode], home, two_nodes.address)
        out, log = tmp_path / f"{mode}-filtered", tmp_path / f"{mode}-removed.parquet"
        args = ["filter", str(parts), "--out", str(out), "--log", str(log)]
        run_cli([*args, "--distributor", mode], registry, two_nodes.address)
        release = home / "datasets" / "cc3m" / "main"
        results[mode] = (catalog_state(release), _outputs(out), pq.read_table(log).to_pylist())
    assert results["ray"] == results["local"]
    catalog, filtered, removed = results["ray"]
    assert sum(1 for k in catalog if k.startswith("fingerprints/")) == 2
    assert len(filtered) == 3
    assert 0 < len(removed) < 30_000


def test_fingerprint_faces_keypoints_pinned_to_the_second_node_equal_local(
    shared_data: Path, two_nodes: TwoNodes, tmp_path: Path
) -> None:
    tables = {}
    for mode in ("local", "ray"):
        settings = Settings(home=tmp_path / mode)
        ingest(settings, shared_data / CC3M, dataset="cc3m", release="main")
        ray = RayOptions(address=two_nodes.address, resources=WORKER)
        [report] = fingerprint(
            settings, "cc3m", distributor=mode, workers=1, ray=ray,
            faces=FaceOptions(), keypoints=KeypointOptions(),  # type: ignore[arg-type]
        )  # fmt: skip
        assert (report.images, report.errors, report.keypoint_images) == (18, 0, 18)
        assert report.face_images == 18
        tables[mode] = catalog_state(settings.datasets_dir / "cc3m" / "main")
    assert tables["ray"] == tables["local"]
    stages = {key.split("/")[0] for key in tables["ray"]}
    assert {"fingerprints", "faces", "keypoints"} <= stages


def _webdataset(shared_data: Path, folder: Path, shards: dict[str, str]) -> Path:
    """Real img2dataset webdataset shards (tar + sidecar parquet) under new names."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, original in shards.items():
        for suffix in (".tar", ".parquet"):
            shutil.copyfile(shared_data / CC3M / f"{original}{suffix}", folder / f"{name}{suffix}")
    return folder


def test_killing_the_worker_node_leaves_the_catalog_and_the_rerun_completes(
    shared_data: Path, two_nodes: TwoNodes, tmp_path: Path
) -> None:
    source = _webdataset(shared_data, tmp_path / "shards", {"00000": "00000", "00001": "00001"})
    release = _ingest(tmp_path / "ray", source)  # a committed catalog to leave untouched
    before = release.joinpath("manifest.json").read_bytes()
    # the job to kill reads a shard that is a pipe nobody writes to: its task cannot finish
    # before the node dies, however fast the machine (the driver never opens a tar)
    pipe = source / "00002.tar"
    os.mkfifo(pipe)
    doomed = two_nodes.add_node("doomed")
    failure: list[BaseException] = []

    def job() -> None:
        pinned = RayOptions(address=two_nodes.address, resources={"doomed": 1}, max_retries=0)
        try:
            _ingest(tmp_path / "ray", source, pinned)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=job)
    thread.start()
    staged = Release(release).tmp_dir / "staged" / "00002"
    deadline = time.monotonic() + 300
    while not staged.is_dir() and time.monotonic() < deadline:
        time.sleep(0.05)  # the task has started on the doomed node
    assert staged.is_dir()
    two_nodes.cluster.remove_node(doomed, allow_graceful=False)
    thread.join(timeout=300)
    assert not thread.is_alive()
    assert [type(e) for e in failure] == [TraindexError]
    assert "failed" in str(failure[0])
    assert release.joinpath("manifest.json").read_bytes() == before
    _release_reader(pipe)
    _webdataset(shared_data, source, {"00002": "00001"})
    _ingest(tmp_path / "ray", source, RayOptions(address=two_nodes.address))
    assert catalog_state(release) == catalog_state(_ingest(tmp_path / "local", source))
    assert len(Release(release).manifest().sources) == 3


def _release_reader(pipe: Path) -> None:
    """End the pipe: a worker process that outlived its node stops waiting on it."""
    try:
        fd = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # no reader left: the worker died with its node
        pass
    else:
        os.close(fd)
    pipe.unlink()
