"""Evidence operations as the CLI and the API call them: search, build, sign, render.

One object per process (``bootstrap.Services.evidence``) holds the settings, the search
entry with its catalog and the signing key (created on first use in ``<home>/keys``, mode
0600). Adapters stay thin: they parse
arguments, call one method here and write the bytes it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traindex.catalog.manifest import utc_now
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.core.keyring import Keyring, make_pdf_identity
from traindex.core.signing import Signer, key_fingerprint
from traindex.core.timestamps import request_timestamp
from traindex.errors import InputError
from traindex.evidence.build import SearchRun, build_report, runs_from_json, runs_from_result
from traindex.evidence.firstpage import Language
from traindex.evidence.pades import PdfSigning, sign_pdf
from traindex.evidence.proof import with_published_rows
from traindex.evidence.render import ReportFormat, render
from traindex.evidence.rowimages import RowImages, RowRef
from traindex.evidence.seal import SealedReport, seal
from traindex.search.fanout import search_views
from traindex.search.queries import ImagePathsQuery, Query
from traindex.search.service import SearchService

__all__ = ["EvidenceService", "RenderedReport", "keys_dir"]


def keys_dir(settings: Settings) -> Path:
    """Where the signing key lives: ``<home>/keys`` (shared with registry snapshots)."""
    return settings.home / "keys"


@dataclass(frozen=True)
class RenderedReport:
    """A signed report, its thumbnails, and how PDFs are made (size cap, PAdES signing).

    ``pdf_signing`` None renders an unsigned PDF (only for callers without a keyring).
    """

    sealed: SealedReport
    thumbnails: dict[RowRef, str]
    pdf_max_matches: int = 5_000
    pdf_signing: PdfSigning | None = None
    lang: Language = "en"

    def render(self, fmt: ReportFormat) -> bytes:
        """The report as ``fmt``; a PDF over ``pdf_max_matches`` rows is refused.

        WeasyPrint holds every laid-out page in memory (about 0.5 MB per listed row, see
        docs/benchmarks.md), so a huge PDF could exhaust a server; HTML, CSV and JSON
        stay small and fast at any size.
        """
        count = len(self.sealed.report.matches)
        if fmt == "pdf" and count > self.pdf_max_matches:
            raise InputError(
                f"the report lists {count:,} rows; PDFs are limited to {self.pdf_max_matches:,} "
                "(evidence_pdf_max_matches): write .html, .csv or .json instead"
            )
        data = render(self.sealed, fmt, self.thumbnails, lang=self.lang)
        if fmt != "pdf" or self.pdf_signing is None:
            return data
        fingerprint = self.sealed.signature.key_fingerprint
        reason = f"traindex evidence report {self.sealed.report.report_id}"
        return sign_pdf(data, self.pdf_signing, reason=reason, fingerprint=fingerprint)


class EvidenceService:
    """Build, sign and render evidence reports against one home's catalog."""

    def __init__(
        self,
        settings: Settings,
        signer: Signer | None = None,
        *,
        search: SearchService | None = None,
    ) -> None:
        self.settings = settings
        if search is None:  # standalone use; processes pass the one of their Services
            catalog = Catalog(settings)
            search = SearchService(catalog, search_views(catalog, settings))
        self.search = search
        self.catalog = search.catalog
        self._signer = signer
        self.keyring = Keyring(keys_dir(settings))
        self.row_images = RowImages(
            self.catalog,
            max_px=settings.evidence_thumbnail_px,
            unsafe=settings.evidence_unsafe_threshold,
        )

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            self._signer = self.keyring.signer
        return self._signer

    def search_images(
        self,
        paths: Sequence[Path],
        dataset: str | None = None,
        on_progress: Callable[[int], None] = lambda n: None,
    ) -> SearchRun:
        """Search image files (one or a portfolio) and keep every match per file."""
        limit = self.settings.evidence_max_matches
        query = ImagePathsQuery(paths, on_progress)
        return runs_from_result(self.search.search(query, dataset=dataset, limit=limit))

    def search_query(self, query: Query, dataset: str | None = None) -> SearchRun:
        """Search a URL, domain, Flickr id or caption text, listing up to the match cap."""
        limit = self.settings.evidence_max_matches
        return runs_from_result(self.search.search(query, dataset=dataset, limit=limit))

    def runs_from_json(self, document: dict[str, Any] | list[dict[str, Any]]) -> list[SearchRun]:
        return runs_from_json(document)

    def report(
        self, runs: Sequence[SearchRun], requested_by: str, lang: Language = "en"
    ) -> RenderedReport:
        """Build, sign and (with ``tsa_url``) timestamp the report; PDFs get a PAdES
        signature by the same operator key. Thumbnails come from the catalog where it can."""
        matches = [m for run in runs for m in run.matches]
        digests = self.row_images.digests(matches)
        body = build_report(runs, self.catalog, requested_by=requested_by, digests=digests)
        body = with_published_rows(body, self.catalog)
        thumbs = self.row_images.thumbnails(matches, digests, self.settings.evidence_max_thumbnails)
        sealed = seal(body, self.signer)
        if self.settings.tsa_url is not None:
            stamp = request_timestamp(self.settings.tsa_url, sealed.signed_bytes())
            sealed = SealedReport(sealed.report, sealed.signature, stamp, sealed.body)
        limit = self.settings.evidence_pdf_max_matches
        return RenderedReport(sealed, thumbs, limit, self._pdf_signing(), lang)

    def signed_pdf(self, pdf: bytes, reason: str) -> bytes:
        """``pdf`` PAdES-signed by the operator key, as report PDFs are (for documents this
        service did not build itself, e.g. the near-copy report)."""
        fingerprint = key_fingerprint(self.signer.public_key)
        return sign_pdf(pdf, self._pdf_signing(), reason=reason, fingerprint=fingerprint)

    def _pdf_signing(self) -> PdfSigning:
        """The keyring's PDF identity; a signer given in code gets a fresh one bound to it."""
        signer = self.signer
        if signer.path is None:
            identity = make_pdf_identity(key_fingerprint(signer.public_key), utc_now())
            return PdfSigning(identity, self.settings.tsa_url)
        return PdfSigning.from_settings(self.settings, self.keyring)
