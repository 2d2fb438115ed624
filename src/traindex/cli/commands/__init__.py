"""CLI command modules; each exposes ``register(app)``. Add new modules to the list.

A module whose own imports need an extra that is not installed (the evidence commands load
cryptography and pyHanko at import) is replaced by placeholder commands of the same names,
so ``pip install traindex`` without extras still starts, lists every command in
``--help``, and running one says which extra to install (exit 2).
"""

from __future__ import annotations

import importlib

import typer

from traindex.cli.extras import EXTRA_OF_MODULE, MissingExtraError

__all__ = ["COMMANDS", "register_commands"]

# module -> (command names it registers, the extra its commands need)
COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "ingest": (("ingest",), "base"),
    "datasets": (("datasets",), "base"),
    "fingerprint": (("fingerprint",), "images"),
    "search": (("search",), "base"),
    "demo": (("demo",), "demo"),
    "check": (("check",), "signals"),
    "report": (("report",), "evidence"),
    "letter": (("letter",), "evidence"),
    "keys": (("keys",), "evidence"),
    "licenses": (("licenses",), "evidence"),
    "nearcopy": (("nearcopy", "nearcopy-index"), "images"),
    "serve": (("serve",), "web"),
    "registry": (("registry",), "registry"),
    "filter": (("filter",), "signals"),
    "place_index": (("place-index",), "ray"),
    "watch": (("watch",), "base"),
}


def _placeholder(app: typer.Typer, name: str, extra: str, module: str) -> None:
    def command(ctx: typer.Context) -> None:
        del ctx
        raise MissingExtraError(extra, module)

    app.command(
        name,
        help=f"(needs the {extra} extra: pip install 'traindex[{extra}]')",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )(command)


def register_commands(app: typer.Typer) -> None:
    """Register every command module, or placeholders for those an extra is missing for."""
    for module_name, (names, extra) in COMMANDS.items():
        try:
            module = importlib.import_module(f"traindex.cli.commands.{module_name}")
        except ModuleNotFoundError as exc:
            missing = (exc.name or "").split(".")[0]
            if missing not in EXTRA_OF_MODULE or extra == "base":
                raise
            for name in names:
                _placeholder(app, name, extra, missing)
            continue
        module.register(app)
