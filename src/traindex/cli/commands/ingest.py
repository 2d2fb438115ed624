"""``traindex ingest``: a thin adapter over ``traindex.ingest.pipeline.ingest``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from traindex.cli.common import console, exit_with, services, settings, user_errors
from traindex.cli.distribution import DistributorOption, RayAddressOption, ray_options
from traindex.cli.watchhook import watch_new_rows
from traindex.errors import BadRowError
from traindex.ingest.base import ReaderOptions, SourceFile
from traindex.ingest.columns import parse_column_spec
from traindex.ingest.pipeline import IngestReport, ingest
from traindex.ingest.shards import IngestListener

__all__ = ["register"]


def _listener(progress: Progress) -> IngestListener:
    files = progress.add_task("files", total=None, rate="")
    rows = progress.add_task("rows", total=None, rate="")
    state = {"rows": 0}

    def on_start(sources: list[SourceFile], total_rows: int | None) -> None:
        progress.update(files, total=len(sources))
        progress.update(rows, total=total_rows)

    def on_rows(n: int) -> None:
        state["rows"] += n
        elapsed = progress.tasks[rows].elapsed or 0.0
        rate = f"{state['rows'] / elapsed:,.0f} rows/s" if elapsed > 0 else ""
        progress.update(rows, advance=n, rate=rate)

    def on_source(source: SourceFile, status: str) -> None:
        progress.update(files, advance=1, description=f"{status} {source.relpath}")

    return IngestListener(on_start=on_start, on_rows=on_rows, on_source=on_source)


def _summary(report: IngestReport) -> None:
    console.print(
        f"[bold]{report.dataset}/{report.release}[/] ({report.format}): "
        f"{report.sources_ingested} file(s) ingested, {report.sources_skipped} already done; "
        f"{report.rows:,} new rows searchable, {report.failed:,} failed downloads counted "
        f"in {report.seconds:.1f} s",
        highlight=False,
        soft_wrap=True,
    )
    if report.rejected:
        console.print(
            f"{report.rejected:,} bad row(s) skipped, logged with file, row, column and reason "
            f"in {report.rejected_dir}/*.parquet (--strict stops at the first instead)",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print("no bad rows", highlight=False)


@contextmanager
def _stop_on_bad_row() -> Iterator[None]:
    """Only ``--strict`` lets a bad row through: say how to go on instead."""
    try:
        yield
    except BadRowError as error:
        exit_with(
            f"{error}; stopped because of --strict (--skip-bad-rows, the default, logs bad "
            "rows and goes on). Files finished before this one stay ingested; a re-run resumes."
        )


def ingest_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Dataset file or folder.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset name.")],
    release: Annotated[str, typer.Option("--release", "-r", help="Release name.")] = "main",
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="Reader to use (default: detect).")
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option("--columns", help="Column map for unknown layouts: url=URL,caption=TEXT,..."),
    ] = None,
    swap_width_height: Annotated[
        bool, typer.Option("--swap-width-height", help="The file has WIDTH/HEIGHT swapped.")
    ] = False,
    allow_missing_url: Annotated[
        bool,
        typer.Option(
            "--allow-missing-url",
            help="Keep rows without a URL (image-only shards); they are found by key or image.",
        ),
    ] = False,
    skip_bad_rows: Annotated[
        bool,
        typer.Option(
            "--skip-bad-rows/--strict",
            help="Log bad rows (a URL column holding 'UNLIKELY', a cut-off line) to "
            "rejected/*.parquet and go on (default), or stop at the first one (--strict).",
        ),
    ] = True,
    distributor: DistributorOption = "local",
    ray_address: RayAddressOption = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="CPUs of a local Ray runtime.")
    ] = 2,
) -> None:
    """Ingest a dataset release into the catalog (resumable; re-run to continue)."""
    cfg = settings(ctx)
    ray = ray_options(distributor, ray_address, workers)
    with user_errors(), _stop_on_bad_row():
        options = ReaderOptions(
            columns=parse_column_spec(columns),
            swap_width_height=swap_width_height,
            allow_missing_url=allow_missing_url,
        )
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            report = ingest(
                cfg,
                path,
                dataset=dataset,
                release=release,
                fmt=fmt,
                options=options,
                skip_bad_rows=skip_bad_rows,
                listener=_listener(progress),
                ray=ray,
            )
    _summary(report)
    watch_new_rows(services(ctx), f"{dataset}/{release}")


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
