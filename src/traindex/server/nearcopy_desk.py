"""What the near-copy page and ``POST /api/nearcopy`` share: limits, rate, one checker.

Both read the upload within ``UploadLimits`` (``server.uploads``), expand zipped folders
(``server.zipped``), admit the client through a token bucket (a check describes every image
with ~45 PDQ variants, tiles and ~12,000 keypoints: seconds of CPU, so a client gets
``web_nearcopy_burst`` checks and then ``web_nearcopy_per_minute``) and run the same
``NearCopyChecker`` as ``traindex nearcopy``. Uploaded images live only for the request.
"""

from __future__ import annotations

import threading

from starlette.requests import Request

from traindex.bootstrap import Services
from traindex.errors import InputError, RateLimitedError
from traindex.nearcopy.check import NearCopyChecker, NearCopyReport
from traindex.nearcopy.report import render_report
from traindex.nearcopy.results import OutputResult
from traindex.registry.ratelimit import TokenBuckets
from traindex.server.uploads import SearchForm, UploadLimits, read_search_form
from traindex.server.zipped import expand_zips

__all__ = ["NearCopyDesk"]


class NearCopyDesk:
    """One app's near-copy service for web requests."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        self.settings = settings
        self.catalog = services.catalog
        self.limits = UploadLimits.from_settings(settings, unit="check")
        self.buckets = TokenBuckets(
            settings.web_nearcopy_per_minute / 60, settings.web_nearcopy_burst
        )
        self.checker = NearCopyChecker.from_settings(settings, catalog=services.catalog)
        self._lock = threading.Lock()  # one checker (its caches), one check at a time

    def admit(self, request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        wait = self.buckets.take(client)
        if wait > 0:
            raise RateLimitedError(
                f"near-copy check limit reached; try again in {wait:.0f} s", wait
            )

    async def read(self, request: Request) -> SearchForm:
        """The request's images (zips expanded) and fields, within the upload limits."""
        return expand_zips(await read_search_form(request, self.limits), self.limits)

    def check(self, form: SearchForm) -> NearCopyReport:
        """Judge the uploaded images; files refused by the limits are results with errors."""
        if not form.files and not form.rejected:
            raise InputError("nothing to check: send generated images (or a zip of a folder)")
        dataset = form.fields.get("dataset", "").strip() or None
        with self._lock:
            report = self.checker.check(form.files, dataset=None if dataset == "all" else dataset)
        for name, why in form.rejected:
            report.results.append(OutputResult(name, "novel", error=why))
        return report

    def report_html(self, report: NearCopyReport, form: SearchForm) -> str:
        """The side-by-side report (``traindex nearcopy --report``) of this check."""
        return render_report(
            report,
            self.catalog,
            unsafe=self.settings.evidence_unsafe_threshold,
            files=dict(form.files),
        )
