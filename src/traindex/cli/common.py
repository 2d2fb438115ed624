"""What every command shares: the services and settings from ``--home``, consoles, and
error exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from traindex.bootstrap import Services
from traindex.config import Settings
from traindex.errors import TraindexError

__all__ = [
    "console",
    "emit_json",
    "err_console",
    "exit_with",
    "print_json",
    "print_table",
    "services",
    "settings",
    "user_errors",
]

# Piped or redirected output (a file, grep, a CI log) has no terminal width to fit: print
# every value whole, on one line, instead of folding URLs into 80-column pieces.
_UNBOUNDED = 100_000


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else _UNBOUNDED)


console = _console(stderr=False)
err_console = _console(stderr=True)


def print_table(table: Table) -> None:
    """Print ``table`` with every value whole.

    A table that fits is printed as it is (piped output always fits: no width applies).
    On a terminal too narrow for it, folding would cut URLs into column-wide pieces and
    shortening would hide them, so each row is printed as a block of ``column: value``
    lines instead: a long URL then wraps only at the terminal's edge and copies whole.
    """
    wide = console.options.update(max_width=_UNBOUNDED)
    if Measurement.get(console, wide, table).maximum <= console.width:
        console.print(table)
        return
    if table.title:
        console.print(table.title, highlight=False)
    cells = [list(column.cells) for column in table.columns]
    for row in zip(*cells, strict=True):
        console.print()
        for column, value in zip(table.columns, row, strict=True):
            if value:
                console.print(f"  [dim]{column.header}:[/] ", value, sep="", soft_wrap=True)


def services(ctx: typer.Context) -> Services:
    """The run's ``Services`` (its composition root), built by the root callback from
    ``--home``/``TRAINDEX_HOME``."""
    obj = ctx.find_root().obj
    if not isinstance(obj, Services):
        raise RuntimeError("traindex CLI context has no Services; call through traindex.cli.main")
    return obj


def settings(ctx: typer.Context) -> Settings:
    """The run's ``Settings``."""
    return services(ctx).settings


def exit_with(message: str, code: int = 2) -> NoReturn:
    # Escaped: messages quote user input and pip extras ('traindex[images]'), not markup.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn ``TraindexError`` into a one-line message and exit code 2 (no traceback)."""
    try:
        yield
    except TraindexError as exc:
        exit_with(str(exc))


def print_json(data: Any, default: Callable[[Any], Any] = str) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=default) + "\n")


def emit_json(data: Any, out: Path | None, as_json: bool) -> bool:
    """Write ``data`` to ``--out`` and/or stdout (``--json``); True when stdout got the JSON,
    so the caller skips its table."""
    if out is not None:
        out.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    if as_json:
        print_json(data)
    return as_json
