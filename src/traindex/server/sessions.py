"""Signed session cookies and CSRF tokens for the web pages.

Every visitor gets a session (random id + CSRF token) in an HttpOnly, SameSite=Lax cookie
signed with the app's secret (itsdangerous, timestamped so it expires after
``Settings.web_session_seconds``). Signing in stores the registry owner's identity in the
session and rotates both id and CSRF token (no session fixation). Every POST form carries
the session's CSRF token in a hidden field; ``check_csrf`` compares in constant time.
The JSON API does not use cookies, so it needs no CSRF token.

The secret is ``Settings.web_secret_key`` or, by default, a random key created once in
``<home>/web/secret.key`` (mode 0600), so sessions survive a restart.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from traindex.config import Settings
from traindex.errors import TraindexError

__all__ = ["COOKIE", "CsrfError", "Session", "SessionOwner", "Sessions", "app_secret"]

COOKIE = "traindex_session"


class CsrfError(TraindexError):
    """A POST form arrived without this session's CSRF token (HTTP 403)."""


@dataclass(frozen=True, slots=True)
class SessionOwner:
    """The signed-in registry owner, as the session remembers them."""

    id: str
    name: str
    email: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    csrf: str
    owner: SessionOwner | None = None
    fresh: bool = False

    @classmethod
    def new(cls, owner: SessionOwner | None = None) -> Session:
        return cls(secrets.token_urlsafe(16), secrets.token_urlsafe(32), owner, fresh=True)


def app_secret(settings: Settings) -> str:
    """The app's signing secret (sessions, signed search results)."""
    if settings.web_secret_key:
        return settings.web_secret_key
    path: Path = settings.home / "web" / "secret.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        key = secrets.token_urlsafe(48)
        fh.write(key)
    return key


def _dump(session: Session) -> dict[str, Any]:
    owner = session.owner
    data: dict[str, Any] = {"sid": session.sid, "csrf": session.csrf}
    if owner is not None:
        data["owner"] = [owner.id, owner.name, owner.email, owner.created_at.isoformat()]
    return data


def _parse(data: Any) -> Session | None:
    if not isinstance(data, dict) or not {"sid", "csrf"} <= set(data):
        return None
    owner = None
    if isinstance(data.get("owner"), list) and len(data["owner"]) == 4:
        oid, name, email, created = data["owner"]
        owner = SessionOwner(str(oid), str(name), email, datetime.fromisoformat(created))
    return Session(str(data["sid"]), str(data["csrf"]), owner)


class Sessions:
    """Loads, saves and rotates sessions for one app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.signer = URLSafeTimedSerializer(app_secret(settings), salt="traindex-session")

    def load(self, request: Request) -> Session:
        """The request's session, or a new anonymous one (missing, forged or expired)."""
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                data = self.signer.loads(raw, max_age=self.settings.web_session_seconds)
            except BadSignature:
                data = None
            session = _parse(data)
            if session is not None:
                return session
        return Session.new()

    def save(self, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self.signer.dumps(_dump(session)),
            max_age=self.settings.web_session_seconds,
            httponly=True,
            samesite="lax",
            secure=self.settings.web_secure_cookies,
        )

    @staticmethod
    def check_csrf(session: Session, submitted: str | None) -> None:
        """Raise ``CsrfError`` unless ``submitted`` is this session's token."""
        if session.fresh or not submitted or not hmac.compare_digest(submitted, session.csrf):
            raise CsrfError(
                "this form is out of date or was not sent by this site (CSRF check failed); "
                "reload the page and try again"
            )

    @staticmethod
    def sign_in(owner: SessionOwner) -> Session:
        return Session.new(owner)

    @staticmethod
    def sign_out() -> Session:
        return Session.new()
