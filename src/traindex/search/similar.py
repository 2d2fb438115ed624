"""``traindex search --similar FILE | --similar-text "..."``: CLIP neighbours in a dataset.

The query is embedded with the user's own CLIP export (``fingerprint.clip``) and searched
against the dataset's *published* image embeddings (``search.embeddings``): nothing of
the dataset is re-embedded. Every result is method ``similar`` with its cosine and an
explanation that a semantic neighbour is not evidence that the row holds the query image
(DESIGN.md vocabulary); "is this my image" is PDQ's and SHA-256's job.

The query model must produce embeddings of the dataset's dimension (LAION-400M:
ViT-B/32, 512-d; LAION-5B: ViT-L/14, 768-d); a mismatch is an error, not a silent
nonsense ranking. The same object is the CLIP ``NeighbourSource`` of the near-copy check.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from traindex.catalog.locations import split_loc
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.core.match_evidence import SimilarEvidence
from traindex.core.matches import Match, SearchResult
from traindex.errors import InputError
from traindex.fingerprint.clip import ClipEncoder, ClipModelError
from traindex.search.embeddings import EmbeddingIndex
from traindex.search.views import ReleaseView, ViewCache, coverage_of, row_match

__all__ = ["SIMILAR_EXPLANATION", "SimilarSearch"]

SIMILAR_EXPLANATION = (
    "a semantic neighbour by CLIP embedding (cosine shown): it looks alike or shows "
    "similar things; this is not evidence that the row holds your image"
)


class SimilarSearch:
    """CLIP neighbour search over the releases of a catalog."""

    def __init__(
        self,
        catalog: Catalog,
        encoder: ClipEncoder,
        *,
        flat_max_rows: int = 2_000_000,
        views: ViewCache | None = None,
        on_rows: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.encoder = encoder
        self.views = views or ViewCache(catalog)
        self.flat_max_rows = flat_max_rows
        self.on_rows = on_rows
        self._indexes: dict[str, EmbeddingIndex | None] = {}
        self._model_dim: int | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        views: ViewCache | None = None,
        on_rows: Callable[[int], None] = lambda n: None,
    ) -> SimilarSearch:
        """Needs ``settings.clip_model_dir`` (the user's CLIP export); searches ``views``
        (by default the views ``settings`` give over a new catalog: fanned out where
        ``search_ray_address`` places a release, ``search.fanout.search_views``)."""
        if settings.clip_model_dir is None:
            raise ClipModelError(
                "no CLIP model configured: set TRAINDEX_CLIP_MODEL_DIR or pass --clip-model "
                "DIR (a folder with clip.json and ONNX encoders you exported; traindex never "
                "downloads weights, see docs/nearcopy.md)"
            )
        if views is None:
            from traindex.search.fanout import search_views

            catalog = Catalog(settings)
            views = search_views(catalog, settings)
        return cls(
            views.catalog,
            ClipEncoder(settings.clip_model_dir),
            flat_max_rows=settings.clip_flat_max_rows,
            views=views,
            on_rows=on_rows,
        )

    def index(self, view: ReleaseView) -> EmbeddingIndex | None:
        """The release's CLIP index (built on first use), or ``None`` without embeddings."""
        key = f"{view.release.dir}:{view.stamp}"
        if key not in self._indexes:
            index = EmbeddingIndex.open_or_build(view, self.flat_max_rows, self.on_rows)
            if index is not None and index.dim != self._dim():
                raise ClipModelError(
                    f"the CLIP model {self.encoder.config.model!r} gives {self._dim()}-d "
                    f"embeddings but {view.manifest.name}/{view.manifest.release} publishes "
                    f"{index.dim}-d ones; use the model the dataset was embedded with",
                    path=str(self.encoder.config.image_model),
                )
            self._indexes[key] = index
        return self._indexes[key]

    def _dim(self) -> int:
        """The model's embedding size, measured once on a blank image (ONNX exports often
        leave the output dimension symbolic)."""
        if self._model_dim is None:
            side = self.encoder.config.image_size
            blank = Image.new("RGB", (side, side))
            self._model_dim = int(self.encoder.embed_images([blank]).shape[1])
        return self._model_dim

    def embed_files(self, files: Sequence[tuple[str, bytes]]) -> NDArray[np.float32]:
        """Unit-norm embeddings of image files (decoded safely, RGB)."""
        return self.encoder.embed_files(files)

    def image_neighbours(
        self, view: ReleaseView, files: Sequence[tuple[str, bytes]], k: int
    ) -> tuple[list[list[tuple[int, float]]], tuple[str, ...]] | None:
        """Per file, ``(catalog location, cosine)`` best first, and the index shards not
        reached (the near-copy hook)."""
        index = self.index(view)
        return None if index is None else index.search(self.embed_files(files), k)

    def search_images(
        self, files: Sequence[tuple[str, bytes]], *, dataset: str | None = None, limit: int = 20
    ) -> SearchResult:
        """Neighbours of image files (``--similar FILE``)."""
        names = [name for name, _ in files]
        query = {"kind": "similar", "value": names[0] if len(names) == 1 else names}
        return self._search(self.embed_files(files), names, query, dataset, limit)

    def search_text(
        self, text: str, *, dataset: str | None = None, limit: int = 20
    ) -> SearchResult:
        """Images whose embedding is near a text's (``--similar-text "..."``)."""
        if not text.strip():
            raise InputError("--similar-text needs some words")
        vectors = self.encoder.embed_texts([text])
        return self._search(
            vectors, [text], {"kind": "similar_text", "value": text}, dataset, limit
        )

    def _search(
        self,
        vectors: NDArray[np.float32],
        names: list[str],
        query: dict[str, Any],
        dataset: str | None,
        limit: int,
    ) -> SearchResult:
        matches: list[Match] = []
        searched = []
        missed: list[str] = []
        views = self.views.select(dataset)
        for view in views:
            index = self.index(view)
            if index is None:
                continue
            release = f"{view.manifest.name}/{view.manifest.release}"
            searched.append(release)
            found, not_searched = index.search(vectors, limit)
            missed.extend(f"{release}:{shard}" for shard in not_searched)
            for qi, hits in enumerate(found):
                matches.extend(self._matches(view, names[qi], hits))
        matches.sort(key=lambda m: -m.score)
        described = query | {"dataset": dataset, "model": self.encoder.config.model}
        described |= {"searched": searched, "limit": limit}
        coverage = coverage_of(views, ("clip",)).with_index_shards_lost(missed)
        return SearchResult(described, matches[:limit], len(matches), coverage)

    def _matches(self, view: ReleaseView, name: str, hits: list[tuple[int, float]]) -> list[Match]:
        by_shard: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for loc, cosine in hits:
            sid, row = split_loc(loc)
            by_shard[sid].append((row, cosine))
        out = []
        for sid, rows in by_shard.items():
            records = view.records(sid, [row for row, _ in rows])
            for (_, cosine), record in zip(rows, records, strict=True):
                evidence = SimilarEvidence(
                    name, round(cosine, 4), self.encoder.config.model, SIMILAR_EXPLANATION
                )
                out.append(
                    row_match(view, sid, record, method="similar", score=cosine, evidence=evidence)
                )
        return out
