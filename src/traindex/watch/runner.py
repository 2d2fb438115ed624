"""Which rows are new for a watch, and running it over them.

A release's rows are new for a watch when their catalog shard appears in one of the
watch's stages (``Watch.stages``) and the scan ledger does not list it yet: an ingest
adds shards to ``samples``, a fingerprint run adds them to ``fingerprints`` (and
``keypoints``/``faces``). Only those shards are searched; what matched is recorded once
per (watch, row) by the store's unique index, and the shards are then marked scanned.
A crash between the two only repeats a search whose rows are already recorded.

An image or face watch over rows no fingerprint covers does not stay silent: the
release's coverage for the watch's signals (``core.coverage``) is kept as a gap ("not
searched: none of its 9,999 rows has been fingerprinted (sha256, pdq, keypoints)") and reported
with the alerts until a fingerprint run covers the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from traindex.core.coverage import ReleaseCoverage
from traindex.errors import TraindexError
from traindex.search.service import SearchService
from traindex.search.views import ReleaseView
from traindex.watch.finder import WatchFinder
from traindex.watch.model import Watch
from traindex.watch.store import WatchStore

__all__ = ["WatchRun", "WatchRunner"]


@dataclass
class WatchRun:
    """What one watch did over one release in one run."""

    watch: Watch
    release: str
    new_shards: int = 0
    new_alerts: int = 0
    coverage: ReleaseCoverage | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "watch": self.watch.id,
            "release": self.release,
            "new_shards": self.new_shards,
            "new_alerts": self.new_alerts,
            "error": self.error,
        }
        if self.coverage is not None:
            data["coverage"] = self.coverage.to_json(self.watch.signals)
        return data


@dataclass
class RunReport:
    runs: list[WatchRun] = field(default_factory=list)

    @property
    def new_alerts(self) -> int:
        return sum(r.new_alerts for r in self.runs)


def _stage_shards(view: ReleaseView, stage: str) -> set[int]:
    if stage == "samples":
        return set(view.shard_ids)
    return set(view.release.indexed(stage)) & set(view.shard_ids)


class WatchRunner:
    """Runs saved watches over the rows each has not compared yet."""

    def __init__(self, search: SearchService, store: WatchStore | None = None) -> None:
        self.settings = search.catalog.settings
        self.store = store or WatchStore(self.settings.home)
        self.catalog = search.catalog
        self.views = search.views
        self.finder = WatchFinder(search)

    def run(
        self, *, dataset: str | None = None, watch_ids: Sequence[str] | None = None
    ) -> RunReport:
        """Run the watches (all, or ``watch_ids``) over the releases (all, or ``dataset``:
        NAME or NAME/RELEASE), one process at a time."""
        report = RunReport()
        with self.store.lock():
            watches = self.store.watches()
            if watch_ids is not None:
                watches = [self.store.get(i) for i in watch_ids]
            if not watches or not any(True for _ in self.catalog.releases()):
                return report
            views = self.views.select(dataset)
            for watch in watches:
                report.runs.extend(self._run_one(watch, view) for view in views)
        return report

    def _run_one(self, watch: Watch, view: ReleaseView) -> WatchRun:
        name, release = view.manifest.name, view.manifest.release
        run = WatchRun(watch, f"{name}/{release}")
        fresh = {
            stage: _stage_shards(view, stage) - self.store.scanned(watch.id, name, release, stage)
            for stage in watch.stages
        }
        shards = set().union(*fresh.values())
        if shards:
            try:
                matches = self.finder.find(watch, view, shards)
            except TraindexError as exc:  # a gone folder, a photo without one face
                run.error = str(exc)
                return run
            except ModuleNotFoundError as exc:  # an image watch without the images extra
                run.error = f"needs module {exc.name!r} (pip install 'traindex[all]')"
                return run
            run.new_shards = len(shards)
            run.new_alerts = self.store.add_alerts(watch.id, matches)
            for stage, done in fresh.items():
                self.store.mark_scanned(watch.id, name, release, stage, done)
        if watch.signals:
            run.coverage = view.coverage(watch.signals)
            self.store.set_gap(watch.id, run.coverage, watch.signals)
        return run
