"""After ``ingest`` and ``fingerprint``: run the saved watches over the new rows.

Saved watches (``traindex watch add``) must hear about a new release, or a new part of
one, without anybody remembering to ask; so both commands end with this hook, which does
nothing when there are no watches. A watch that needs an extra which is not installed
(an image watch without the images extra) reports that and the command still succeeds:
its ingest is done, and ``traindex watch run`` picks the rows up later.
"""

from __future__ import annotations

from traindex.bootstrap import Services
from traindex.cli.common import console, err_console
from traindex.errors import TraindexError
from traindex.watch.service import Outcome

__all__ = ["print_outcome", "watch_new_rows"]


def print_outcome(outcome: Outcome) -> None:
    """One line per watch and release that found rows, could not search, or failed."""
    for run in outcome.report.runs:
        what = f"watch {run.watch.id} ({run.watch.describe()}) on {run.release}"
        if run.error:
            console.print(f"  [red]{what}: {run.error}[/]", highlight=False, soft_wrap=True)
        elif run.new_alerts:
            console.print(f"  {what}: [bold]{run.new_alerts:,} new row(s)[/] "
                          "(traindex watch alerts)", highlight=False, soft_wrap=True)  # fmt: skip
        if run.coverage is not None and run.coverage.state(run.watch.signals) != "searched":
            console.print(f"  [yellow]{what}: {run.coverage.describe(run.watch.signals)}[/]",
                          highlight=False, soft_wrap=True)  # fmt: skip
    alerts = outcome.report.new_alerts
    sent = outcome.sent.messages
    console.print(f"watches: {alerts:,} new alert(s); {sent['email']} e-mail(s), "
                  f"{sent['webhook']} webhook call(s) sent", highlight=False)  # fmt: skip
    for error in outcome.sent.errors:
        err_console.print(f"[red]{error}[/] (retried by the next run)", highlight=False)


def watch_new_rows(services: Services, dataset: str) -> None:
    """Run every watch over ``dataset``'s rows it has not compared (quiet without watches)."""
    try:
        outcome = services.watches.after_new_rows(dataset)
    except (TraindexError, ModuleNotFoundError) as exc:
        err_console.print(f"[yellow]watches not run: {exc}[/] (traindex watch run retries)",
                          highlight=False)  # fmt: skip
        return
    if outcome is not None:
        print_outcome(outcome)
