"""``traindex keys``: show, list and rotate the operator keys that sign reports and snapshots."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from traindex.cli.common import console, print_json, settings, user_errors
from traindex.core.keyring import Keyring
from traindex.core.signing import key_fingerprint, public_key_hex
from traindex.evidence.service import keys_dir

__all__ = ["register"]

keys_app = typer.Typer(
    help="The operator's Ed25519 signing key (made once in <home>/keys), its PDF "
    "certificate, and the published key list (/.well-known/traindex-keys.json)."
)


def _keyring(ctx: typer.Context) -> Keyring:
    return Keyring(keys_dir(settings(ctx)))


@keys_app.command("show")
def show_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Print the public key (64 hex) to give to whoever checks your reports."""
    with user_errors():
        signer = _keyring(ctx).signer
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


@keys_app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the published key list document.")
    ] = False,
) -> None:
    """Every key this home has signed with: current and rotated (as published)."""
    with user_errors():
        document = _keyring(ctx).document()
    if as_json:
        print_json(document)
        return
    table = Table("fingerprint", "created", "retired", "PDF certificate SHA-256")
    for key in document["keys"]:
        retired = key["retired_at"] or "current"
        table.add_row(
            key["fingerprint"], key["created_at"][:19], retired[:19], key["pdf_certificate_sha256"]
        )
    console.print(table)


@keys_app.command("rotate")
def rotate_command(ctx: typer.Context) -> None:
    """Retire the current key and make a new one; the old stays listed so its reports verify."""
    with user_errors():
        retired, new = _keyring(ctx).rotate()
    console.print(
        f"retired key {retired.fingerprint} (kept in the key list); new key {new.fingerprint}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
