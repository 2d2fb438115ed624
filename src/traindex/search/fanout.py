"""Search fanned out over a Ray cluster: a release's index shards (PDQ, keypoints, faces,
CLIP, near-copy regions, and the catalog's key and caption look-ups) held by actors on
many nodes.

``deploy_index`` starts one detached Ray actor per node it is given, each holding (memory-
mapping) its share of one index's shards, and writes where every shard actually landed
(the node id each actor reports) to a placement file (``<kind>-placement.json`` in the
release): later searches read placement from there, never guess it. The ``Fanout*``
classes are drop-ins for the in-process indexes, one per index interface: ``FanoutHashes``
(PDQ and region indexes, ``RangeHits``), ``FanoutKeypoints`` (``KeypointHits``),
``FanoutVectors`` (faces and exact CLIP, ``VectorHits``), ``FanoutKeys`` (URL, domain,
Flickr and digest look-ups, ``KeyRows``) and ``FanoutCaptions`` (caption words,
``TextHits``; catalog shards are held as ``catalog.part.CatalogPart``). A query goes to
every holder at once, the answers are merged into the in-process index's answer, and the
shards of a holder that does not answer (its node was lost, it timed out) are listed in
``not_searched`` as ``<kind>/<shard>`` (PDQ shards by their bare name), so the answer says
what it did not cover instead of silently holding fewer matches. ``fanout_views`` plugs
them into the views every search reads (``SearchService``, ``ImageSearch``,
``FaceSearch``, ``SimilarSearch``, ``NearCopyChecker``); ``search_views`` does so when the
settings name a cluster.

Nodes must see the index folder at the same path (a shared filesystem), as for jobs.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from traindex.catalog.indexes.pdq import open_pdq
from traindex.catalog.keys import KeyRows
from traindex.catalog.part import CatalogPart, shard_name
from traindex.catalog.store import Catalog, Release
from traindex.catalog.text import TextHits
from traindex.config import Settings
from traindex.core.files import write_atomic
from traindex.errors import TraindexError
from traindex.fingerprint.base import PDQ_MATCH_RADIUS
from traindex.index.base import RangeHits, RangeSearcher, as_hash_array
from traindex.index.binary import MultiIndexHashIndex
from traindex.jobs.ray import RayOptions, connect_ray, import_ray, ray_session
from traindex.search.views import (
    CaptionSearcher,
    IndexOpeners,
    KeyLookup,
    PdqOpener,
    VectorKind,
    ViewCache,
    open_captions,
    open_keypoint_index,
    open_keys,
    open_region_index,
    open_vector_index,
)

if TYPE_CHECKING:
    from traindex.index.keypoints import KeypointHits, KeypointIndex, KeypointSearcher
    from traindex.index.vectors import Metric, VectorHits, VectorIndex, VectorSearcher

__all__ = [
    "FanoutCaptions",
    "FanoutHashes",
    "FanoutKeypoints",
    "FanoutKeys",
    "FanoutVectors",
    "Holder",
    "IndexHolder",
    "IndexKind",
    "deploy_index",
    "deploy_pdq",
    "fanout_views",
    "index_dir",
    "load_placement",
    "placement_path",
    "search_views",
    "shard_label",
    "unplaced_shards",
]

NAMESPACE = "traindex"
DEFAULT_TIMEOUT = 30.0
IndexKind = Literal["pdq", "keypoints", "faces", "clip", "tiles", "catalog"]
_METRICS: dict[IndexKind, Metric] = {"faces": "l2", "clip": "ip"}


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
    """The actor: a part of one index, searched where it lives."""

    def __init__(self, kind: IndexKind, index_dir: str, shards: list[str]) -> None:
        self.index = _open_index(kind, index_dir).restrict(shards)

    def node_id(self) -> str:
        return str(import_ray().get_runtime_context().get_node_id())

    def call(self, method: str, *args: Any) -> Any:
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


def deploy_pdq(
    index_dir: Path,
    placement: Path,
    options: RayOptions,
    *,
    label: str,
    nodes: Sequence[str] | None = None,
) -> list[Holder]:
    """``deploy_index`` of a PDQ index."""
    return deploy_index("pdq", index_dir, placement, options, label=label, nodes=nodes)


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


class _Fanout:
    """Asks every holder of one index at once; collects answers and unreached shards."""

    def __init__(
        self,
        holders: list[Holder],
        options: RayOptions,
        timeout: float,
        kind: IndexKind,
        unplaced: Sequence[str] = (),
    ) -> None:
        self.holders = holders
        self.timeout = timeout
        self.kind = kind
        self.unplaced = tuple(unplaced)  # shards indexed after placement: no holder has them
        self._actors: dict[str, Any] = {}  # handles, looked up once (a GCS round trip each)
        self.ray = import_ray()
        if not self.ray.is_initialized():  # kept for the process's life: one connect
            address = options.cluster_address()
            if address is None:
                raise TraindexError("a fanned-out search needs a Ray cluster address")
            # held, not restored: Ray stays for the process's life, and the stream it
            # replaced is the answer's (its last reference going would close it)
            self._stdout = connect_ray(self.ray, address=address)

    def gather(self, method: str, *args: Any) -> tuple[list[Any], tuple[str, ...]]:
        """Every answering holder's ``index.<method>(*args)``, in holder order, and the
        labels of the shards not searched: the other holders' and the unplaced ones. A
        holder that raises (bad input) re-raises here: an error of the query, not a lost
        shard."""
        asked = [(h, self._ask(h, method, *args)) for h in self.holders]
        parts: list[Any] = []
        missed = [shard_label(self.kind, shard) for shard in self.unplaced]
        for holder, ref in asked:
            try:
                if ref is None:
                    raise LookupError(holder.actor)
                parts.append(self.ray.get(ref, timeout=self.timeout))
            except self.ray.exceptions.RayTaskError as exc:
                raise exc.as_instanceof_cause() from None
            except (self.ray.exceptions.RayError, LookupError):
                missed.extend(shard_label(self.kind, shard) for shard in holder.shards)
        return parts, tuple(missed)

    def _ask(self, holder: Holder, method: str, *args: Any) -> Any:
        actor = self._actors.get(holder.actor)
        if actor is None:
            try:
                actor = self.ray.get_actor(holder.actor, namespace=NAMESPACE)
            except ValueError:  # gone (its node was lost): reported as not searched
                return None
            self._actors[holder.actor] = actor
        return actor.call.remote(method, *args)


class FanoutHashes(_Fanout):
    """A PDQ index (or a near-copy region index) whose shards are searched by their
    holders (see module docstring)."""

    def search(
        self,
        queries: NDArray[np.uint8] | bytes | Sequence[bytes],
        radius: int = PDQ_MATCH_RADIUS,
        *,
        workers: int = 1,  # the holders' business; kept for the index interface
    ) -> RangeHits:
        batch = as_hash_array(queries)
        parts, missed = self.gather("search", batch, radius)
        merged = RangeHits.build(
            np.concatenate([np.empty(0, np.int64), *(p.query for p in parts)]),
            np.concatenate([np.empty(0, np.int64), *(p.ids for p in parts)]),
            np.concatenate([np.empty(0, np.int16), *(p.distances for p in parts)]),
            batch.shape[0],
        )
        return replace(merged, not_searched=missed)


class FanoutKeypoints(_Fanout):
    """A keypoint index whose shards are searched by their holders. Hits come back in the
    in-process index's order (shard by shard, each shard's own order), so verification
    picks the same point pairs as the in-process search does."""

    def search(self, queries: NDArray[np.uint8], radius: int) -> KeypointHits:
        from traindex.index.keypoints import KeypointHits

        parts, missed = self.gather("search", np.ascontiguousarray(queries, np.uint8), radius)
        merged = KeypointHits.concat(parts)
        order = np.argsort(merged.descriptor >> 32, kind="stable")  # shard seq, then as found
        return replace(merged.select(order.astype(np.int64)), not_searched=missed)


class FanoutVectors(_Fanout):
    """A face or exact CLIP index whose shards are searched by their holders. Each part
    answers with its own sorted hits (kNN: each shard's ``k`` nearest); merged by the
    index's own canonical sort, they are the in-process answer."""

    @property
    def metric(self) -> Metric:
        return _METRICS[self.kind]

    def range_search(self, queries: ArrayLike, radius: float) -> VectorHits:
        return self._merged("range_search", queries, radius)

    def knn(self, queries: ArrayLike, k: int) -> VectorHits:
        return self._merged("knn", queries, k)

    def _merged(self, method: str, queries: ArrayLike, arg: float) -> VectorHits:
        from traindex.index.vectors import VectorHits

        batch = np.ascontiguousarray(queries, np.float32)
        count = 1 if batch.ndim == 1 else len(batch)
        parts, missed = self.gather(method, batch, arg)
        merged = VectorHits.build(
            np.concatenate([np.empty(0, np.int64), *(p.query for p in parts)]),
            np.concatenate([np.empty(0, np.int64), *(p.ids for p in parts)]),
            np.concatenate([np.empty(0, np.float32), *(p.distances for p in parts)]),
            count,
            self.metric,
        )
        return replace(merged, not_searched=missed)


class FanoutKeys(_Fanout):
    """A release's key look-ups (URL, domain, Flickr ids, digests) answered by the holders
    of its catalog shards; shards wanted but not reached are named in ``not_searched``."""

    def rows(self, field: str, value: object, shard_ids: Sequence[int]) -> KeyRows:
        parts, missed = self.gather("rows", field, value, list(shard_ids))
        found = {sid: rows for part in parts for sid, rows in part.found.items()}
        wanted = {shard_label("catalog", shard_name(sid)) for sid in shard_ids}
        return KeyRows(
            {sid: found[sid] for sid in shard_ids if sid in found},
            tuple(label for label in missed if label in wanted),
        )


class FanoutCaptions(_Fanout):
    """A release's caption search answered by the holders of its catalog shards: each
    holder's best ``offset + limit`` hits (release-wide BM25 scores), merged by score."""

    def search(self, query: str, limit: int, offset: int = 0) -> TextHits:
        parts, missed = self.gather("text_search", query, offset + limit)
        hits = sorted(
            (hit for part in parts for hit in part.hits),
            key=lambda hit: (-hit.score, hit.shard_id, hit.row),
        )
        total = sum(part.total for part in parts)
        return TextHits(total, hits[offset : offset + limit], missed)


def fanout_views(
    catalog: Catalog, options: RayOptions, timeout: float = DEFAULT_TIMEOUT
) -> ViewCache:
    """Views whose indexes are the fanned-out ones where a release has a placement file
    for them (``deploy_index``), and the on-disk ones elsewhere: pass to
    ``SearchService``, ``ImageSearch``, ``FaceSearch``, ``SimilarSearch`` or
    ``NearCopyChecker`` as ``views``."""

    def placed(release: Release, kind: IndexKind) -> tuple[list[Holder], list[str]] | None:
        path = placement_path(release, kind)
        if not path.is_file():
            return None
        holders = load_placement(path)
        return holders, unplaced_shards(index_dir(release, kind), kind, holders)

    def hashes(kind: IndexKind, local: PdqOpener) -> PdqOpener:
        def opener(release: Release) -> RangeSearcher | None:
            found = placed(release, kind)
            if found is None:
                return local(release)
            return FanoutHashes(found[0], options, timeout, kind, found[1])

        return opener

    def keypoints(release: Release) -> KeypointSearcher | None:
        found = placed(release, "keypoints")
        if found is None:
            return open_keypoint_index(release)
        return FanoutKeypoints(found[0], options, timeout, "keypoints", found[1])

    def vectors(release: Release, kind: VectorKind) -> VectorSearcher | None:
        found = placed(release, kind)
        if found is None:
            return open_vector_index(release, kind)
        return FanoutVectors(found[0], options, timeout, kind, found[1])

    def keys(release: Release) -> KeyLookup:
        found = placed(release, "catalog")
        if found is None:
            return open_keys(release)
        return FanoutKeys(found[0], options, timeout, "catalog", found[1])

    def captions(release: Release) -> CaptionSearcher:
        found = placed(release, "catalog")
        if found is None:
            return open_captions(release)
        return FanoutCaptions(found[0], options, timeout, "catalog", found[1])

    openers = IndexOpeners(
        pdq=hashes("pdq", open_pdq), keypoints=keypoints, vectors=vectors,
        regions=hashes("tiles", open_region_index), keys=keys, captions=captions,
    )  # fmt: skip
    return ViewCache(catalog, openers)


def search_views(catalog: Catalog, settings: Settings) -> ViewCache:
    """The views every search uses under ``settings``: fanned out over the cluster at
    ``search_ray_address`` where a release is placed there, the local disk otherwise (and
    everywhere without an address). The web app, ``search`` and ``report`` all take this."""
    if settings.search_ray_address is None:
        return ViewCache(catalog)
    options = RayOptions(address=settings.search_ray_address)
    return fanout_views(catalog, options, timeout=settings.search_fanout_timeout)
