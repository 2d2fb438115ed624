"""Tell a watch's owner what it found: one e-mail and one webhook POST per watch and run.

Each alert links to its row's page and to its alert page in the web app, where a signed
evidence report, a request letter and an opt-out claim are one click away; gaps ("not
searched: ...") are sent too, so a watch over unfingerprinted rows is not silent. What is
sent is marked per channel in the store; what fails (SMTP down, webhook 500, a refused
address) stays unsent and is tried again by the next run, and is reported, never raised.

Webhook URLs are typed by users of the web app, so they go through the signal fetcher's
address policy (no private or link-local destinations unless the operator allows them,
``signals_refuse_private_addresses`` / ``signals_allow_loopback``) and redirects are not
followed. A webhook body is signed with the instance's Ed25519 key (the one evidence
reports carry, published at ``/api/public-key``) over ``timestamp + "." + body``, so a
receiver can tell a real alert from a forged or replayed POST (``verify_webhook``).
"""

from __future__ import annotations

import asyncio
import smtplib
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from traindex.config import Settings
from traindex.watch.model import Alert, Gap, Watch
from traindex.watch.store import Channel, WatchStore

if TYPE_CHECKING:  # cryptography comes with the registry/evidence extras, not the base
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Notifier",
    "Sent",
    "alert_links",
    "verify_webhook",
]

SIGNATURE_HEADER = "X-Traindex-Signature"
TIMESTAMP_HEADER = "X-Traindex-Timestamp"
KEY_HEADER = "X-Traindex-Key"
WEBHOOK_MAX_AGE = 300
"""Seconds a receiver accepts a signed POST after its timestamp (``verify_webhook``)."""


def _signed_bytes(timestamp: str, body: bytes) -> bytes:
    return timestamp.encode("ascii") + b"." + body


def verify_webhook(
    public_key: Ed25519PublicKey,
    body: bytes,
    headers: dict[str, str],
    *,
    now: float | None = None,
    max_age: int = WEBHOOK_MAX_AGE,
) -> None:
    """Raise ``SignatureError`` unless ``body`` was signed by ``public_key`` within
    ``max_age`` seconds: what a receiver of traindex's webhooks runs on each POST."""
    from traindex.core.signing import SignatureError, verify_signature

    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    signature = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not timestamp.isdigit() or not signature.startswith("ed25519="):
        raise SignatureError(f"webhook POST without {TIMESTAMP_HEADER} / {SIGNATURE_HEADER}")
    age = (time.time() if now is None else now) - int(timestamp)
    if not -max_age <= age <= max_age:
        raise SignatureError(f"webhook timestamp is {age:.0f} s away from now (replayed?)")
    verify_signature(public_key, _signed_bytes(timestamp, body), signature.removeprefix("ed25519="))


def alert_links(base_url: str, alert: Alert) -> dict[str, str]:
    """Where an alert's row, report, letter and opt-out are, in the web app at
    ``base_url`` (``""``: links within the app)."""
    base = base_url.rstrip("/")
    page = f"{base}/watches/alerts/{alert.id}"
    claim = {"kind": "url", "value": alert.match.get("url") or ""}
    return {
        "row": base + alert.row_path,
        "alert": page,
        "report": page + "#report",
        "letter": page + "#letter",
        "claim": f"{base}/claims/new?{urlencode(claim)}",
    }


@dataclass
class Sent:
    """What one notification round did, per channel."""

    messages: dict[str, int] = field(default_factory=lambda: {"email": 0, "webhook": 0})
    errors: list[str] = field(default_factory=list)


def _text(settings: Settings, watch: Watch, alerts: list[Alert], gaps: list[Gap]) -> str:
    lines = [f"traindex watch {watch.id}: {watch.describe()}", ""]
    if alerts:
        lines.append(f"{len(alerts):,} new row(s) found:")
    for alert in alerts:
        m, links = alert.match, alert_links(settings.watch_base_url, alert)
        lines += [
            f"- {m['dataset']}/{m['release']} {m['shard']} row {m['row']} ({m['method']}): "
            f"{m.get('url') or ''}",
            f"  row: {links['row']}",
            f"  report, letter, opt out: {links['alert']}",
        ]
    for gap in gaps:
        lines.append(f"- {gap.coverage.name}: {gap.coverage.describe(gap.signals)}")
    lines += ["", f"All your watches: {settings.watch_base_url.rstrip('/')}/watches"]
    return "\n".join(lines) + "\n"


def _payload(settings: Settings, watch: Watch, alerts: list[Alert], gaps: list[Gap]) -> Any:
    described = {k: v for k, v in watch.to_json().items() if k not in ("email", "webhook")}
    base = settings.watch_base_url
    return {
        "watch": described,
        "alerts": [a.to_json() | {"links": alert_links(base, a)} for a in alerts],
        "not_searched": [g.to_json() for g in gaps],
    }


class Notifier:
    """Sends the unsent alerts and gaps of every watch that has an e-mail or webhook."""

    def __init__(self, settings: Settings, store: WatchStore | None = None) -> None:
        self.settings = settings
        self.store = store or WatchStore(settings.home)

    def send(self) -> Sent:
        sent = Sent()
        with self.store.lock():
            for watch in self.store.watches():
                for channel, target in (("email", watch.email), ("webhook", watch.webhook)):
                    if target:
                        self._send(watch, channel, target, sent)  # type: ignore[arg-type]
        return sent

    def _send(self, watch: Watch, channel: Channel, target: str, sent: Sent) -> None:
        alerts = self.store.alerts([watch.id], unsent=channel)
        gaps = self.store.gaps([watch.id], unsent=channel)
        if not alerts and not gaps:
            return
        try:
            if channel == "email":
                self._mail(watch, target, alerts, gaps)
            else:
                self._post(target, _payload(self.settings, watch, alerts, gaps))
        except Exception as exc:
            sent.errors.append(f"watch {watch.id}: {channel} to {target} failed: {exc}")
            return
        self.store.mark_sent(channel, alerts, gaps)
        sent.messages[channel] += 1

    def _mail(self, watch: Watch, to: str, alerts: list[Alert], gaps: list[Gap]) -> None:
        cfg = self.settings
        if cfg.watch_smtp_host is None:
            raise RuntimeError("no SMTP server configured (TRAINDEX_WATCH_SMTP_HOST)")
        message = EmailMessage()
        found = f"{len(alerts):,} new row(s)" if alerts else "rows not searched"
        message["Subject"] = f"traindex: {found} for {watch.describe()}"
        message["From"] = cfg.watch_mail_from
        message["To"] = to
        message.set_content(_text(cfg, watch, alerts, gaps))
        with smtplib.SMTP(cfg.watch_smtp_host, cfg.watch_smtp_port, timeout=30) as smtp:
            if cfg.watch_smtp_starttls:
                smtp.starttls()
            if cfg.watch_smtp_user:
                smtp.login(cfg.watch_smtp_user, cfg.watch_smtp_password or "")
            smtp.send_message(message)

    def _post(self, url: str, payload: Any) -> None:
        import httpx

        from traindex.core.keyring import Keyring
        from traindex.core.signing import canonical_json, key_fingerprint
        from traindex.signals.policy import AddressPolicy

        cfg = self.settings
        policy = AddressPolicy(
            refuse_private=cfg.signals_refuse_private_addresses,
            allow_loopback=cfg.signals_allow_loopback,
        )
        asyncio.run(policy.check(url))
        body = canonical_json(payload)
        timestamp = str(int(time.time()))
        signer = Keyring(cfg.home / "keys").signer
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: "ed25519=" + signer.sign(_signed_bytes(timestamp, body)),
            KEY_HEADER: key_fingerprint(signer.public_key),
        }
        response = httpx.post(
            url,
            content=body,
            headers=headers,
            timeout=cfg.watch_webhook_timeout,
            follow_redirects=False,
        )
        if not response.is_success:
            raise RuntimeError(f"HTTP {response.status_code}")
