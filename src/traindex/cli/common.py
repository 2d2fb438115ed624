"""What every command shares: the settings from ``--home``, consoles, and error exits."""

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

from traindex.config import Settings
from traindex.errors import TraindexError

__all__ = [
    "console",
    "emit_json",
    "err_console",
    "exit_with",
    "print_json",
    "settings",
    "user_errors",
]

console = Console()
err_console = Console(stderr=True)


def settings(ctx: typer.Context) -> Settings:
    """The ``Settings`` built by the root callback from ``--home``/``TRAINDEX_HOME``."""
    obj = ctx.find_root().obj
    if not isinstance(obj, Settings):
        raise RuntimeError("traindex CLI context has no Settings; call through traindex.cli.main")
    return obj


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
