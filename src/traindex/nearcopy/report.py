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

from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from traindex import __version__
from traindex.catalog.manifest import utc_now
from traindex.catalog.store import Catalog
from traindex.core.matches import Match
from traindex.evidence.rowimages import RowImages, jpeg_data_uri, row_ref
from traindex.fingerprint.images import thumbnail_jpeg
from traindex.nearcopy.check import NearCopyReport, OutputResult

__all__ = ["render_report"]


@dataclass(frozen=True, slots=True)
class _Pair:
    match: Match
    thumb: str | None


@dataclass(frozen=True, slots=True)
class _Output:
    result: OutputResult
    thumb: str | None
    pairs: list[_Pair]


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("traindex.nearcopy", "templates"),
        autoescape=select_autoescape(["html", "html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _thumbnail(path: Path, side: int) -> str | None:
    jpeg = thumbnail_jpeg(path, side)  # an unreadable output is reported; it has no picture
    return None if jpeg is None else jpeg_data_uri(jpeg)


def render_report(
    report: NearCopyReport,
    catalog: Catalog,
    *,
    unsafe: float = 0.1,
    max_thumbnails: int = 500,
) -> str:
    """The report as one HTML document (outputs are read again from their paths)."""
    rows = RowImages(catalog, max_px=128, unsafe=unsafe)
    matches = [m for r in report.results for m in r.matches]
    digests = rows.digests(matches)
    thumbs = rows.thumbnails(matches, digests, max_thumbnails)
    outputs = [
        _Output(
            result,
            _thumbnail(Path(result.image), 256) if i < max_thumbnails else None,
            [_Pair(m, thumbs.get(row_ref(m))) for m in result.matches],
        )
        for i, result in enumerate(report.results)
    ]
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            outputs=outputs,
            counts=report.counts(),
            searched=report.searched,
            dataset=report.dataset,
            rules=asdict(report.rules),
            generated=utc_now().strftime("%Y-%m-%d %H:%M UTC"),
            version=__version__,
        )
    )
