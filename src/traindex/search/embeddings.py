"""A release's published CLIP image embeddings, and the index built over them.

Ingest records, per catalog row, where its embedding is (``emb_file`` relative to the
ingested root, ``emb_row``): LAION's ``img_emb/img_emb_N.npy`` (row-aligned with
``metadata_N.parquet``) or DataComp's same-stem ``.npz`` (arrays ``b32_img``, ``l14_img``).
This module reads them through those locations - ``.npy`` memory-mapped, so a 1 GB file
costs page cache, not RAM - and builds ``<release>/clip/``:

* up to ``flat_max_rows`` rows, an exact ``index.vectors.VectorIndex`` (inner product on
  unit vectors = cosine; memory-mapped shards);
* above it, a faiss IVF-PQ index (``ivfpq.faiss``, read back memory-mapped) whose
  candidates are re-scored exactly from the memory-mapped embedding files, so every
  reported cosine is exact even though the candidate list is approximate.

Ids are catalog locations (``shard << 40 | row``). ``meta.json`` records the kind, the
dimension and the manifest time it was built from; a re-ingested release is rebuilt.
"""

from __future__ import annotations

import json
import math
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from numpy.typing import NDArray

from traindex.catalog.locations import loc_of, split_loc
from traindex.catalog.store import Release
from traindex.core.files import write_atomic
from traindex.errors import InputError
from traindex.index.vector_hits import VectorSearcher
from traindex.index.vectors import VectorIndex
from traindex.search.views import ReleaseView

__all__ = ["CLIP_FLAT_DIR", "EmbeddingIndex", "EmbeddingStore", "open_flat_clip"]

CLIP_FLAT_DIR = "clip/flat"
"""Where a release's exact CLIP index lives (the IVF-PQ one is a single file beside it)."""

_TRAIN_MAX = 100_000  # IVF-PQ training sample: plenty for <= 65k lists of 256 centroids
_RERANK = 10  # IVF-PQ candidates per wanted neighbour, re-scored exactly


def open_flat_clip(release: Release) -> VectorIndex | None:
    """The release's exact CLIP index on this disk, or ``None`` (not built, or IVF-PQ)."""
    folder = release.dir / CLIP_FLAT_DIR
    return VectorIndex.open(folder) if (folder / "manifest.json").is_file() else None


def _unit(vectors: NDArray[Any]) -> NDArray[np.float32]:
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    unit: NDArray[np.float32] = array / np.maximum(norms, 1e-12)
    return unit


class EmbeddingStore:
    """Random access to one release's image embeddings by catalog location."""

    def __init__(self, view: ReleaseView) -> None:
        self.view = view
        self.root = Path(view.manifest.root)
        self._arrays: dict[str, NDArray[Any]] = {}

    def locations(self) -> dict[str, list[tuple[int, int]]]:
        """``emb_file -> [(loc, emb_row), ...]`` for every catalog row that has one."""
        found: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for sid in self.view.shard_ids:
            table = self.view.rows.scan(sid, ["emb_file", "emb_row"]).to_pylist()
            for row, rec in enumerate(table):
                if rec["emb_file"] is not None and rec["emb_row"] is not None:
                    found[rec["emb_file"]].append((loc_of(sid, row), int(rec["emb_row"])))
        return found

    def array(self, emb_file: str, dim: int | None = None) -> NDArray[Any]:
        """The image-embedding array of one file (``.npy`` memory-mapped; for ``.npz`` the
        ``*_img`` array, chosen by ``dim`` when there are several)."""
        if emb_file not in self._arrays:
            path = self.root / emb_file
            if not path.is_file():
                raise InputError("embedding file not found (moved since ingest?)", path=str(path))
            if path.suffix == ".npz":
                self._arrays[emb_file] = _npz_images(path, dim)
            else:
                self._arrays[emb_file] = np.load(path, mmap_mode="r")
        return self._arrays[emb_file]

    def dim(self, locations: dict[str, list[tuple[int, int]]]) -> int:
        first = next(iter(locations))
        return int(self.array(first).shape[1])

    def batches(
        self, locations: dict[str, list[tuple[int, int]]], dim: int, size: int = 65_536
    ) -> Iterator[tuple[NDArray[np.float32], NDArray[np.int64]]]:
        """Unit-norm vectors and their catalog locations, ``size`` rows at a time."""
        for emb_file, pairs in sorted(locations.items()):
            array = self.array(emb_file, dim)
            for start in range(0, len(pairs), size):
                chunk = pairs[start : start + size]
                rows = np.asarray([r for _, r in chunk], dtype=np.int64)
                yield _unit(array[rows]), np.asarray([loc for loc, _ in chunk], np.int64)

    def vectors(self, locs: NDArray[np.int64], dim: int) -> NDArray[np.float32]:
        """Exact unit vectors of the given catalog locations (for re-scoring)."""
        out = np.zeros((len(locs), dim), dtype=np.float32)
        wanted: dict[str, list[tuple[int, int]]] = defaultdict(list)  # emb_file -> (pos, row)
        by_shard: dict[int, list[int]] = defaultdict(list)
        for i, loc in enumerate(locs.tolist()):
            by_shard[split_loc(loc)[0]].append(i)
        for sid, positions in by_shard.items():
            rows = [split_loc(int(locs[p]))[1] for p in positions]
            recs = self.view.rows.fetch(sid, rows, ["emb_file", "emb_row"]).to_pylist()
            for p, rec in zip(positions, recs, strict=True):
                wanted[rec["emb_file"]].append((p, int(rec["emb_row"])))
        for emb_file, pairs in wanted.items():
            order = sorted(pairs, key=lambda pr: pr[1])  # ascending rows: sequential mmap reads
            rows_read = self.array(emb_file, dim)[[r for _, r in order]]
            out[[p for p, _ in order]] = _unit(rows_read)
        return out


def _npz_images(path: Path, dim: int | None) -> NDArray[Any]:
    with np.load(path) as archive:
        names = [n for n in archive.files if n.endswith("_img")]
        fitting = [n for n in names if dim is None or archive[n].shape[1] == dim]
        if not fitting:
            raise InputError(
                f"no image-embedding array of dimension {dim} in {names}", path=str(path)
            )
        return np.asarray(archive[fitting[0]])


@dataclass
class EmbeddingIndex:
    """The built CLIP index of one release (flat or IVF-PQ), searched by cosine."""

    kind: str
    dim: int
    flat: VectorSearcher | None = None
    ivf: Any = None
    store: EmbeddingStore | None = None

    @classmethod
    def open_or_build(
        cls, view: ReleaseView, flat_max_rows: int, on_rows: Callable[[int], None]
    ) -> EmbeddingIndex | None:
        """The release's index (built first if missing or stale); ``None`` when its rows
        carry no embedding locations."""
        folder = view.release.dir / "clip"
        stamp = view.manifest.updated_at.isoformat()
        meta_path = folder / "meta.json"
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        store = EmbeddingStore(view)
        if meta.get("built_from") != stamp:
            locations = store.locations()
            if not locations:
                return None
            meta = _build(folder, store, locations, flat_max_rows, on_rows)
            meta["built_from"] = stamp
            write_atomic(meta_path, json.dumps(meta).encode())
        if meta["kind"] == "flat":  # on this disk, or held across a cluster (the view says)
            flat = view.vectors("clip")
            if flat is None:
                raise InputError(
                    "the exact CLIP index is missing; delete meta.json here to rebuild it",
                    path=str(folder),
                )
            return cls("flat", meta["dim"], flat=flat, store=store)
        ivf = faiss.read_index(str(folder / "ivfpq.faiss"), faiss.IO_FLAG_MMAP)
        nprobe = min(int(meta["nlist"]), max(16, int(meta["nlist"]) // 8))
        faiss.ParameterSpace().set_index_parameter(ivf, "nprobe", nprobe)
        return cls("ivfpq", meta["dim"], ivf=ivf, store=store)

    def search(
        self, queries: NDArray[np.float32], k: int
    ) -> tuple[list[list[tuple[int, float]]], tuple[str, ...]]:
        """Per query, up to ``k`` ``(catalog location, cosine)``, most similar first; and
        the index shards a fanned-out index could not reach (their rows were not compared)."""
        if self.flat is not None:
            hits = self.flat.knn(queries, k)
            ids, sims = hits.top_k(k, "ip")
            found = [
                [(int(i), float(s)) for i, s in zip(row_ids, row_s, strict=True) if i >= 0]
                for row_ids, row_s in zip(ids, sims, strict=True)
            ]
            return found, hits.not_searched
        assert self.store is not None
        _, cand = self.ivf.search(queries, k * _RERANK)
        out = []
        for query, row in zip(queries, cand, strict=True):
            locs = row[row >= 0].astype(np.int64)
            scores = self.store.vectors(locs, self.dim) @ query
            order = np.argsort(-scores, kind="stable")[:k]
            out.append([(int(locs[i]), float(scores[i])) for i in order])
        return out, ()


def _build(
    folder: Path,
    store: EmbeddingStore,
    locations: dict[str, list[tuple[int, int]]],
    flat_max_rows: int,
    on_rows: Callable[[int], None],
) -> dict[str, Any]:
    rows = sum(len(p) for p in locations.values())
    dim = store.dim(locations)
    folder.mkdir(parents=True, exist_ok=True)
    if rows <= flat_max_rows:
        shutil.rmtree(folder / "flat", ignore_errors=True)  # stale or half-built: start over
        index = VectorIndex.create(folder / "flat", dim, "ip")
        for vectors, locs in store.batches(locations, dim):
            index.add(vectors, locs)
            on_rows(len(locs))
        index.merge()
        return {"kind": "flat", "dim": dim, "rows": rows}
    # ~4 sqrt(n) lists (faiss's guidance), but >= 39 training points per list
    nlist = int(min(65_536, max(16, min(4 * math.sqrt(rows), rows / 39))))
    ivf = _train_ivfpq(store, locations, dim, nlist)
    for vectors, locs in store.batches(locations, dim):
        ivf.add_with_ids(vectors, locs)
        on_rows(len(locs))
    tmp = folder / ".ivfpq.faiss.tmp"
    faiss.write_index(ivf, str(tmp))
    tmp.replace(folder / "ivfpq.faiss")
    return {"kind": "ivfpq", "dim": dim, "rows": rows, "nlist": nlist}


def _train_ivfpq(
    store: EmbeddingStore, locations: dict[str, list[tuple[int, int]]], dim: int, nlist: int
) -> Any:
    """A trained, empty IVF-PQ: ``dim/16`` sub-quantizers of 8 bits (32 bytes per 512-d
    vector instead of 1,024 in float16), trained on an even sample of the rows."""
    sample: list[NDArray[np.float32]] = []
    total = sum(len(p) for p in locations.values())
    step = max(1, total // _TRAIN_MAX)
    for vectors, _ in store.batches(locations, dim):
        sample.append(vectors[::step])
    train = np.concatenate(sample)[:_TRAIN_MAX]
    subq = next(m for m in (dim // 16, dim // 8, dim // 4, dim // 2, dim) if dim % m == 0)
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFPQ(quantizer, dim, nlist, subq, 8, faiss.METRIC_INNER_PRODUCT)
    ivf.train(train)
    return ivf
