"""``traindex check``: machine-readable AI-training opt-out signals for URLs and files.

A thin adapter over ``traindex.signals.service``: parse options, call the service, print a
table or the JSON document. No signal logic lives here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from traindex.cli.common import (
    err_console,
    exit_with,
    print_json,
    print_table,
    settings,
    user_errors,
)
from traindex.cli.distribution import DistributorOption, RayAddressOption, ray_options

if TYPE_CHECKING:
    from traindex.signals.verdict import TargetVerdict

__all__ = ["register"]

_STYLE = {"reserved": "bold red", "allowed": "green", "unknown": "yellow"}


def _table(verdicts: list[TargetVerdict]) -> Table:
    table = Table(
        "target", "verdict", "signals", "why",
        title="AI-training opt-out signals",
    )  # fmt: skip
    table.show_lines = True
    for item in verdicts:
        style = _STYLE[item.verdict.value]
        signals = "\n".join(
            f"[{_STYLE[r.verdict.value]}]{r.signal}: {r.verdict.value}[/]" for r in item.results
        )
        table.add_row(item.target, f"[{style}]{item.verdict.value}[/]", signals, item.reason)
    return table


def _progress(enabled: bool) -> Progress:
    """A transient bar on stderr, so ``--json`` on stdout stays clean; bulk runs only."""
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not enabled,
    )


def _refuse_malformed(targets: list[str]) -> None:
    """A malformed URL typed on the command line is an error (exit 2), not a table row;
    in a bulk --urls file it stays a row, so one bad line does not stop the run."""
    from traindex.signals.policy import AddressPolicy, UrlRefusedError

    for target in targets:
        if "://" in target:
            try:
                AddressPolicy().parse(target)
            except UrlRefusedError as exc:
                exit_with(f"cannot check {target!r}: {exc}")


def check(
    ctx: typer.Context,
    targets: Annotated[
        list[str] | None, typer.Argument(help="URLs (http/https) or local image files.")
    ] = None,
    urls: Annotated[
        Path | None, typer.Option("--urls", help="Bulk: a .txt (one per line) or .parquet file.")
    ] = None,
    agent: Annotated[
        list[str] | None,
        typer.Option(
            "--agent", help="Crawler token to evaluate (repeatable). Default: AI-training bots."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    noindex: Annotated[
        bool, typer.Option("--noindex", help="Count noindex/noimageindex as a reservation.")
    ] = False,
    c2pa_trust: Annotated[
        Path | None,
        typer.Option(
            "--c2pa-trust-anchors",
            help="PEM trust list: only C2PA signers chaining to it can make a file 'allowed'.",
        ),
    ] = None,
    distributor: DistributorOption = "local",
    ray_address: RayAddressOption = None,
) -> None:
    """Check robots.txt, ai.txt, TDMRep, X-Robots-Tag/meta, IPTC and C2PA for each target
    (with --distributor ray, bulk checks run as Ray tasks, one host's URLs per task)."""
    with user_errors():
        # Imported here: httpx and the fetcher are only needed when checking.
        from traindex.signals.service import resolve_agents, run_checks
        from traindex.signals.targets import read_targets_file

        _refuse_malformed(targets or [])
        ray = ray_options(distributor, ray_address, os.cpu_count() or 1)

        agents = resolve_agents(agent or [])
        wanted = list(targets or []) + (read_targets_file(urls) if urls is not None else [])
        if not wanted:
            exit_with("give at least one URL or file, or --urls FILE")
        with _progress(enabled=urls is not None) as bar:
            task = bar.add_task("checking", total=len(wanted))
            chosen = settings(ctx)
            if c2pa_trust is not None:
                chosen = chosen.model_copy(update={"signals_c2pa_trust_anchors": c2pa_trust})

            def advance(_verdict: TargetVerdict) -> None:
                bar.advance(task)

            if ray is None:
                verdicts = run_checks(
                    wanted, chosen, agents, noindex_reserves=noindex, progress=advance
                )
            else:  # tasks by host: politeness and the robots.txt cache hold across nodes
                from traindex.jobs.checks import check_on_ray

                verdicts = check_on_ray(
                    wanted, chosen, agents, ray, noindex_reserves=noindex, progress=advance
                )
    if as_json:
        print_json({"results": [v.to_json() for v in verdicts]})
    else:
        print_table(_table(verdicts))


def register(app: typer.Typer) -> None:
    """Add ``check`` to the root command."""
    app.command("check")(check)
