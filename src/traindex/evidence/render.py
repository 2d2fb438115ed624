"""Render a signed report as HTML, PDF, CSV or its canonical signed JSON.

HTML and PDF come from one Jinja2 template (``templates/report.html.j2``), so the PDF a
court receives says exactly what the web page showed; WeasyPrint paginates the tables
and repeats their header on every page. Both print the report digest and the signing
key's fingerprint. The JSON file is the signed document itself (``evidence.seal``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Literal

from jinja2 import Environment, PackageLoader, select_autoescape

from traindex.errors import InputError
from traindex.evidence.firstpage import Language, first_page, time_statement
from traindex.evidence.model import DownloadProof, EvidenceMatch, QueryMatch
from traindex.evidence.rowimages import RowRef
from traindex.evidence.seal import SealedReport

__all__ = [
    "FORMATS",
    "ReportFormat",
    "format_of",
    "html_to_pdf",
    "render",
    "render_csv",
    "render_html",
    "template_env",
]

ReportFormat = Literal["html", "pdf", "json", "csv"]
FORMATS: tuple[ReportFormat, ...] = ("html", "pdf", "json", "csv")
_CSV_COLUMNS = (
    "searched",
    "outcome",
    "dataset",
    "release",
    "source_file",
    "row",
    "key",
    "url",
    "caption",
    "license",
    "license_url",
    "method",
    "measure",
    "threshold",
    "confidence",
    "explanation",
    "searched_sha256",
    "searched_pdq",
    "dataset_sha256",
    "dataset_pdq",
    "download_proof",
)


@cache
def template_env() -> Environment:
    """The evidence package's Jinja2 environment (HTML autoescaped, Markdown not)."""
    return Environment(
        loader=PackageLoader("traindex.evidence", "templates"),
        autoescape=select_autoescape(["html", "html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def format_of(path: Path) -> ReportFormat:
    """The output format named by a file's extension."""
    suffix = path.suffix.lower().lstrip(".")
    for fmt in FORMATS:
        if suffix == fmt or (fmt == "html" and suffix == "htm"):
            return fmt
    raise InputError(f"unknown report format {path.suffix!r}; use .html, .pdf, .json or .csv")


def render_html(
    sealed: SealedReport, thumbnails: Mapping[RowRef, str] | None = None, lang: Language = "en"
) -> str:
    """Self-contained HTML: the lawyer's page in ``lang`` first, then the evidence tables;
    styles and thumbnails inline, no external requests."""
    thumbs = thumbnails or {}
    report = sealed.report
    rows = [
        (m, thumbs.get((m.dataset, m.release, m.source_file, m.key or ""))) for m in report.matches
    ]
    css = (Path(__file__).parent / "templates" / "report.css").read_text(encoding="utf-8")
    return (
        template_env()
        .get_template("report.html.j2")
        .render(
            report=report,
            signature=sealed.signature,
            rows=rows,
            thumbs=bool(thumbs),
            found=sum(1 for q in report.queries if q.outcome == "found"),
            matched_releases=len({(m.dataset, m.release) for m in report.matches}),
            css=css,
            first=first_page(sealed, lang),
            time_statement=time_statement(sealed),
        )
    )


def html_to_pdf(html: str) -> bytes:
    """PDF bytes of a self-contained HTML page (WeasyPrint; no network access)."""
    import weasyprint  # type: ignore[import-untyped]  # heavy import: only when asked
    from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

    # Only inline data: URIs; a report never makes a network or file request.
    fetcher = URLFetcher(allowed_protocols={"data"})
    pdf: bytes = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    return pdf


def render_csv(sealed: SealedReport) -> str:
    """One line per matching row (its searches joined by "; "), then one per search that
    found nothing."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for m in sealed.report.matches:
        row = m.dataset_image
        searched: Sequence[QueryMatch | EvidenceMatch] = m.matched_by or [m]
        images = [q.query_image for q in searched if q.query_image]
        record = m.model_dump(include=set(_CSV_COLUMNS))
        record.update(
            searched="; ".join(q.query for q in searched),
            outcome="found",
            searched_sha256="; ".join(i.sha256 or "" for i in images) or None,
            searched_pdq="; ".join(i.pdq or "" for i in images) or None,
            dataset_sha256=row.sha256 if row else None,
            dataset_pdq=row.pdq if row else None,
            download_proof=_proof_text(m.download_proof),
        )
        writer.writerow(record)
    for q in sealed.report.negatives:
        writer.writerow({"searched": q.value, "outcome": q.outcome, "explanation": q.detail})
    return out.getvalue()


def _proof_text(proof: DownloadProof | None) -> str | None:
    if proof is None:
        return None
    return (
        f"{proof.url} fetched at {proof.fetched_at} (HTTP {proof.http_status}), content "
        f"SHA-256 {proof.sha256}; {proof.time_basis}"
    )


def render(
    sealed: SealedReport,
    fmt: ReportFormat,
    thumbnails: Mapping[RowRef, str] | None = None,
    *,
    lang: Language = "en",
) -> bytes:
    """The report in ``fmt`` as bytes ready to write (HTML and PDF open in ``lang``)."""
    if fmt == "json":
        return sealed.to_bytes()
    if fmt == "csv":
        return render_csv(sealed).encode("utf-8")
    html = render_html(sealed, thumbnails, lang)
    return html_to_pdf(html) if fmt == "pdf" else html.encode("utf-8")
