"""``traindex filter``: write a dataset minus its opted-out rows, same format and columns.

A thin adapter over ``traindex.filtering``: build the decider from ``--registry``, run the
per-file filter with a Rich progress bar, print the summary table (kept / removed by reason).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from traindex.cli.common import console, err_console, print_json, settings, user_errors
from traindex.cli.distribution import DistributorOption, RayAddressOption, ray_options
from traindex.cli.trustopts import AcceptEmbeddedKey
from traindex.ingest.columns import parse_column_spec

if TYPE_CHECKING:
    from traindex.filtering.run import FileSummary

__all__ = ["register"]


def _summary(files: list[FileSummary]) -> Table:
    reasons = sorted({reason for f in files for reason in f.result.removed})
    table = Table(
        "file",
        "rows",
        "kept",
        *[f"removed {r}" for r in reasons],
        "unreadable (kept)",
        "unverified claim (kept)",
        "resumed",
        title="traindex filter",
    )
    total: Counter[str] = Counter()
    for f in files:
        r = f.result
        total.update(
            {
                "rows": r.rows,
                "kept": r.kept,
                "unreadable": r.unreadable,
                "unverified": r.unverified,
                **r.removed,
            }
        )
        table.add_row(
            f.input,
            f"{r.rows:,}",
            f"{r.kept:,}",
            *[f"{r.removed.get(x, 0):,}" for x in reasons],
            f"{r.unreadable:,}",
            f"{r.unverified:,}",
            "yes" if f.resumed else "",
        )
    if len(files) > 1:
        table.add_row(
            "[bold]total[/]",
            f"{total['rows']:,}",
            f"{total['kept']:,}",
            *[f"{total[x]:,}" for x in reasons],
            f"{total['unreadable']:,}",
            f"{total['unverified']:,}",
            "",
        )
    return table


def _file_json(summary: FileSummary) -> dict[str, object]:
    result = summary.result
    return {
        "input": summary.input,
        "output": str(summary.output),
        "rows": result.rows,
        "kept": result.kept,
        "removed": dict(result.removed),
        "unreadable": result.unreadable,
        "unverified_kept": result.unverified,
        "resumed": summary.resumed,
    }


def filter_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="Dataset file or folder (parquet/csv/tsv/txt).")],
    out: Annotated[Path, typer.Option("--out", help="Output file (or folder for a folder).")],
    registry: Annotated[
        str | None,
        typer.Option("--registry", help="Registry server URL or snapshot folder (default: home)."),
    ] = None,
    pubkey: Annotated[
        str | None, typer.Option("--pubkey", help="Trusted key for a snapshot (64 hex or file).")
    ] = None,
    accept_embedded_key: AcceptEmbeddedKey = False,
    signals: Annotated[
        bool, typer.Option("--signals", help="Also drop rows whose live signals say reserved.")
    ] = False,
    unknown: Annotated[
        str,
        typer.Option(
            "--unknown",
            help="With --signals: keep or drop rows whose signals are only unknown "
            "(unreadable, e.g. robots.txt 503, or silent). Logged as decision 'unknown'.",
        ),
    ] = "keep",
    images_release: Annotated[
        str | None,
        typer.Option(
            "--images-release",
            "--iscc-release",
            help="Fingerprinted catalog dataset (NAME or NAME/RELEASE): image claims remove "
            "the input rows whose URL has a matching image there (same file, PDQ, ISCC, "
            "keypoints; with --registry URL: same file and ISCC, asked of the server).",
        ),
    ] = None,
    log: Annotated[Path | None, typer.Option("--log", help="Parquet log of removed rows.")] = None,
    include_unverified: Annotated[
        bool, typer.Option("--include-unverified", help="Unverified claims remove rows too.")
    ] = False,
    fmt: Annotated[str | None, typer.Option("--format", help="Text format (see ingest).")] = None,
    columns: Annotated[
        str | None, typer.Option("--columns", help="Column mapping, e.g. url=PhotoURL,md5=Hash.")
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Filter this many files at once (processes).")
    ] = 1,
    distributor: DistributorOption = "local",
    ray_address: RayAddressOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Remove rows claimed do_not_train (and, with --signals, reserved ones); log them."""
    config = settings(ctx)
    ray = ray_options(distributor, ray_address, workers)
    with user_errors():
        # Imported here: the registry client pulls in SQLAlchemy, which every other
        # command would otherwise pay for at start-up.
        from traindex.filtering.deciders import open_decider
        from traindex.filtering.run import FilterOptions, filter_inputs

        decider, registry_id = open_decider(
            config,
            registry,
            pubkey=pubkey,
            signals=signals,
            count_unverified=include_unverified,
            accept_embedded_key=accept_embedded_key,
            unknown=unknown,
            images_release=images_release,
        )
        options = FilterOptions(
            registry_id, log, fmt, parse_column_spec(columns), config.batch_rows
        )
        with Progress(*Progress.get_default_columns(), console=err_console, transient=True) as bar:
            task = bar.add_task("filtering", total=None)

            def on_file(name: str, total: int | None) -> None:
                bar.reset(task, total=total, description=name)

            files = filter_inputs(
                source,
                out,
                decider,
                options,
                workers=workers,
                ray=ray,
                on_file=on_file,
                progress=lambda rows: bar.advance(task, rows),
            )
    notes = decider.notes()
    if as_json:
        print_json({"files": [_file_json(f) for f in files], "notes": notes})
        return
    console.print(_summary(files))
    for note in notes:
        err_console.print(note, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("filter")(filter_command)
