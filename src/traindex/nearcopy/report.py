"""The side-by-side HTML report of a near-copy check: one self-contained file.

Each output's thumbnail sits next to the training rows it matched, with the verdict, the
evidence table (method, which part of each image, distance) and the LAION watermark
probability. Every picture is inlined as a ``data:`` URI made from *local* files - the
output itself, and the training image where the catalog can reach it
(``evidence.rowimages``: img2dataset shards, or the files the fingerprint job read) - so
the report opens offline and never fetches a dataset URL. Rows flagged unsafe get no
thumbnail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from traindex import __version__
from traindex.catalog.manifest import utc_now
from traindex.catalog.store import Catalog
from traindex.core.match_evidence import NearCopyEvidence
from traindex.core.matches import Match
from traindex.evidence.rowimages import RowImages, jpeg_data_uri, row_ref
from traindex.fingerprint.images import thumbnail_jpeg
from traindex.nearcopy.check import NearCopyReport, OutputResult

__all__ = ["ReportItem", "render_report", "report_items"]


@dataclass(frozen=True, slots=True)
class _Pair:
    match: Match
    thumb: str | None


@dataclass(frozen=True, slots=True)
class ReportItem:
    result: OutputResult
    thumb: str | None
    pairs: list[_Pair]

    @property
    def regions(self) -> list[dict[str, Any]]:
        """Where training images were found in this output (``nearcopy.located``)."""
        regions = (p.match.evidence_as(NearCopyEvidence).region for p in self.pairs)
        return [region for region in regions if region is not None]


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("traindex.nearcopy", "templates"),
        autoescape=select_autoescape(["html", "html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _thumbnail(source: bytes | Path, name: str, side: int) -> str | None:
    # an unreadable output is reported; it has no picture
    jpeg = thumbnail_jpeg(source, side, name=name)
    return None if jpeg is None else jpeg_data_uri(jpeg)


def render_report(
    report: NearCopyReport,
    catalog: Catalog,
    *,
    unsafe: float = 0.1,
    max_thumbnails: int = 500,
    files: Mapping[str, bytes] | None = None,
) -> str:
    """The report as one HTML document. Output pictures come from ``files`` (name ->
    bytes, e.g. uploads) or, without it, are read again from their paths."""
    outputs = report_items(
        report, catalog, unsafe=unsafe, max_thumbnails=max_thumbnails, files=files
    )
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            outputs=outputs,
            counts=report.counts(),
            searched=report.searched,
            coverage=report.coverage,
            dataset=report.dataset,
            rules=asdict(report.rules) | {"keypoint_min_inliers": report.keypoints.min_inliers},
            generated=utc_now().strftime("%Y-%m-%d %H:%M UTC"),
            version=__version__,
        )
    )


def report_items(
    report: NearCopyReport,
    catalog: Catalog,
    *,
    unsafe: float = 0.1,
    max_thumbnails: int = 500,
    files: Mapping[str, bytes] | None = None,
) -> list[ReportItem]:
    """Each output with its thumbnail and its matches' training thumbnails (``data:``
    URIs from local files only; none for rows flagged unsafe)."""
    rows = RowImages(catalog, max_px=128, unsafe=unsafe)
    matches = [m for r in report.results for m in r.matches]
    digests = rows.digests(matches)
    thumbs = rows.thumbnails(matches, digests, max_thumbnails)
    return [
        ReportItem(
            result,
            _thumbnail(
                files[result.image] if files is not None else Path(result.image), result.image, 256
            )
            if i < max_thumbnails and (files is None or result.image in files)
            else None,
            [_Pair(m, thumbs.get(row_ref(m))) for m in result.matches],
        )
        for i, result in enumerate(report.results)
    ]
