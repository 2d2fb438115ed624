"""Where a release's index shards are held on a Ray cluster: placing them and the record.

``deploy_index`` starts one detached Ray actor (``IndexHolder``) per node it is given,
each holding (memory-mapping) its share of one index's shards: a PDQ, keypoint, face,
exact CLIP or near-copy region index, or the catalog's key and caption look-ups
(``catalog.part.CatalogPart``). It writes where every shard actually landed (the node id
each actor reports) to a placement file (``<kind>-placement.json`` in the release): later
searches (``search.fanout``) read placement from there, never guess it.

Nodes must see the index folder at the same path (a shared filesystem), as for jobs.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from traindex.catalog.part import CatalogPart
from traindex.catalog.store import Release
from traindex.core.files import write_atomic
from traindex.errors import TraindexError
from traindex.index.binary import MultiIndexHashIndex
from traindex.jobs.ray import RayOptions, import_ray, ray_session
from traindex.search.channel import ChannelServer

if TYPE_CHECKING:
    from traindex.index.keypoints import KeypointIndex
    from traindex.index.vectors import VectorIndex

__all__ = [
    "NAMESPACE",
    "Holder",
    "IndexHolder",
    "IndexKind",
    "deploy_index",
    "index_dir",
    "load_placement",
    "placement_path",
    "shard_label",
    "unplaced_shards",
]

NAMESPACE = "traindex"
IndexKind = Literal["pdq", "keypoints", "faces", "clip", "tiles", "catalog"]


def shard_label(kind: IndexKind, shard: str) -> str:
    """How an answer names an index shard: ``keypoints/shard-000002`` (PDQ shards by their
    bare name, as before the other indexes could be placed), so indexes are told apart."""
    return shard if kind == "pdq" else f"{kind}/{shard}"


@dataclass(frozen=True, slots=True)
class Holder:
    """One actor: its name in ``NAMESPACE``, the node it runs on, the shards it holds."""

    actor: str
    node_id: str
    shards: list[str]


def _open_index(
    kind: IndexKind, index_dir: str
) -> MultiIndexHashIndex | KeypointIndex | VectorIndex | CatalogPart:
    if kind == "catalog":
        return CatalogPart(index_dir)
    if kind in ("pdq", "tiles"):
        return MultiIndexHashIndex(index_dir)
    if kind == "keypoints":
        from traindex.index.keypoints import KeypointIndex  # faiss: the images extra

        return KeypointIndex(index_dir)
    from traindex.index.vectors import VectorIndex

    return VectorIndex.open(index_dir)


_CALLS = frozenset({"search", "range_search", "knn", "rows", "text_search"})
"""The index methods a holder answers: an image index's query batch with a radius or k,
a catalog part's key and caption look-ups."""


class IndexHolder:
    """The actor: a part of one index, searched where it lives. Queries reach it through
    its channel (``search.channel``: a Ray actor call per query would cost more than
    small searches do), whose address and key it gives out through Ray."""

    def __init__(self, kind: IndexKind, index_dir: str, shards: list[str]) -> None:
        self.index = _open_index(kind, index_dir).restrict(shards)
        self.channel = ChannelServer(self.call, import_ray().util.get_node_ip_address())

    def node_id(self) -> str:
        return str(import_ray().get_runtime_context().get_node_id())

    def endpoint(self) -> tuple[tuple[str, int], bytes]:
        """Where the channel listens, and its key."""
        return self.channel.address, self.channel.key

    def call(self, method: str, args: tuple[Any, ...]) -> Any:
        """The part's answer to ``index.<method>(*args)``."""
        if method not in _CALLS:
            raise ValueError(f"an index holder answers {sorted(_CALLS)}, not {method!r}")
        return getattr(self.index, method)(*args)


def placement_path(release: Release, kind: IndexKind = "pdq") -> Path:
    return release.dir / f"{kind}-placement.json"


def index_dir(release: Release, kind: IndexKind) -> Path:
    """Where a release keeps one placeable index (the exact CLIP index only: an IVF-PQ
    one is a single file, not sharded, and is not placed; the catalog is the release)."""
    if kind == "catalog":
        return release.dir
    # Imported here: these modules need the images extra; the web app imports this one
    from traindex.catalog.indexes.faces import FACE_INDEX_DIR
    from traindex.catalog.indexes.keypoints import KEYPOINT_DIR
    from traindex.catalog.indexes.tiles import REGION_INDEX_DIR
    from traindex.search.embeddings import CLIP_FLAT_DIR

    folders: dict[IndexKind, str] = {
        "pdq": "pdq", "keypoints": KEYPOINT_DIR, "faces": FACE_INDEX_DIR,
        "clip": CLIP_FLAT_DIR, "tiles": REGION_INDEX_DIR,
    }  # fmt: skip
    return release.dir / folders[kind]


def deploy_index(
    kind: IndexKind,
    index_dir: Path,
    placement: Path,
    options: RayOptions,
    *,
    label: str,
    nodes: Sequence[str] | None = None,
) -> list[Holder]:
    """Spread the index's shards round-robin over ``nodes`` (default: every alive node),
    one detached actor per node, and record the placement. ``label`` names the actors.

    The cluster learns of a lost node only after missed heartbeats, so a node listed as
    alive may be gone: its actor then dies, and the shards are spread again over the
    nodes whose actors came up."""
    names = _open_index(kind, str(index_dir)).shard_names
    with ray_session(options) as ray:
        targets = list(nodes or sorted(n["NodeID"] for n in ray.nodes() if n["Alive"]))
        while True:
            holders, lost = _place(ray, kind, index_dir, names, targets, label)
            if not lost:
                break
            for holder in holders:  # this round's actors: the next round places anew
                _kill_existing(ray, holder.actor)
            targets = [n for n in targets if n not in lost]
            if not targets:
                raise TraindexError(f"no node of the cluster could hold the index {index_dir}")
    record = {"index": str(index_dir), "holders": [asdict(h) for h in holders]}
    write_atomic(placement, json.dumps(record, indent=2).encode())
    return holders


def _place(
    ray: Any, kind: IndexKind, index_dir: Path, names: list[str], targets: list[str], label: str
) -> tuple[list[Holder], set[str]]:
    """One actor per target node with its round-robin share; the nodes that failed."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    holders, lost = [], set()
    for i, node in enumerate(targets):
        share = names[i :: len(targets)]
        if not share:
            continue
        name = f"{kind}:{label}:{i}"
        _kill_existing(ray, name)
        actor = (
            ray.remote(IndexHolder)
            .options(
                name=name, namespace=NAMESPACE, lifetime="detached", num_cpus=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False),
            )
            .remote(kind, str(index_dir), share)
        )  # fmt: skip
        try:
            holders.append(Holder(name, ray.get(actor.node_id.remote()), share))
        except ray.exceptions.RayError:
            lost.add(node)
    return holders, lost


def _kill_existing(ray: Any, name: str) -> None:
    with contextlib.suppress(ValueError):  # no such actor: nothing to replace
        ray.kill(ray.get_actor(name, namespace=NAMESPACE))


def unplaced_shards(index_dir: Path, kind: IndexKind, holders: list[Holder]) -> list[str]:
    """Shards the index holds now that no holder was given (indexed after it was placed):
    a fanned-out search names them as not searched until ``place-index`` runs again."""
    held = {shard for holder in holders for shard in holder.shards}
    return [s for s in _open_index(kind, str(index_dir)).shard_names if s not in held]


def load_placement(path: Path) -> list[Holder]:
    record = json.loads(path.read_text(encoding="utf-8"))
    return [Holder(h["actor"], h["node_id"], list(h["shards"])) for h in record["holders"]]
