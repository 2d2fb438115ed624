"""Registry errors: each one says what was refused and why, fit to show an owner or a builder.

All subclass ``TraindexError`` so the CLI prints them as one line and the API maps them to a
stable ``{"error": {"code", "message"}}`` body; ``code`` is the class attribute below.
"""

from __future__ import annotations

from typing import ClassVar

from traindex.errors import TraindexError

__all__ = [
    "AuthError",
    "ClaimNotFoundError",
    "ClaimRejected",
    "OwnerExistsError",
    "PermissionDenied",
    "RegistryError",
    "VerificationFailedError",
]


class RegistryError(TraindexError):
    """Base of registry errors; ``code`` is the machine-readable name, ``status`` the HTTP one."""

    code: ClassVar[str] = "registry_error"
    status: ClassVar[int] = 400


class AuthError(RegistryError):
    """A token is missing, malformed, unknown, expired or replaced by a newer one."""

    code = "unauthorized"
    status = 401


class PermissionDenied(RegistryError):  # noqa: N818 - name fixed by REGISTRY_API
    """The owner is authenticated but may not do this (e.g. revoke someone else's claim)."""

    code = "forbidden"
    status = 403


class ClaimRejected(RegistryError):  # noqa: N818 - name fixed by REGISTRY_API
    """A selector or claim is invalid (``*``, a public suffix, too long, unverified domain...)."""

    code = "claim_rejected"
    status = 422


class ClaimNotFoundError(RegistryError):
    """No claim has that id."""

    code = "not_found"
    status = 404


class OwnerExistsError(RegistryError):
    """An owner with that name is already registered."""

    code = "owner_exists"
    status = 409


class VerificationFailedError(RegistryError):
    """Neither the HTTP file nor the DNS TXT record carried the expected token."""

    code = "verification_failed"
    status = 422
