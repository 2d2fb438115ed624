"""Coverage lines under every image, face and similar answer in the terminal.

A release nobody fingerprinted prints "not searched" and the command that would cover it;
a partly covered one prints "searched N of M rows" and why the rest was not.
"""

from __future__ import annotations

from traindex.cli.common import console
from traindex.core.coverage import Coverage, cover_command

__all__ = ["print_coverage"]

_STYLE = {"searched": "green", "partly searched": "yellow", "not searched": "red"}


def print_coverage(coverage: Coverage | None) -> None:
    if coverage is None:
        return
    if not coverage.releases:
        console.print(f"  [red]{coverage.summary()}[/]", highlight=False)
    for release in coverage.releases:
        state = release.state(coverage.signals)
        console.print(
            f"  [{_STYLE[state]}]{release.name}[/]: {release.describe(coverage.signals)}",
            highlight=False,
            soft_wrap=True,
        )
        if state != "searched":
            console.print(
                f"    to cover the rest: {cover_command(release, coverage.signals)}",
                highlight=False,
                soft_wrap=True,
            )
