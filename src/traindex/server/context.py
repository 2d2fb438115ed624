"""The per-thread services behind the web pages and the JSON API.

FastAPI runs blocking handlers in a thread pool. Catalog readers (open Parquet files,
Tantivy searchers, caches) are not documented as safe to share between threads, so each
worker thread gets its own ``WebContext`` over the thread's search entry of the app's
``bootstrap.Services``; memory-mapped indexes are shared by the OS page cache anyway, so
a context per thread costs little.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from traindex.bootstrap import Services
from traindex.search.views import ReleaseView
from traindex.server.rows import Rows
from traindex.server.searching import WebSearch
from traindex.server.thumbnails import Thumbnails

__all__ = ["PerThread", "WebContext"]


@dataclass
class WebContext:
    """Search, thumbnails and row lookups sharing one set of release readers."""

    search: WebSearch
    thumbnails: Thumbnails
    rows: Rows

    @classmethod
    def open(cls, services: Services) -> WebContext:
        search = WebSearch.open(services)
        thumbnails = Thumbnails(services.settings)
        return cls(search, thumbnails, Rows(search, thumbnails))

    def view_of(self, dataset: str, release: str) -> ReleaseView | None:
        """The open view of one release, or ``None`` if it is gone (removed meanwhile)."""
        views = self.search.service.views.select(None)
        return next(
            (v for v in views if (v.manifest.name, v.manifest.release) == (dataset, release)),
            None,
        )


class PerThread:
    """Hands each thread its own ``WebContext``, opened on first use."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._local = threading.local()

    def get(self) -> WebContext:
        context: WebContext | None = getattr(self._local, "context", None)
        if context is None:
            context = WebContext.open(self.services)
            self._local.context = context
        return context
