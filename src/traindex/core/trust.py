"""Whether the key that signed a report or snapshot is one the reader has reason to trust.

A valid signature proves the bytes are intact, not who signed them: anyone can re-sign an
edited report with their own key and embed that key. So every verify answer says *which*
trusted source vouches for the key: a key the caller pinned (``--pubkey``), this home's
own key list (current and rotated keys, ``core.keyring``), or key lists the operator
configured (``trusted_keys``: published ``traindex-keys.json`` files, or files of 64-hex
lines). A key none of them names is "not trusted"; callers that act on the material
(letters, the filter) refuse it unless the user explicitly accepts the embedded key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from traindex.config import Settings
from traindex.core.keyring import Keyring, check_key_list
from traindex.core.signing import SignatureError, load_public_key, public_key_hex
from traindex.errors import TraindexError

__all__ = ["KeyTrust", "TrustedKeys", "UntrustedKeyError"]


class UntrustedKeyError(TraindexError):
    """The material is intact but signed by a key no trusted source names."""


@dataclass(frozen=True, slots=True)
class KeyTrust:
    """The answer to "do I trust the signer?": yes/no and the source that says so."""

    trusted: bool
    source: str
    fingerprint: str

    def require(self, what: str) -> None:
        """Raise ``UntrustedKeyError`` unless trusted (message says how to proceed)."""
        if not self.trusted:
            raise UntrustedKeyError(
                f"{what} is intact but signed by key {self.fingerprint}, which is not this "
                "server's key, a pinned key (--pubkey) or in a configured key list "
                "(trusted_keys); pin the signer's published key, or accept the embedded key "
                "explicitly (--accept-embedded-key)"
            )

    def to_json(self) -> dict[str, object]:
        return {"trusted": self.trusted, "source": self.source, "fingerprint": self.fingerprint}


@dataclass(frozen=True, slots=True)
class TrustedKeys:
    """Public keys (64 hex) with the source that vouches for each, and the PDF signing
    certificates (PEM) the key lists name, with the same sources."""

    sources: dict[str, str]
    certificates: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, settings: Settings, extra_lists: list[Path] | None = None) -> TrustedKeys:
        """This home's key list, then ``settings.trusted_keys`` and ``extra_lists``."""
        sources: dict[str, str] = {}
        certificates: dict[str, str] = {}
        listed: list[tuple[str, str | None, str]] = []
        for entry in Keyring(settings.home / "keys").entries():
            label = "this server's key"
            if entry.retired_at is not None:
                label += f" (rotated out {entry.retired_at[:10]})"
            listed.append((entry.public_key, entry.pdf_certificate, label))
        for path in [*settings.trusted_keys, *(extra_lists or [])]:
            listed.extend((key, cert, f"key list {path.name}") for key, cert in _read_list(path))
        for key, cert, label in listed:
            sources.setdefault(key, label)
            if cert is not None:
                certificates.setdefault(cert, label)
        return cls(sources, certificates)

    def judge(
        self, public_key: str, fingerprint: str, *, pinned: str | None, accept_embedded: bool
    ) -> KeyTrust:
        """The verdict for a signature already checked under ``public_key`` (64 hex).

        ``pinned`` must equal the key (callers check that before the signature).
        """
        if pinned is not None:
            return KeyTrust(True, "pinned key (--pubkey)", fingerprint)
        source = self.sources.get(public_key)
        if source is not None:
            return KeyTrust(True, source, fingerprint)
        if accept_embedded:
            return KeyTrust(True, "embedded key, accepted by the user", fingerprint)
        return KeyTrust(False, "not trusted: only the key embedded in the file", fingerprint)


def _read_list(path: Path) -> list[tuple[str, str | None]]:
    """(public key, PDF certificate) from a published key list (JSON), or public keys
    without certificates from a file of 64-hex lines."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SignatureError(f"cannot read trusted key list {path}: {exc.strerror}") from None
    if text.lstrip().startswith("{"):
        try:
            return [(e.public_key, e.pdf_certificate) for e in check_key_list(json.loads(text))]
        except ValueError as exc:
            raise SignatureError(f"{path}: not JSON: {exc}") from None
    lines = [line.strip() for line in text.splitlines()]
    keys = [public_key_hex(load_public_key(line)) for line in lines if line and line[0] != "#"]
    return [(key, None) for key in keys]
