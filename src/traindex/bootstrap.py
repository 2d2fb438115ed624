"""The composition root: the services of one process, built once from its ``Settings``.

A CLI run (``ctx.obj``) and the web app (``create_app``, ``app.state.services``) each
make one ``Services`` and take the catalog, the search entry and the evidence service
from it instead of constructing them where they are used (job entry points still called
with ``Settings`` are listed in docs/architecture.md). Each service is created on first use,
so a command pays only for what it touches and no optional extra is imported here: the
base install (no extras) builds the catalog and metadata search through this object.

The catalog is one per process. Search readers (open Parquet files, Tantivy searchers)
are not documented as safe to share between threads, so the search entry, and the
evidence service that searches through it, are one per thread: a CLI run has one, the
web app one per worker thread. The face model is loaded once per process and shared by
every thread's search (callers that run it concurrently hold their own lock, as today).
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.search.fanout import search_views
from traindex.search.service import ImageLimits, SearchService

if TYPE_CHECKING:
    from traindex.evidence.service import EvidenceService
    from traindex.search.faces import FaceSearch
    from traindex.watch.service import WatchService

__all__ = ["Services"]


class Services:
    """The catalog, the search entry, the evidence service and the watchlist of one process.

    ``image_limits`` bounds what image queries decode (the web app's upload limits).
    """

    def __init__(self, settings: Settings, *, image_limits: ImageLimits | None = None) -> None:
        self.settings = settings
        self.catalog = Catalog(settings)  # cheap: releases are read when asked for
        self.image_limits = image_limits
        self._local = threading.local()
        self._faces: FaceSearch | None = None
        self._faces_lock = threading.Lock()

    @classmethod
    def for_web(cls, settings: Settings) -> Services:
        """The web app's: image queries within its upload limits."""
        limits = ImageLimits(settings.web_max_pixels, settings.web_max_file_bytes)
        return cls(settings, image_limits=limits)

    def with_settings(self, **update: Any) -> Services:
        """Services under ``settings`` changed by a command's options (``--clip-model``,
        ``--ray-address``, ``--tsa``): a new root, since its catalog and readers follow
        the settings; unchanged settings keep these services."""
        changed = {k: v for k, v in update.items() if getattr(self.settings, k) != v}
        if not changed:
            return self
        return Services(self.settings.model_copy(update=changed), image_limits=self.image_limits)

    @property
    def search(self) -> SearchService:
        """The search entry (``SearchService.search(query)``) of the calling thread."""
        held: SearchService | None = getattr(self._local, "search", None)
        if held is None:
            views = search_views(self.catalog, self.settings)
            held = SearchService(
                self.catalog, views, image_limits=self.image_limits, faces=lambda: self.faces
            )
            self._local.search = held
        return held

    @property
    def evidence(self) -> EvidenceService:
        """The evidence service of the calling thread (it searches through ``search``)."""
        held: EvidenceService | None = getattr(self._local, "evidence", None)
        if held is None:
            from traindex.evidence.service import EvidenceService

            held = self._local.evidence = EvidenceService(self.settings, search=self.search)
        return held

    @cached_property
    def watches(self) -> WatchService:
        """The watchlist, its runs searching through the calling thread's ``search``."""
        from traindex.watch.service import WatchService

        return WatchService(self.settings, search=lambda: self.search)

    @property
    def faces(self) -> FaceSearch:
        """Face search, its model loaded once per process (needs the ``faces`` extra)."""
        with self._faces_lock:
            if self._faces is None:
                from traindex.search.faces import FaceSearch

                views = search_views(self.catalog, self.settings)  # fanned out if placed
                self._faces = FaceSearch(self.catalog, views)
            return self._faces
