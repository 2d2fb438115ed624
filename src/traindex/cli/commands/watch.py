"""``traindex watch``: save searches that re-run on every new release, and their alerts.

A thin adapter over ``traindex.watch.service.WatchService``; ``ingest`` and
``fingerprint`` call the same service after each run (``cli/watchhook.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import typer
from rich.table import Table

from traindex.cli.common import (
    console,
    exit_with,
    print_json,
    print_table,
    services,
    settings,
    user_errors,
)
from traindex.cli.extras import needs
from traindex.cli.watchhook import print_outcome
from traindex.watch.model import Contacts, Watch, WatchKind
from traindex.watch.notify import alert_links

__all__ = ["register"]

watch_app = typer.Typer(
    help="Watchlist: be told, once, when a new release contains your work.",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _owner_id(ctx: typer.Context, name: str | None) -> str | None:
    """The registry owner a watch belongs to (shown on their "My watches" page)."""
    if name is None:
        return None
    with needs("registry"):
        from traindex.registry.service import RegistryService

    service = RegistryService.open(settings(ctx))
    try:
        owner = service.owner_named(name)
    finally:
        service.close()
    if owner is None:
        exit_with(f"no registry owner named {name!r} (sign up in the web app first)")
    return owner.id


def add(
    ctx: typer.Context,
    images: Annotated[Path | None, typer.Option("--images", help="Folder of your images.")] = None,
    domain: Annotated[str | None, typer.Option("--domain")] = None,
    url_prefix: Annotated[str | None, typer.Option("--url-prefix")] = None,
    flickr_user: Annotated[str | None, typer.Option("--flickr-user")] = None,
    text: Annotated[str | None, typer.Option("--text", help="A name or words in captions.")] = None,
    face: Annotated[
        Path | None, typer.Option("--face", help="A photo showing only your face.")
    ] = None,
    email: Annotated[str | None, typer.Option("--email", help="Send alerts here.")] = None,
    webhook: Annotated[str | None, typer.Option("--webhook", help="POST alerts here.")] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Registry owner name: list it in the web app.")
    ] = None,
    run: Annotated[
        bool, typer.Option("--run/--no-run", help="Search what is already ingested now.")
    ] = True,
) -> None:
    """Save a watch (one of --images, --domain, --url-prefix, --flickr-user, --text, --face)."""
    given = {"images": images, "domain": domain, "url_prefix": url_prefix,
             "flickr_user": flickr_user, "text": text, "face": face}  # fmt: skip
    chosen = [(kind, value) for kind, value in given.items() if value is not None]
    if len(chosen) != 1:
        exit_with("give exactly one of --images, --domain, --url-prefix, --flickr-user, "
                  "--text, --face")  # fmt: skip
    kind, value = chosen[0]
    service = services(ctx).watches
    with user_errors(), needs("faces" if kind == "face" else "images"):
        watch = service.add(
            cast(WatchKind, kind),
            str(value),
            owner_id=_owner_id(ctx, owner),
            email=email,
            webhook=webhook,
        )
        console.print(f"watch [bold]{watch.id}[/] saved: {watch.describe()}", highlight=False)
        if run:
            print_outcome(service.run(watch_ids=[watch.id]))


def list_watches(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the saved watches with their alert and not-searched counts."""
    service = services(ctx).watches
    watches = service.store.watches()
    counts = service.store.summary()
    if as_json:
        print_json([w.to_json() | {k: counts[k].get(w.id, 0) for k in counts} for w in watches])
        return
    table = Table("id", "watch", "notify", "alerts", "not searched", title="watches")
    for w in watches:
        notify = ", ".join(x for x in (w.email, w.webhook) if x) or "-"
        table.add_row(w.id, w.describe(), notify, f"{counts['alerts'].get(w.id, 0):,}",
                      f"{counts['gaps'].get(w.id, 0):,}")  # fmt: skip
    print_table(table)


def run_watches(
    ctx: typer.Context,
    watch_id: Annotated[list[str] | None, typer.Argument(help="Watch ids (default: all).")] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="NAME or NAME/RELEASE.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run watches over every row they have not compared yet, and send notifications."""
    with user_errors(), needs("images"):
        outcome = services(ctx).watches.run(dataset=dataset, watch_ids=watch_id or None)
    if as_json:
        print_json({"runs": [r.to_json() for r in outcome.report.runs],
                    "sent": outcome.sent.messages, "errors": outcome.sent.errors})  # fmt: skip
        return
    print_outcome(outcome)


def _describe(watches: dict[str, Watch], watch_id: str) -> str:
    watch = watches.get(watch_id)
    return watch.describe() if watch else watch_id


def alerts(
    ctx: typer.Context,
    watch_id: Annotated[list[str] | None, typer.Argument(help="Watch ids (default: all).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Rows the watches found (each once) and the releases they could not search."""
    cfg = settings(ctx)
    store = services(ctx).watches.store
    with user_errors():
        ids = [store.get(i).id for i in watch_id] if watch_id else None
    found, gaps = store.alerts(ids), store.gaps(ids)
    if as_json:
        linked = [a.to_json() | {"links": alert_links(cfg.watch_base_url, a)} for a in found]
        print_json({"alerts": linked, "not_searched": [g.to_json() for g in gaps]})
        return
    watches = {w.id: w for w in store.watches()}
    table = Table("alert", "watch", "dataset/release", "file:row", "how", "url", "report/letter",
                  title=f"{len(found):,} alert(s)")  # fmt: skip
    for a in found:
        m = a.match
        table.add_row(str(a.id), _describe(watches, a.watch_id), f"{m['dataset']}/{m['release']}",
                      f"{m['shard']}:{m['row']}", m["method"], m.get("url") or "",
                      alert_links(cfg.watch_base_url, a)["alert"])  # fmt: skip
    print_table(table)
    for gap in gaps:
        console.print(f"[yellow]{gap.state}[/] {gap.coverage.name} for "
                      f"{_describe(watches, gap.watch_id)}: {gap.coverage.describe(gap.signals)}",
                      highlight=False, soft_wrap=True)  # fmt: skip


def edit(
    ctx: typer.Context,
    watch_id: Annotated[str, typer.Argument()],
    email: Annotated[
        str | None, typer.Option("--email", help='Send alerts here ("" for no e-mail).')
    ] = None,
    webhook: Annotated[
        str | None, typer.Option("--webhook", help='POST alerts here ("" for no webhook).')
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help='Registry owner name ("" for none).')
    ] = None,
) -> None:
    """Change where a watch's alerts go; its search, id and alerts stay. Each alert reaches
    each channel once: a new address gets new rows, a newly added channel the rest too."""
    contacts = Contacts()
    if email is not None:
        contacts["email"] = email
    if webhook is not None:
        contacts["webhook"] = webhook
    if owner is not None:
        contacts["owner_id"] = _owner_id(ctx, owner) if owner else None
    if not contacts:
        exit_with("give at least one of --email, --webhook, --owner")
    with user_errors():
        watch = services(ctx).watches.edit(watch_id, contacts)
    notify = ", ".join(x for x in (watch.email, watch.webhook) if x) or "nobody (alerts listed)"
    console.print(f"watch {watch.id} ({watch.describe()}) now tells: {notify}", highlight=False)


def remove(ctx: typer.Context, watch_id: Annotated[str, typer.Argument()]) -> None:
    """Delete a watch and its alerts."""
    with user_errors():
        watch = services(ctx).watches.store.remove(watch_id)
    console.print(f"watch {watch.id} removed: {watch.describe()}", highlight=False)


def register(app: typer.Typer) -> None:
    watch_app.command("add")(add)
    watch_app.command("list")(list_watches)
    watch_app.command("run")(run_watches)
    watch_app.command("alerts")(alerts)
    watch_app.command("edit")(edit)
    watch_app.command("remove")(remove)
    app.add_typer(watch_app, name="watch")
