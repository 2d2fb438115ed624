"""Run one watch over some shards of one release, with the existing search services.

No matcher of its own: key and caption watches go through ``SearchService.matches_in``
(the URL/domain/Flickr/caption lookups of ``traindex search``), image and face watches
through ``SearchService.search`` (``ImageSearch``: same file, PDQ with variants,
keypoints; ``FaceSearch``), each limited to the release; rows outside the new shards are
dropped.

Face watches keep the face-search guardrails (docs/faces.md): the photo must show exactly
one usable face (checked when the watch is added and again on every run), it is read from
the creator's own file for each run and never copied or embedded into storage, matches
carry no caption or uploader name (``FaceSearch`` strips them), and every run is counted
in the face-search audit counter (counts only).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from traindex.core.matches import Match
from traindex.errors import InputError
from traindex.search.face_guard import FaceAudit
from traindex.search.queries import FaceQuery, ImagePathsQuery
from traindex.search.service import SearchService
from traindex.search.views import ReleaseView
from traindex.watch.model import KEY_KINDS, Watch, portfolio

__all__ = ["WatchFinder", "check_face"]

_ALL = 1 << 31  # no page limit: a watch records every matching row once


def check_face(search: SearchService, path: Path) -> None:
    """Refuse a face-watch photo that does not show exactly one usable face (needs dlib)."""
    search.faces.query_face(path.read_bytes(), name=str(path))


class WatchFinder:
    """Runs watches through the one search entry of a watch run (``SearchService``)."""

    def __init__(self, search: SearchService) -> None:
        self.search = search

    def find(self, watch: Watch, view: ReleaseView, shard_ids: Collection[int]) -> list[Match]:
        """Matches of ``watch`` in ``shard_ids`` of ``view`` (``InputError`` if its files
        cannot be read, or a face photo no longer shows exactly one face)."""
        if watch.kind in KEY_KINDS:
            return self.search.matches_in(view, watch.query, shard_ids)
        release = f"{view.manifest.name}/{view.manifest.release}"
        if watch.kind == "images":
            query = ImagePathsQuery(_images(watch))
            found = self.search.search(query, dataset=release, limit=_ALL).matches
        else:
            found = self._face(watch, release)
        shards = {view.relpaths[s] for s in shard_ids}
        return [m for m in found if m.shard in shards]

    def _face(self, watch: Watch, release: str) -> list[Match]:
        path = Path(watch.value)
        audit = FaceAudit(self.search.catalog.settings.home)
        if not path.is_file():
            raise InputError("the watch's photo is gone: add the watch again", path=str(path))
        try:
            query = FaceQuery(path.read_bytes(), name=str(path))
            result = self.search.search(query, dataset=release, limit=_ALL)
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
