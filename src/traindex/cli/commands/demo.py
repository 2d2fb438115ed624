"""``traindex demo``: build the demo catalog and show real searches on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from traindex.bootstrap import Services
from traindex.cli.commands.datasets import datasets_command
from traindex.cli.commands.image_search import run_image_search
from traindex.cli.commands.nearcopy import nearcopy_command
from traindex.cli.commands.search import print_result
from traindex.cli.common import console, services, user_errors
from traindex.cli.extras import needs
from traindex.ingest.pipeline import IngestReport
from traindex.search.queries import Query
from traindex.server.overview import summarise

__all__ = ["register"]

_SEARCHES = (
    Query("flickr_user", "danielbuechele"),
    Query("text", '"Falcon 9"'),
    Query("domain", "staticflickr.com"),
    Query("text", "kitten"),
)


def _print_builds(reports: list[IngestReport]) -> None:
    for report in reports:
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


def _image_searches(ctx: typer.Context, run: Services) -> None:
    """Same image, a heavy crop of it, and the near-copy check on that crop."""
    from traindex.demo import DEMO_CROP_KEEP, demo_crop, demo_images

    cfg = run.settings
    photo = demo_images(cfg) / "china.jpg"
    console.print(f"[bold]Image search[/] with {photo.name} (a CC BY 2.0 Flickr photo):")
    run_image_search(run, [photo], dataset=None, limit=5, as_json=False, out=None)
    crop = demo_crop(cfg)
    console.print(
        f"[bold]Crop search[/] with the middle {DEMO_CROP_KEEP:.0%} of it ({crop}):",
        highlight=False,
    )
    run_image_search(run, [crop], dataset=None, limit=5, as_json=False, out=None)
    console.print("[bold]Near-copy check[/] of the same crop, as if a model had generated it:")
    nearcopy_command(ctx, [crop])


def _not_searched(run: Services) -> None:
    """Say plainly which rows image search could not compare, and why."""
    # rows without a decoded, fingerprinted image: nothing for image search to compare
    unseen = {s.name: s.rows - (s.images - s.image_errors) for s in summarise(run.catalog)}
    names = ", ".join(f"{name} ({n:,} rows)" for name, n in unseen.items() if n)
    if not names:
        return
    console.print(
        f"[yellow]Not searched by image:[/] {names}. These samples hold URLs and captions "
        "only, not the images, so image, crop and near-copy search had nothing to compare; "
        "URL, domain, Flickr and caption search cover them. With the images downloaded "
        "(img2dataset), `traindex fingerprint` makes them searchable.",
        highlight=False,
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
    run = services(ctx)
    cfg = run.settings
    with user_errors(), needs("demo"):
        from traindex.demo import build_demo, find_shared_data
    data = shared or find_shared_data()
    console.print(f"[bold]traindex demo[/] — home: {cfg.home}")
    if data is None:
        console.print("../shared/data not found: using only the photos shipped in pip packages.")
    with user_errors():
        _print_builds(build_demo(cfg, data))
        datasets_command(ctx)
        for query in _SEARCHES:
            print_result(run.search.search(query, limit=5))
        _image_searches(ctx, run)
        _not_searched(run)
    console.print(
        f"Try: traindex --home {cfg.home} search --text 'your name' "
        "(or --domain, --url, --flickr-user, --flickr-photo, --image)"
    )
    console.print(
        f"Web app on this catalog: traindex --home {cfg.home} serve (or make serve), "
        "then open http://127.0.0.1:8000/"
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
