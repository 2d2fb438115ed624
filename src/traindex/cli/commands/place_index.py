"""``traindex place-index``: hold a release's PDQ index on a Ray cluster's nodes.

A thin adapter over ``traindex.search.fanout.deploy_pdq``: one detached actor per node
holds its share of the index shards; where each shard landed is recorded in the release's
``pdq-placement.json``, which ``traindex search --image ... --ray-address`` then uses.
"""

from __future__ import annotations

from typing import Annotated

import typer

from traindex.catalog.store import Catalog
from traindex.cli.common import console, settings, user_errors
from traindex.cli.distribution import RayAddressOption
from traindex.errors import InputError
from traindex.jobs.ray import RayOptions

__all__ = ["register"]


def place_index_command(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="NAME or NAME/RELEASE.")],
    ray_address: RayAddressOption = None,
) -> None:
    """Spread a fingerprinted release's PDQ index over the cluster's nodes (fan-out search)."""
    from traindex.search.fanout import deploy_pdq, placement_path

    with user_errors():
        for release, manifest in Catalog(settings(ctx)).select(dataset):
            index_dir = release.dir / "pdq"
            if not (index_dir / "manifest.json").is_file():
                raise InputError("not fingerprinted: no PDQ index", path=str(release.dir))
            label = f"{manifest.name}/{manifest.release}"
            holders = deploy_pdq(
                index_dir, placement_path(release), RayOptions(address=ray_address), label=label
            )
            for holder in holders:
                console.print(
                    f"{label}: {', '.join(holder.shards)} on node {holder.node_id[:12]}",
                    highlight=False,
                )


def register(app: typer.Typer) -> None:
    app.command("place-index")(place_index_command)
