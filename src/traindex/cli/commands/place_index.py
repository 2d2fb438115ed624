"""``traindex place-index``: hold a release's catalog (its key and caption look-ups) and
image indexes (PDQ, keypoints, faces, exact CLIP, near-copy regions) on a Ray cluster's
nodes.

A thin adapter over ``traindex.search.placement.deploy_index``: per index, one detached actor
per node holds its share of the index shards; where each shard landed is recorded in the
release's ``<kind>-placement.json`` (``catalog-placement.json``, ``pdq-placement.json`` ...),
which ``traindex search --ray-address``, ``nearcopy`` and ``serve --ray-address`` then use.
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
    catalog: Annotated[
        bool,
        typer.Option(
            "--catalog",
            help="Also hold the catalog's shards (URL, domain, Flickr and caption look-ups).",
        ),
    ] = False,
) -> None:
    """Spread each image index a release has (PDQ, keypoints, faces, exact CLIP, near-copy
    regions), and with --catalog its catalog shards (URL, domain, Flickr and caption
    look-ups), over the cluster's nodes (fan-out search)."""
    # Imported here: the indexes need the images extra (faiss), the CLI's start does not
    from traindex.search.placement import IndexKind, deploy_index, index_dir, placement_path

    images: tuple[IndexKind, ...] = ("pdq", "keypoints", "faces", "clip", "tiles")
    kinds: tuple[IndexKind, ...] = ("catalog", *images) if catalog else images
    with user_errors():
        for release, manifest in services(ctx).catalog.select(dataset):
            label = f"{manifest.name}/{manifest.release}"
            present = [k for k in kinds if (index_dir(release, k) / "manifest.json").is_file()]
            if not present:
                raise InputError(
                    "nothing to place: no image index (fingerprint it first, or place its "
                    "catalog with --catalog)",
                    path=str(release.dir),
                )
            for kind in present:
                folder = index_dir(release, kind)
                placement = placement_path(release, kind)
                options = RayOptions(address=ray_address)
                holders = deploy_index(kind, folder, placement, options, label=label)
                for holder in holders:
                    held = _shard_list(holder.shards)
                    console.print(
                        f"{label} {kind}: {held} on node {holder.node_id[:12]}", highlight=False
                    )


def _shard_list(shards: list[str], shown: int = 6) -> str:
    """The shards a holder took; a long list (a LAION release has ~1,000 catalog shards)
    as its count and a few names: the placement file records every one."""
    if len(shards) <= shown:
        return ", ".join(shards)
    return f"{len(shards)} shards ({', '.join(shards[:3])}, ..., {shards[-1]})"


def register(app: typer.Typer) -> None:
    app.command("place-index")(place_index_command)
