"""``traindex place-index``: hold a release's catalog (its key and caption look-ups) and
image indexes (PDQ, keypoints, faces, exact CLIP, near-copy regions) on a Ray cluster's
nodes.

A thin adapter over ``traindex.search.fanout.deploy_index``: per index, one detached actor
per node holds its share of the index shards; where each shard landed is recorded in the
release's ``<kind>-placement.json`` (``catalog-placement.json``, ``pdq-placement.json`` ...),
which ``traindex search --ray-address``, ``nearcopy`` and ``serve --ray-address`` then use.
"""

from __future__ import annotations

from typing import Annotated

import typer

from traindex.cli.common import console, services, user_errors
from traindex.cli.distribution import RayAddressOption
from traindex.jobs.ray import RayOptions

__all__ = ["register"]


def place_index_command(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="NAME or NAME/RELEASE.")],
    ray_address: RayAddressOption = None,
) -> None:
    """Spread a release's catalog shards (URL, domain, Flickr and caption look-ups) and
    each image index it has (PDQ, keypoints, faces, exact CLIP, near-copy regions) over the
    cluster's nodes (fan-out search)."""
    # Imported here: the indexes need the images extra (faiss), the CLI's start does not
    from traindex.search.fanout import IndexKind, deploy_index, index_dir, placement_path

    kinds: tuple[IndexKind, ...] = ("catalog", "pdq", "keypoints", "faces", "clip", "tiles")
    with user_errors():
        for release, manifest in services(ctx).catalog.select(dataset):
            label = f"{manifest.name}/{manifest.release}"
            for kind in kinds:
                folder = index_dir(release, kind)
                if not (folder / "manifest.json").is_file():
                    continue  # an index this release does not have (the catalog has one)
                placement = placement_path(release, kind)
                options = RayOptions(address=ray_address)
                holders = deploy_index(kind, folder, placement, options, label=label)
                for holder in holders:
                    console.print(
                        f"{label} {kind}: {', '.join(holder.shards)} on node {holder.node_id[:12]}",
                        highlight=False,
                    )


def register(app: typer.Typer) -> None:
    app.command("place-index")(place_index_command)
