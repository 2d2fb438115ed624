"""The ``traindex`` command. Commands are thin adapters over the service modules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from traindex import __version__
from traindex.bootstrap import Services
from traindex.cli.commands import register_commands
from traindex.cli.extras import ExtrasGroup
from traindex.config import Settings

__all__ = ["app"]

app = typer.Typer(
    name="traindex",
    cls=ExtrasGroup,
    rich_markup_mode=None,
    help="What is in this AI training set? Ingest releases, search them, prove it, opt out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"traindex {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="TRAINDEX_HOME",
            help="Data directory (catalog, registry, keys). Default: a per-user data dir.",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    # the composition root of this run: every command takes its services from here
    ctx.obj = Services(Settings(home=home) if home is not None else Settings())


register_commands(app)
