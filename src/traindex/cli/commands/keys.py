"""``traindex keys show``: the public key that signs evidence reports and snapshots."""

from __future__ import annotations

from typing import Annotated

import typer

from traindex.cli.common import console, print_json, settings, user_errors
from traindex.cli.extras import needs

__all__ = ["register"]

keys_app = typer.Typer(help="The Ed25519 signing key (made on first use in <home>/keys).")


@keys_app.command("show")
def show_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Print the public key (64 hex) to give to whoever checks your reports."""
    with user_errors():
        with needs("evidence"):
            from traindex.core.signing import key_fingerprint, public_key_hex
            from traindex.evidence.service import EvidenceService
        signer = EvidenceService(settings(ctx)).signer
    info = {
        "algorithm": "Ed25519",
        "public_key": public_key_hex(signer.public_key),
        "fingerprint": key_fingerprint(signer.public_key),
        "private_key_file": str(signer.path),
    }
    if as_json:
        print_json(info)
        return
    console.print(info["public_key"], highlight=False, soft_wrap=True)
    console.print(
        f"[dim]fingerprint {info['fingerprint']}, private key {info['private_key_file']}[/]",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
