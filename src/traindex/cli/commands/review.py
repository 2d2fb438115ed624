"""``traindex registry review``: the operator's review queue, and ``grant-operator``.

Claims that no page or DNS record can prove (image claims; account claims whose page could
not be read) wait here. The local CLI acts as the registry operator: its decisions are
audited with the actor ``operator``. Owners granted ``operator`` do the same through the
API (``/api/registry/review``) and the web app's ``/operator/review`` page with their token.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from traindex.cli.commands.registry import registry_service
from traindex.cli.common import console, exit_with, print_json, print_table
from traindex.registry.models import Claim, to_json

__all__ = ["grant_operator", "review_app"]

review_app = typer.Typer(
    help="Review claims no page can prove: list, approve, reject (audited).",
    no_args_is_help=True,
)
_STATUSES = ("pending", "approved", "rejected", "all")


@review_app.command("list")
def list_reviews(
    ctx: typer.Context,
    status: Annotated[
        str, typer.Option("--status", help=f"One of: {', '.join(_STATUSES)}.")
    ] = "pending",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List reviews (pending ones by default), oldest first."""
    if status not in _STATUSES:
        exit_with(f"--status must be one of {', '.join(_STATUSES)}, got {status!r}")
    with registry_service(ctx) as service:
        queued = service.review_queue(None if status == "all" else status)
    if as_json:
        print_json({"reviews": [q.to_json() for q in queued]})
        return
    table = Table("claim", "owner", "kind", "value", "terms", "why", "status", title="reviews")
    for q in queued:
        decided = q.review.status + (f": {q.review.reason}" if q.review.reason else "")
        table.add_row(q.review.claim_id, q.owner, q.kind, q.value, q.terms, q.review.why, decided)
    print_table(table)


def _decided(claim: Claim, as_json: bool) -> None:
    if as_json:
        print_json(to_json(claim))
    else:
        console.print(f"claim {claim.id}: {claim.status}", highlight=False)


@review_app.command("approve")
def approve(
    ctx: typer.Context,
    claim_id: Annotated[str, typer.Argument(help="The claim to approve (it becomes verified).")],
    note: Annotated[str | None, typer.Option("--note", help="Why (kept in the audit).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Approve a queued claim: it becomes verified and counts for every builder."""
    with registry_service(ctx) as service:
        claim = service.decide_review(None, claim_id, approve=True, reason=note)
    _decided(claim, as_json)


@review_app.command("reject")
def reject(
    ctx: typer.Context,
    claim_id: Annotated[str, typer.Argument(help="The claim to reject.")],
    reason: Annotated[str, typer.Option("--reason", help="Shown to the owner; required.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Reject a queued claim with a reason: it counts nowhere, the owner sees why."""
    with registry_service(ctx) as service:
        claim = service.decide_review(None, claim_id, approve=False, reason=reason)
    _decided(claim, as_json)


def grant_operator(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Owner who may review claims with their token.")],
    withdraw: Annotated[bool, typer.Option("--withdraw", help="Take the right away.")] = False,
) -> None:
    """Let an owner review claims through the API and the web app (audited)."""
    with registry_service(ctx) as service:
        owner = service.owner_named(name)
        if owner is None:
            exit_with(f"no owner named {name!r}")
        owner = service.set_operator(owner, not withdraw)
    state = "is" if owner.operator else "is no longer"
    console.print(f"{owner.name} {state} a registry operator", highlight=False)
