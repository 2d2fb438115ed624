"""Search fanned out over a Ray cluster: a release's index shards (PDQ, keypoints, faces,
CLIP, near-copy regions, and the catalog's key and caption look-ups) held by actors on
many nodes.

The shards are held by actors ``search.placement.deploy_index`` started, as its
placement files record (``<kind>-placement.json``). The ``Fanout*``
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
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from traindex.catalog.indexes.pdq import open_pdq
from traindex.catalog.keys import KeyRows
from traindex.catalog.part import shard_name
from traindex.catalog.store import Catalog, Release
from traindex.catalog.text import TextHits
from traindex.config import Settings
from traindex.errors import TraindexError
from traindex.fingerprint.base import PDQ_MATCH_RADIUS
from traindex.index.base import RangeHits, RangeSearcher, as_hash_array
from traindex.index.vector_hits import Metric, VectorHits, VectorSearcher
from traindex.jobs.ray import RayOptions, connect_ray, import_ray
from traindex.search.channel import ChannelError, HolderChannel, Request
from traindex.search.placement import (
    NAMESPACE,
    Holder,
    IndexKind,
    index_dir,
    load_placement,
    placement_path,
    shard_label,
    unplaced_shards,
)
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
    from traindex.index.keypoints import KeypointHits, KeypointSearcher

__all__ = [
    "FanoutCaptions",
    "FanoutHashes",
    "FanoutKeypoints",
    "FanoutKeys",
    "FanoutVectors",
    "fanout_views",
    "search_views",
]

DEFAULT_TIMEOUT = 30.0
_METRICS: dict[IndexKind, Metric] = {"faces": "l2", "clip": "ip"}


class _Fanout:
    """Asks every holder of one index at once; collects answers and unreached shards.

    Queries travel over each holder's channel (``search.channel``); Ray is asked only for
    a holder's endpoint, once, and again after its channel failed. Open channels are kept
    per holder and reused, one request at a time each, so concurrent searches (the web
    app's threads) each take their own."""

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
        self._endpoints: dict[str, tuple[tuple[str, int], bytes]] = {}
        self._idle: dict[str, list[HolderChannel]] = {h.actor: [] for h in holders}
        self._lock = threading.Lock()
        self.ray = self._connect(options)

    def _connect(self, options: RayOptions) -> Any:
        """The ``ray`` module, connected to the cluster (once: kept for the process's life)."""
        ray = import_ray()
        if not ray.is_initialized():
            address = options.cluster_address()
            if address is None:
                raise TraindexError("a fanned-out search needs a Ray cluster address")
            # held, not restored: Ray stays for the process's life, and the stream it
            # replaced is the answer's (its last reference going would close it)
            self._stdout = connect_ray(ray, address=address)
        return ray

    def gather(self, method: str, *args: Any) -> tuple[list[Any], tuple[str, ...]]:
        """Every answering holder's ``index.<method>(*args)``, in holder order, and the
        labels of the shards not searched: the other holders' and the unplaced ones. A
        holder that raises (bad input) re-raises here: an error of the query, not a lost
        shard."""
        deadline = time.monotonic() + self.timeout
        request: Request = (method, args)
        answers, stale = self._round(self.holders, request, deadline, reuse=True)
        if stale:  # a kept channel may have outlived its holder (placed anew): ask afresh
            again, _ = self._round(stale, request, deadline, reuse=False)
            answers.update(again)
        for outcome in answers.values():
            if isinstance(outcome, _HolderRaised):
                raise outcome.error
        parts = [answers[h.actor] for h in self.holders if h.actor in answers]
        missed = [shard_label(self.kind, shard) for shard in self.unplaced]
        for holder in self.holders:
            if holder.actor not in answers:
                missed.extend(shard_label(self.kind, shard) for shard in holder.shards)
        return parts, tuple(missed)

    def _round(
        self, holders: Sequence[Holder], request: Request, deadline: float, *, reuse: bool
    ) -> tuple[dict[str, Any], list[Holder]]:
        """Send to every holder, then read every answer: holder actor -> its answer (or
        ``_HolderRaised``), and the holders whose reused channel failed."""
        sent: list[tuple[Holder, HolderChannel, bool]] = []
        stale: list[Holder] = []
        for holder in holders:
            taken = self._channel(holder, deadline, reuse)
            if taken is None:
                continue
            channel, reused = taken
            try:
                channel.send(request, _left(deadline))
            except ChannelError:
                self._drop(holder, channel, reused, stale)
                continue
            sent.append((holder, channel, reused))
        answers: dict[str, Any] = {}
        for holder, channel, reused in sent:
            try:
                answers[holder.actor] = channel.receive(_left(deadline))
            except ChannelError:
                self._drop(holder, channel, reused, stale)
                continue
            except Exception as exc:  # the holder's own: the channel is still in step
                answers[holder.actor] = _HolderRaised(exc)
            with self._lock:
                self._idle[holder.actor].append(channel)
        return answers, stale

    def _channel(
        self, holder: Holder, deadline: float, reuse: bool
    ) -> tuple[HolderChannel, bool] | None:
        """An idle channel to ``holder`` (reused) or a new one; ``None`` if unreachable."""
        with self._lock:
            idle = self._idle[holder.actor]
            if reuse and idle:
                return idle.pop(), True
            endpoint = self._endpoints.get(holder.actor)
        if endpoint is None:
            try:
                actor = self.ray.get_actor(holder.actor, namespace=NAMESPACE)
                endpoint = self.ray.get(actor.endpoint.remote(), timeout=_left(deadline))
            except (ValueError, self.ray.exceptions.RayError):  # gone: its node was lost
                return None
            with self._lock:
                self._endpoints[holder.actor] = endpoint
        try:
            address, key = endpoint
            return HolderChannel(address, key, _left(deadline)), False
        except ChannelError:
            with self._lock:
                self._endpoints.pop(holder.actor, None)
            return None

    def _drop(
        self, holder: Holder, channel: HolderChannel, reused: bool, stale: list[Holder]
    ) -> None:
        """Close a failed channel and forget the holder's endpoint (asked anew next time)."""
        channel.close()
        with self._lock:
            self._endpoints.pop(holder.actor, None)
            for other in self._idle[holder.actor]:
                other.close()
            self._idle[holder.actor].clear()
        if reused:
            stale.append(holder)


@dataclass(frozen=True, slots=True)
class _HolderRaised:
    error: Exception


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.001)


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

    def rows(self, field: str, values: Sequence[object], shard_ids: Sequence[int]) -> KeyRows:
        parts, missed = self.gather("rows", field, list(values), list(shard_ids))
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
