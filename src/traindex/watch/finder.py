"""Run one watch over some shards of one release, with the existing search services.

No matcher of its own: key and caption watches go through ``SearchService.matches_in``
(the URL/domain/Flickr/caption lookups of ``traindex search``), image watches through
``ImageSearch`` (same file, PDQ with variants, keypoints) and face watches through
``FaceSearch``, each limited to the release; rows outside the new shards are dropped.

Face watches keep the face-search guardrails (docs/faces.md): the photo must show exactly
one usable face (checked when the watch is added and again on every run), it is read from
the creator's own file for each run and never copied or embedded into storage, matches
carry no caption or uploader name (``FaceSearch`` strips them), and every run is counted
in the face-search audit counter (counts only).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.core.matches import Match
from traindex.errors import InputError
from traindex.search.service import SearchService
from traindex.search.views import ReleaseView, ViewCache
from traindex.server.face_guard import FaceAudit
from traindex.watch.model import KEY_KINDS, Watch, portfolio

if TYPE_CHECKING:
    from traindex.search.faces import FaceSearch
    from traindex.search.images import ImageSearch

__all__ = ["WatchFinder", "check_face"]

_ALL = 1 << 31  # no page limit: a watch records every matching row once


def check_face(settings: Settings, path: Path) -> None:
    """Refuse a face-watch photo that does not show exactly one usable face (needs dlib)."""
    from traindex.search.faces import FaceSearch

    FaceSearch(Catalog(settings)).query_face(path.read_bytes(), name=str(path))


class WatchFinder:
    """The search services a watch run uses, opened once per run."""

    def __init__(self, catalog: Catalog, views: ViewCache) -> None:
        self.catalog = catalog
        self.views = views
        self.keys = SearchService(catalog, views)
        self._images: ImageSearch | None = None
        self._faces: FaceSearch | None = None

    def find(self, watch: Watch, view: ReleaseView, shard_ids: Collection[int]) -> list[Match]:
        """Matches of ``watch`` in ``shard_ids`` of ``view`` (``InputError`` if its files
        cannot be read, or a face photo no longer shows exactly one face)."""
        if watch.kind in KEY_KINDS:
            return self.keys.matches_in(view, watch.query, shard_ids)
        release = f"{view.manifest.name}/{view.manifest.release}"
        if watch.kind == "images":
            found = (
                self._image_search()
                .search_paths(_images(watch), dataset=release, limit=_ALL)
                .matches
            )
        else:
            found = self._face(watch, release)
        shards = {view.relpaths[s] for s in shard_ids}
        return [m for m in found if m.shard in shards]

    def _image_search(self) -> ImageSearch:
        if self._images is None:
            from traindex.search.images import ImageSearch

            self._images = ImageSearch(self.catalog, self.views)
        return self._images

    def _face(self, watch: Watch, release: str) -> list[Match]:
        if self._faces is None:
            from traindex.search.faces import FaceSearch

            self._faces = FaceSearch(self.catalog, self.views)
        path = Path(watch.value)
        audit = FaceAudit(self.catalog.settings.home)
        if not path.is_file():
            raise InputError("the watch's photo is gone: add the watch again", path=str(path))
        try:
            result = self._faces.search(
                path.read_bytes(), name=str(path), dataset=release, limit=_ALL
            )
        except InputError:
            audit.record("refused")
            raise
        audit.record("searched")
        return result.matches


def _images(watch: Watch) -> list[Path]:
    folder = Path(watch.value)
    if not folder.is_dir():
        raise InputError("the watch's image folder is gone: add the watch again", path=str(folder))
    return portfolio(folder)
