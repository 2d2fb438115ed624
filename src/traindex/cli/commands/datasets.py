"""``traindex datasets``: list ingested releases."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from traindex.cli.common import console, print_json, print_table, services

__all__ = ["register"]


def datasets_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the ingested dataset releases with row counts and source files."""
    releases = [m for _, m in services(ctx).catalog.releases()]
    if as_json:
        print_json({"datasets": [m.model_dump(mode="json") for m in releases]})
        return
    if not releases:
        console.print("No datasets yet. Ingest one with: traindex ingest PATH --dataset NAME")
        return
    # "failed downloads": rows the dataset itself marks as never downloaded (img2dataset
    # status); "bad rows skipped": rows ingest could not use, logged in rejected/.
    table = Table(
        "dataset", "release", "format", "files", "rows", "failed downloads", "bad rows skipped",
        "updated (UTC)",
    )  # fmt: skip
    for m in releases:
        table.add_row(
            m.name,
            m.release,
            m.format,
            str(len(m.sources)),
            f"{m.rows:,}",
            f"{m.failed_rows:,}",
            f"{m.rejected_rows:,}",
            m.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
    print_table(table)


def register(app: typer.Typer) -> None:
    app.command("datasets")(datasets_command)
