"""``traindex report``: a signed evidence report from a search; ``report verify`` checks one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from traindex.cli.commands.image_search import portfolio_files
from traindex.cli.common import console, exit_with, services, settings, user_errors
from traindex.cli.trustopts import AcceptEmbeddedKey, KeyLists, TsaCertificates
from traindex.config import Settings
from traindex.core.signing import SignatureError
from traindex.errors import InputError
from traindex.evidence.build import SearchRun
from traindex.evidence.firstpage import Language, time_statement
from traindex.evidence.proof import check_against
from traindex.evidence.render import ReportFormat, format_of
from traindex.evidence.service import EvidenceService, RenderedReport
from traindex.evidence.verify import ReportCheck, TrustOptions, check_pdf, check_report
from traindex.search.queries import Query, QueryKind

__all__ = ["register"]

report_app = typer.Typer(
    help="Signed evidence reports: build one from a search, or verify one.",
    invoke_without_command=True,
)


def _runs(
    service: EvidenceService,
    source: Path | None,
    paths: list[Path] | None,
    queries: dict[QueryKind, str | None],
    dataset: str | None,
) -> list[SearchRun]:
    given = [(kind, value) for kind, value in queries.items() if value is not None]
    if sum(x is not None for x in (source, paths)) + len(given) != 1:
        exit_with("give exactly one of --from, --image, --images, --domain, --url, --text, ...")
    if source is not None:
        try:
            document = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read search JSON: {exc}", path=str(source)) from exc
        return service.runs_from_json(document)
    if paths is not None:
        with Progress(
            TextColumn("images"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
        ) as progress:
            task = progress.add_task("images", total=len(paths))
            return [service.search_images(paths, dataset, lambda n: progress.advance(task, n))]
    kind, value = given[0]
    assert value is not None
    return [service.search_query(Query(kind, value), dataset)]


@report_app.callback()
def report_command(
    ctx: typer.Context,
    source: Annotated[
        Path | None, typer.Option("--from", help="JSON written by `traindex search --json`.")
    ] = None,
    image: Annotated[Path | None, typer.Option("--image", help="One image file.")] = None,
    images: Annotated[Path | None, typer.Option("--images", help="A portfolio folder.")] = None,
    domain: Annotated[str | None, typer.Option("--domain", help="Registrable domain.")] = None,
    url: Annotated[str | None, typer.Option("--url", help="Exact URL.")] = None,
    text: Annotated[str | None, typer.Option("--text", help="Caption words or a name.")] = None,
    flickr_user: Annotated[
        str | None, typer.Option("--flickr-user", help="Flickr NSID, alias or profile URL.")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="NAME or NAME/RELEASE (default: all).")
    ] = None,
    requested_by: Annotated[
        str, typer.Option("--requested-by", help="Who asks for the report (free text).")
    ] = "",
    out: Annotated[
        list[Path] | None,
        typer.Option("--out", help="report.html|.pdf|.json|.csv; repeat for several formats."),
    ] = None,
    lang: Annotated[
        Language, typer.Option("--lang", help="Language of the first page: en, de or nl.")
    ] = "en",
    tsa: Annotated[
        str | None, typer.Option("--tsa", help="RFC 3161 timestamp authority URL (or tsa_url).")
    ] = None,
) -> None:
    """Build a signed report; the signed .json is always written next to other formats."""
    if ctx.invoked_subcommand is not None:
        return
    if not out:
        exit_with("give --out report.html (or .pdf, .json, .csv)")
    with user_errors():
        formats: list[tuple[Path, ReportFormat]] = [(path, format_of(path)) for path in out]
        if "json" not in {fmt for _, fmt in formats}:
            formats.append((out[0].with_suffix(".json"), "json"))
        run = services(ctx) if tsa is None else services(ctx).with_settings(tsa_url=tsa)
        service = run.evidence
        paths = [image] if image is not None else (portfolio_files(images) if images else None)
        queries: dict[QueryKind, str | None] = {
            "domain": domain,
            "url": url,
            "text": text,
            "flickr_user": flickr_user,
        }
        runs = _runs(service, source, paths, queries, dataset)
        rendered = service.report(runs, requested_by, lang)
        _write(rendered, formats)


def _write(rendered: RenderedReport, formats: list[tuple[Path, ReportFormat]]) -> None:
    for path, fmt in formats:
        with console.status(f"rendering {path.name}"):
            path.write_bytes(rendered.render(fmt))
        console.print(f"wrote {path}")
    sealed = rendered.sealed
    console.print(
        f"{len(sealed.report.matches):,} matching row(s), {len(sealed.report.not_found):,} "
        f"search(es) not found, {len(sealed.report.unsearched):,} not (fully) searched; "
        f"digest {sealed.signature.digest}, key {sealed.signature.key_fingerprint}; "
        f"{time_statement(sealed)}",
        highlight=False,
        soft_wrap=True,
    )


@report_app.command("verify")
def verify_command(
    ctx: typer.Context,
    report: Annotated[Path, typer.Argument(help="A signed report .json (or its .pdf).")],
    pubkey: Annotated[
        str | None, typer.Option("--pubkey", help="Signer's public key (64 hex) or a file.")
    ] = None,
    keys: KeyLists = None,
    tsa_cert: TsaCertificates = None,
    accept_embedded_key: AcceptEmbeddedKey = False,
    against: Annotated[
        list[Path] | None,
        typer.Option("--against", help="Published dataset file: confirm the rows it holds."),
    ] = None,
) -> None:
    """Exit 0 if the report is intact, signed by a trusted key, correctly timestamped and
    (with --against) its rows are in the published file; else 1 with the reason."""
    options = TrustOptions(pubkey, accept_embedded_key, keys or [], tsa_cert or [])
    try:
        data = report.read_bytes()
        if data.startswith(b"%PDF-"):
            _verify_pdf(data, settings(ctx), options)
            return
        check = check_report(data, settings(ctx), options)
    except OSError as exc:
        exit_with(f"cannot read {report}: {exc.strerror or exc}")
    except SignatureError as exc:
        exit_with(f"NOT VERIFIED: {exc}", code=1)
    _print_check(check)
    if not check.key.trusted:
        exit_with(f"NOT TRUSTED: {check.key.source}", code=1)
    for path in against or []:
        with user_errors():
            rows = check_against(check.sealed.report, path)
        for row in rows:
            mark = "confirmed" if row.confirmed else "NOT CONFIRMED"
            console.print(f"{path.name}: {mark}: {row.reason}", highlight=False, soft_wrap=True)
        if not all(row.confirmed for row in rows):
            exit_with(f"NOT VERIFIED against {path}: a row differs from the file", code=1)


def _verify_pdf(data: bytes, config: Settings, options: TrustOptions) -> None:
    """A report PDF: its PAdES signature by a certificate of a trusted key list."""
    pdf, source = check_pdf(data, config, options)
    console.print(
        f"verified: PDF signature by {pdf.signer} — {source}; {pdf.describe_time()}",
        highlight=False,
        soft_wrap=True,
    )


def _print_check(check: ReportCheck) -> None:
    signature = check.sealed.signature
    console.print(
        f"intact: report {check.sealed.report.report_id}, digest {signature.digest}, "
        f"signed by key {signature.key_fingerprint} — {check.key.source}\n"
        f"time: {check.time_statement}",
        highlight=False,
        soft_wrap=True,
    )
    for proof in check.proofs:
        console.print(f"time: {proof.describe()}", highlight=False, soft_wrap=True)
    if check.key.trusted:
        console.print("verified", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
