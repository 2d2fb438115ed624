"""``traindex report``: a signed evidence report from a search; ``report verify`` checks one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from traindex.cli.commands.image_search import portfolio_files
from traindex.cli.common import console, exit_with, settings, user_errors
from traindex.cli.extras import needs
from traindex.errors import InputError
from traindex.search.queries import Query, QueryKind

if TYPE_CHECKING:
    from traindex.evidence.build import SearchRun
    from traindex.evidence.service import EvidenceService

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
) -> None:
    """Build a signed report; the signed .json is always written next to other formats."""
    if ctx.invoked_subcommand is not None:
        return
    if not out:
        exit_with("give --out report.html (or .pdf, .json, .csv)")
    with user_errors():
        with needs("evidence"):
            from traindex.evidence.render import format_of
            from traindex.evidence.service import EvidenceService
        formats = [(path, format_of(path)) for path in out]
        if "json" not in {fmt for _, fmt in formats}:
            formats.append((out[0].with_suffix(".json"), "json"))
        service = EvidenceService(settings(ctx))
        paths = [image] if image is not None else (portfolio_files(images) if images else None)
        queries: dict[QueryKind, str | None] = {
            "domain": domain,
            "url": url,
            "text": text,
            "flickr_user": flickr_user,
        }
        rendered = service.report(_runs(service, source, paths, queries, dataset), requested_by)
        for path, fmt in formats:
            with console.status(f"rendering {path.name}"):
                path.write_bytes(rendered.render(fmt))
            console.print(f"wrote {path}")
    report = rendered.sealed.report
    console.print(
        f"{len(report.matches):,} matching row(s), {len(report.negatives):,} search(es) without "
        f"result; digest {rendered.sealed.signature.digest}, "
        f"key {rendered.sealed.signature.key_fingerprint}",
        highlight=False,
        soft_wrap=True,
    )


@report_app.command("verify")
def verify_command(
    report: Annotated[Path, typer.Argument(help="A signed report .json file.")],
    pubkey: Annotated[
        str | None, typer.Option("--pubkey", help="Signer's public key (64 hex) or a file.")
    ] = None,
) -> None:
    """Exit 0 if the report is intact (and signed by --pubkey), else 1 with the reason."""
    with user_errors(), needs("evidence"):
        from traindex.core.signing import SignatureError
        from traindex.evidence.seal import open_sealed
    try:
        sealed = open_sealed(report.read_bytes(), pubkey)
    except OSError as exc:
        exit_with(f"cannot read {report}: {exc.strerror or exc}")
    except SignatureError as exc:
        exit_with(f"NOT VERIFIED: {exc}", code=1)
    signature = sealed.signature
    who = "the given key" if pubkey else "the key embedded in the file (pass --pubkey to pin it)"
    console.print(
        f"verified: report {sealed.report.report_id}, digest {signature.digest}, "
        f"signed by key {signature.key_fingerprint} — {who}",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
