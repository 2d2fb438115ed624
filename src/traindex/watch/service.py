"""The watchlist's one entry point for the CLI, the web app and the ingest/fingerprint hooks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.search.service import SearchService
from traindex.watch.finder import check_face
from traindex.watch.model import Contacts, Watch, WatchKind, new_watch, with_contacts
from traindex.watch.notify import Notifier, Sent
from traindex.watch.runner import RunReport, WatchRunner
from traindex.watch.store import WatchStore

__all__ = ["Outcome", "WatchService"]


@dataclass
class Outcome:
    """A run and the notifications it sent."""

    report: RunReport
    sent: Sent


class WatchService:
    """Add, run and notify watches of one traindex home.

    ``search`` gives the calling thread's search entry (``bootstrap.Services``); without
    it, each run opens its own over a new catalog of ``settings``.
    """

    def __init__(
        self, settings: Settings, *, search: Callable[[], SearchService] | None = None
    ) -> None:
        self.settings = settings
        self.store = WatchStore(settings.home)
        self._search = search or (lambda: SearchService(Catalog(settings)))

    def add(self, kind: WatchKind, value: str, **contacts: str | None) -> Watch:
        """Check and save a watch (atomically); ``run`` searches what is already ingested.
        ``contacts``: ``owner_id``, ``email``, ``webhook`` as ``new_watch`` takes them."""
        watch = new_watch(kind, value, **contacts)
        if kind == "face":
            check_face(self._search(), Path(watch.value))
        self.store.add(watch)
        return watch

    def edit(self, watch_id: str, contacts: Contacts) -> Watch:
        """Change who a watch tells, keeping its search and everything it found
        (``model.with_contacts`` says what is sent where)."""
        return self.store.update(watch_id, lambda watch: with_contacts(watch, contacts))

    def run(self, *, dataset: str | None = None, watch_ids: Sequence[str] | None = None) -> Outcome:
        """Run watches over the rows they have not compared, then notify what is new."""
        runner = WatchRunner(self._search(), self.store)
        report = runner.run(dataset=dataset, watch_ids=watch_ids)
        return Outcome(report, Notifier(self.settings, self.store).send())

    def after_new_rows(self, dataset: str) -> Outcome | None:
        """The hook of ingest and fingerprint: run every watch over ``dataset``'s new rows
        (``None`` when nobody watches, so the hook costs nothing then)."""
        if not self.store.watches():
            return None
        return self.run(dataset=dataset)
