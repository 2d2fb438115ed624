"""``traindex serve``: the web app, the JSON API and its OpenAPI docs in one process."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from traindex.bootstrap import Services
from traindex.cli.common import console, services, user_errors
from traindex.cli.extras import needs
from traindex.config import Settings

__all__ = ["DEMO_HOME", "register"]

DEMO_HOME = Path(".demo-home")  # the Makefile's DEMO_HOME, so `make demo` and this agree


def _demo_services(ctx: typer.Context) -> Services:
    """The demo home: ``--home`` if given, else ``.demo-home``; built on first use."""
    given = ctx.find_root().params.get("home")
    run = services(ctx) if given is not None else Services(Settings(home=DEMO_HOME))
    cfg = run.settings
    if not any(m.name == "demo-photos" for _, m in run.catalog.releases()):
        with needs("demo"):
            from traindex.demo import build_demo, find_shared_data
        console.print(f"Building the demo catalog in {cfg.home} (once) …")
        build_demo(cfg, find_shared_data())
    return run


def serve_command(
    ctx: typer.Context,
    demo: Annotated[
        bool, typer.Option("--demo", help="Serve the demo catalog (built if missing).")
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8000,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="Search releases placed on this Ray cluster (traindex place-index) where "
            "their PDQ shards are held (default: TRAINDEX_SEARCH_RAY_ADDRESS).",
        ),
    ] = None,
) -> None:
    """Serve the web app (search, results, datasets, opt-out) and the JSON API (/docs)."""
    with user_errors():
        run = _demo_services(ctx) if demo else services(ctx)
        if ray_address is not None:
            run = run.with_settings(search_ray_address=ray_address)
        cfg = run.settings
        with needs("web"):  # FastAPI, uvicorn and every route's services load only to serve
            import uvicorn

            from traindex.server.app import create_app

        app = create_app(cfg)
    console.print(f"traindex: catalog {cfg.home} — open http://{host}:{port}/ (API docs: /docs)")
    uvicorn.run(app, host=host, port=port, log_level="info")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
