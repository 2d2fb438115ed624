"""``traindex letter``: a GDPR, § 101 UrhG or removal request from a signed report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from traindex.cli.common import console, settings, user_errors
from traindex.cli.trustopts import AcceptEmbeddedKey, KeyLists
from traindex.errors import InputError
from traindex.evidence.letters import compose_letter
from traindex.evidence.verify import TrustOptions, check_report

__all__ = ["register"]


def letter_command(
    ctx: typer.Context,
    report: Annotated[Path, typer.Option("--report", help="A signed report .json file.")],
    kind: Annotated[
        str, typer.Option("--kind", help="gdpr-access | gdpr-erasure | urhg-101 | removal")
    ],
    out: Annotated[Path, typer.Option("--out", help="letter.md or letter.pdf")],
    lang: Annotated[str, typer.Option("--lang", help="en | de | nl")] = "en",
    pubkey: Annotated[
        str | None, typer.Option("--pubkey", help="Check the report against this key first.")
    ] = None,
    keys: KeyLists = None,
    accept_embedded_key: AcceptEmbeddedKey = False,
) -> None:
    """Write a GDPR, § 101 UrhG or removal request from a signed report (checked first:
    intact and signed by a trusted key, unless --accept-embedded-key)."""
    config = settings(ctx)
    options = TrustOptions(pubkey, accept_embedded_key, keys or [])
    with user_errors():
        try:
            data = report.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read report: {exc.strerror}", path=str(report)) from exc
        check = check_report(data, config, options)
        check.key.require("the report")
        letter = compose_letter(check.sealed, kind, lang)
        suffix = out.suffix.lower()
        if suffix not in (".md", ".pdf"):
            raise InputError("letters are written as .md or .pdf", path=str(out))
        out.write_bytes(letter.pdf() if suffix == ".pdf" else letter.markdown.encode("utf-8"))
    console.print(f"wrote {out} — not legal advice: check it before sending")


def register(app: typer.Typer) -> None:
    app.command("letter")(letter_command)
