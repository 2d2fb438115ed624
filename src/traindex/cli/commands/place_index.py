"""``traindex place-index``: hold a release's PDQ and keypoint indexes on a Ray cluster's
nodes.

A thin adapter over ``traindex.search.fanout.deploy_index``: per index, one detached actor
per node holds its share of the index shards; where each shard landed is recorded in the
release's ``pdq-placement.json`` / ``keypoints-placement.json``, which ``traindex search
--image ... --ray-address`` and ``traindex serve --ray-address`` then use.
"""

from __future__ import annotations

from typing import Annotated

import typer

from traindex.cli.common import console, services, user_errors
from traindex.cli.distribution import RayAddressOption
from traindex.errors import InputError
from traindex.jobs.ray import RayOptions

__all__ = ["register"]


def place_index_command(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="NAME or NAME/RELEASE.")],
    ray_address: RayAddressOption = None,
) -> None:
    """Spread a fingerprinted release's PDQ index (and its keypoint index, if it has one)
    over the cluster's nodes (fan-out search)."""
    # Imported here: the indexes need the images extra (faiss), the CLI's start does not
    from traindex.catalog.indexes.keypoints import KEYPOINT_DIR
    from traindex.search.fanout import IndexKind, deploy_index, placement_path

    with user_errors():
        for release, manifest in services(ctx).catalog.select(dataset):
            if not (release.dir / "pdq" / "manifest.json").is_file():
                raise InputError("not fingerprinted: no PDQ index", path=str(release.dir))
            label = f"{manifest.name}/{manifest.release}"
            kinds: list[tuple[IndexKind, str]] = [("pdq", "pdq"), ("keypoints", KEYPOINT_DIR)]
            for kind, folder in kinds:
                index_dir = release.dir / folder
                if not (index_dir / "manifest.json").is_file():
                    continue  # a release without keypoints: its PDQ index alone
                placement = placement_path(release, kind)
                options = RayOptions(address=ray_address)
                holders = deploy_index(kind, index_dir, placement, options, label=label)
                for holder in holders:
                    console.print(
                        f"{label} {kind}: {', '.join(holder.shards)} on node {holder.node_id[:12]}",
                        highlight=False,
                    )


def register(app: typer.Typer) -> None:
    app.command("place-index")(place_index_command)
