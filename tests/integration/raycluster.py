"""A real two-node Ray cluster confined to loopback, for the distributed-job tests.

Ray's own multi-node harness (``ray.cluster_utils.Cluster``) starts two raylets on
127.0.0.1: the head and a worker node offering the custom resource ``worker``, so a
task that asks for it must run on the second node. The environment below is set before
Ray is imported (see ../shared/docs/ray-on-one-machine.md): it keeps every node on
127.0.0.1 and lets other processes (the CLI) join without a token. Nodes are small
(1 CPU, 100 MB object store each) and stopped when the session ends.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from traindex.catalog.store import Catalog, Release
from traindex.catalog.text import TextIndex
from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint

LOOPBACK_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
}
os.environ.update(LOOPBACK_ENV)

OBJECT_STORE = 100 * 2**20
WORKER = {"worker": 1.0}
CC3M = "_generated/img2dataset-1.47.0-output-cc3m-test-images/webdataset"
"""Below ../shared/data: the img2dataset output of 18 real cc3m photos, in 2 shards."""
PHOTOS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"
"""Below ../shared/data: the same 18 photos as plain files (query images)."""


@dataclass
class TwoNodes:
    cluster: Any  # ray.cluster_utils.Cluster (Ray has no type stubs)
    worker: Any

    @property
    def address(self) -> str:
        return str(self.cluster.address)

    def add_node(self, resource: str) -> Any:
        node = self.cluster.add_node(
            num_cpus=1, resources={resource: 1.0}, object_store_memory=OBJECT_STORE
        )
        self.cluster.wait_for_nodes(timeout=120)
        return node


@pytest.fixture(scope="session")
def two_nodes() -> Iterator[TwoNodes]:
    pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 1,
            "include_dashboard": False,
            "object_store_memory": OBJECT_STORE,
        },
    )
    try:
        worker = cluster.add_node(num_cpus=1, resources=WORKER, object_store_memory=OBJECT_STORE)
        cluster.wait_for_nodes(timeout=120)
        yield TwoNodes(cluster, worker)
    finally:
        import ray

        ray.shutdown()  # a fanned-out search keeps its connection for the process's life
        cluster.shutdown()


def fresh_driver() -> None:
    """Drop this process's Ray connection (the next use joins anew): a connection kept by
    an earlier test (a fanned-out search keeps one) may go through the raylet of a node
    that test removed, and then nothing can be scheduled through it."""
    import ray

    ray.shutdown()


def fingerprinted_cc3m(shared_data: Path, home: Path, **options: Any) -> tuple[Settings, Release]:
    """The cc3m photos ingested as ``cc3m/main`` in ``home`` and fingerprinted in this
    process (``options`` go to ``fingerprint``: keypoints, faces ...)."""
    fresh_driver()
    settings = Settings(home=home)
    ingest(settings, shared_data / CC3M, dataset="cc3m", release="main")
    fingerprint(settings, "cc3m", workers=1, **options)
    [(release, _)] = Catalog(settings).select("cc3m")
    return settings, release


LOSS_SEEN_WITHIN = 60.0  # seconds; Ray marks a node dead after missed heartbeats


def answer_after_loss(ask: Callable[[], dict[str, Any]], key: str) -> dict[str, Any]:
    """The first answer (``ask()``) holding ``key``, i.e. seeing a lost node, after one
    that held it already. Actor calls go straight to the actor's worker process, which can
    outlive its killed raylet for a moment and still answer: an answer asks the index
    more than once (one look-up per radius), so the first one to see the loss may still
    hold hits of the lost shards; once two in a row see it, the process is gone."""
    deadline = time.monotonic() + LOSS_SEEN_WITHIN
    seen = False
    while True:
        answer = ask()
        if (key in answer and seen) or time.monotonic() > deadline:
            return answer
        seen = key in answer
        time.sleep(0.5)


def kill_holder(actor: str) -> None:
    """Kill an index holder and wait until its process is gone, as a lost machine's is.
    ``ray.kill`` only asks for the kill: until the process exits it still answers its
    channel, and a search would (truthfully) hold its shards' hits."""
    import psutil
    import ray

    from traindex.search.placement import NAMESPACE

    handle = ray.get_actor(actor, namespace=NAMESPACE)
    process = psutil.Process(ray.get(handle.__ray_call__.remote(lambda _: os.getpid())))
    ray.kill(handle)
    process.wait(timeout=LOSS_SEEN_WITHIN)


def edited_copy(path: Path) -> bytes:
    """A dataset-style copy: smaller, grey, re-compressed (a different file, same image)."""
    image = Image.open(path)
    small = image.resize((300, round(300 * image.height / image.width))).convert("L")
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=40)
    return buffer.getvalue()


def run_cli(args: list[str], home: Path, address: str) -> str:
    """The installed ``traindex`` command as a separate process joining the cluster."""
    exe = Path(sys.executable).with_name("traindex")
    env = {**os.environ, "RAY_ADDRESS": address, "TRAINDEX_HOME": str(home)}
    done = subprocess.run(
        [str(exe), *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def catalog_state(release_dir: Path) -> dict[str, object]:
    """Everything a release holds that searches read: manifest entries (without times),
    every committed table, every key array, and every hit of a caption search."""
    release = Release(release_dir)
    state: dict[str, object] = {
        "sources": [s.model_dump(exclude={"ingested_at"}) for s in release.manifest().sources]
    }
    for path in sorted(release.dir.rglob("*.parquet")):
        if ".tmp" not in path.relative_to(release.dir).parts:
            state[path.relative_to(release.dir).as_posix()] = pq.read_table(path).to_pylist()
    for path in sorted(release.keys_dir.rglob("*.npy")):
        state[path.relative_to(release.dir).as_posix()] = np.load(path).tolist()
    # every hit (ties in score come in index order, which segment layout may change)
    text = TextIndex(release.text_dir).search("dog OR beach OR house", 100_000)
    state["text"] = (text.total, sorted((h.shard_id, h.row, round(h.score, 4)) for h in text.hits))
    return state
