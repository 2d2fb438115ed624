"""``traindex demo``: build the demo catalog and show real searches on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from traindex.catalog.store import Catalog
from traindex.cli.commands.datasets import datasets_command
from traindex.cli.commands.image_search import run_image_search
from traindex.cli.commands.search import print_result
from traindex.cli.common import console, settings, user_errors
from traindex.cli.extras import needs
from traindex.search.queries import Query
from traindex.search.service import SearchService

__all__ = ["register"]

_SEARCHES = (
    Query("flickr_user", "danielbuechele"),
    Query("text", '"Falcon 9"'),
    Query("domain", "staticflickr.com"),
    Query("text", "kitten"),
)


def demo_command(
    ctx: typer.Context,
    shared: Annotated[
        Path | None,
        typer.Option(
            "--shared",
            help="Sample data (default: $TRAINDEX_SHARED_DATA, or ../shared/data if present).",
        ),
    ] = None,
) -> None:
    """Build the demo catalog from real sample photos and rows, then run example searches."""
    cfg = settings(ctx)
    with user_errors(), needs("demo"):
        from traindex.demo import build_demo, demo_images, find_shared_data
    data = shared or find_shared_data()
    console.print(f"[bold]traindex demo[/] — home: {cfg.home}")
    if data is None:
        console.print("../shared/data not found: using only the photos shipped in pip packages.")
    with user_errors():
        for report in build_demo(cfg, data):
            if not report.sources_ingested:
                console.print(f"  {report.dataset}: already there", highlight=False)
                continue
            # the same three counts as the datasets table below, for this run
            console.print(
                f"  {report.dataset}: {report.rows:,} rows ingested, "
                f"{report.failed:,} failed downloads counted, "
                f"{report.rejected:,} bad rows skipped",
                highlight=False,
            )
        datasets_command(ctx)
        service = SearchService(Catalog(cfg))
        for query in _SEARCHES:
            print_result(service.search(query, limit=5))
        photo = demo_images(cfg) / "china.jpg"
        console.print(f"[bold]Image search[/] with {photo.name} (a CC BY 2.0 Flickr photo):")
        run_image_search(cfg, [photo], dataset=None, limit=5, as_json=False, out=None)
    console.print(
        f"Try: traindex --home {cfg.home} search --text 'your name' "
        "(or --domain, --url, --flickr-user, --flickr-photo)"
    )
    console.print(
        f"Web app on this catalog: traindex --home {cfg.home} serve (or make serve), "
        "then open http://127.0.0.1:8000/"
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
