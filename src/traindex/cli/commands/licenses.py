"""``traindex licenses``: licence audit of a release and its attribution list."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from traindex.cli.common import console, print_json, services, user_errors
from traindex.cli.extras import needs

if TYPE_CHECKING:
    from traindex.evidence.licenses import LicenseAudit

__all__ = ["register"]


def _print(audit: LicenseAudit) -> None:
    table = Table(
        title=f"{audit.dataset}/{audit.release}: {audit.rows:,} rows, "
        f"{audit.commercial_share:.1%} licensed for commercial use"
    )
    for column in ("licence", "family", "rows", "share", "commercial use", "conditions"):
        table.add_column(column)
    for c in audit.licenses:
        allowed = {True: "yes", False: "no", None: "unknown"}[c.commercial_use]
        table.add_row(
            c.license or "unknown",
            c.family,
            f"{c.rows:,}",
            f"{c.share:.1%}",
            allowed,
            ", ".join(c.conditions),
        )
    console.print(table)


def licenses_command(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="NAME or NAME/RELEASE.")],
    attribution: Annotated[
        Path | None,
        typer.Option("--attribution-list", help="Write the attribution list (.csv or .html)."),
    ] = None,
    scope: Annotated[
        str, typer.Option("--scope", help="attribution | commercial | cc: rows to credit.")
    ] = "attribution",
    as_json: Annotated[bool, typer.Option("--json", help="Print the audit as JSON.")] = False,
) -> None:
    """Licence audit of a release (rows per licence, commercial share) and its credits."""
    with user_errors():
        with needs("evidence"):  # the attribution list's HTML template
            from traindex.evidence.licenses import (
                attribution_list,
                audit_licenses,
                parse_scope,
                write_attribution,
            )
        catalog = services(ctx).catalog
        audits = audit_licenses(catalog, dataset)
        if attribution is not None:
            rows = list(attribution_list(catalog, dataset, parse_scope(scope)))
            write_attribution(rows, attribution, dataset)
    if as_json:
        print_json([a.to_json() for a in audits])
    else:
        for audit in audits:
            _print(audit)
    if attribution is not None:
        console.print(f"wrote {attribution}: {len(rows):,} credit line(s)")


def register(app: typer.Typer) -> None:
    app.command("licenses")(licenses_command)
