"""The options every verifying command shares: which keys and timestamp authorities to trust.

``report verify``, ``letter``, ``registry verify-snapshot`` and ``filter`` answer "is the
signer trusted?" the same way (``core.trust``); these aliases keep their flags identical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["AcceptEmbeddedKey", "KeyLists", "TsaCertificates"]

KeyLists = Annotated[
    list[Path] | None,
    typer.Option("--keys", help="A published traindex-keys.json to trust; repeatable."),
]
TsaCertificates = Annotated[
    list[Path] | None,
    typer.Option("--tsa-cert", help="Trusted timestamp authority certificate (PEM)."),
]
AcceptEmbeddedKey = Annotated[
    bool,
    typer.Option(
        "--accept-embedded-key",
        help="Trust the key the file carries, though no trusted source names it (integrity only).",
    ),
]
