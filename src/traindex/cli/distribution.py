"""The ``--distributor`` and ``--ray-address`` options shared by batch commands."""

from __future__ import annotations

from typing import Annotated

import typer

from traindex.jobs.ray import RayOptions

__all__ = ["DistributorOption", "RayAddressOption", "ray_options"]

DistributorOption = Annotated[
    str,
    typer.Option("--distributor", help="local (this machine's processes) or ray (a Ray cluster)."),
]
RayAddressOption = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        help="Ray cluster to join with --distributor ray (host:port or auto; default: "
        "RAY_ADDRESS, else a Ray runtime on this machine). Nodes need traindex installed "
        "and the catalog and source files at the same paths.",
    ),
]


def ray_options(distributor: str, address: str | None, workers: int) -> RayOptions | None:
    """``None`` for local runs; where Ray runs otherwise (``workers`` sizes a local runtime)."""
    if distributor not in ("local", "ray"):
        raise typer.BadParameter("--distributor must be local or ray")
    if distributor == "local":
        if address is not None:
            raise typer.BadParameter("--ray-address needs --distributor ray")
        return None
    return RayOptions(address=address, num_cpus=workers)
