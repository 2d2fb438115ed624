"""E-mail (a real SMTP server, aiosmtpd, on 127.0.0.1) and webhooks (a loopback HTTP server):
each new alert is sent once, with links to its row and its report/letter/claim page; a
failed delivery is kept and sent by the next run."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tests.conftest import StartServer

from traindex.config import Settings
from traindex.core.keyring import Keyring
from traindex.core.signing import SignatureError, key_fingerprint
from traindex.errors import InputError
from traindex.ingest.pipeline import ingest
from traindex.watch.model import Contacts
from traindex.watch.notify import verify_webhook
from traindex.watch.service import WatchService

pytestmark = pytest.mark.shared


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[_Inbox, int]]:
    box = _Inbox()
    with socket.socket() as probe:  # aiosmtpd's start() needs a known port to check it is up
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


class _Hook:
    """Webhook receiver: answers ``status`` and keeps every JSON body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.signed: list[tuple[bytes, dict[str, str]]] = []  # raw body and headers
        self.status = 200

    def handler(self) -> type[BaseHTTPRequestHandler]:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers["Content-Length"])
                raw = self.rfile.read(size)
                if hook.status == 200:
                    hook.bodies.append(json.loads(raw))
                    hook.signed.append((raw, dict(self.headers.items())))
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                """Quiet."""

        return Handler


@pytest.fixture
def hook(http_server: StartServer) -> tuple[_Hook, str]:
    state = _Hook()
    port = http_server(state.handler()).server_address[1]
    return state, f"http://127.0.0.1:{port}/hooks/traindex"


def _settings(tmp_path: Path, smtp_port: int, **extra: Any) -> Settings:
    return Settings(
        home=tmp_path / "home",
        watch_smtp_host="127.0.0.1",
        watch_smtp_port=smtp_port,
        watch_base_url="https://traindex.example.org",
        signals_allow_loopback=True,
        **extra,
    )


Wired = tuple[_Inbox, _Hook, str, Settings]


@pytest.fixture
def wired(tmp_path: Path, inbox: tuple[_Inbox, int], hook: tuple[_Hook, str]) -> Wired:
    """(SMTP inbox, webhook receiver, its URL, settings mailing to the inbox)."""
    return inbox[0], hook[0], hook[1], _settings(tmp_path, inbox[1])


def test_email_and_webhook_once_per_new_row(
    tmp_path: Path, parts: tuple[Path, Path], wired: Wired
) -> None:
    box, receiver, url, settings = wired
    service = WatchService(settings)
    watch = service.add("text", "Laugharne Castle", email="jane@example.org", webhook=url)
    release = tmp_path / "release"
    release.mkdir()
    shutil.copy(parts[0], release)
    ingest(settings, release, dataset="cc", release="v1")
    outcome = service.after_new_rows("cc/v1")
    assert outcome is not None
    assert outcome.sent.messages == {"email": 1, "webhook": 1}

    [mail] = box.messages
    assert mail["To"] == "jane@example.org"
    assert "1 new row(s)" in mail["Subject"]
    assert "Laugharne Castle" in mail["Subject"]
    body = mail.get_payload(decode=True).decode()
    assert "cc/v1 part1.csv row 3 (text)" in body
    assert "https://traindex.example.org/rows/cc/v1?shard=part1.csv&row=3" in body
    [alert] = service.store.alerts()
    assert f"https://traindex.example.org/watches/alerts/{alert.id}" in body

    [payload] = receiver.bodies
    assert payload["watch"]["id"] == watch.id
    assert "email" not in payload["watch"]
    [posted] = payload["alerts"]
    assert posted["match"]["row"] == 3
    assert set(posted["links"]) == {"row", "alert", "report", "letter", "claim"}

    # the same rows again (re-ingest, re-run): nothing new is sent
    ingest(settings, release, dataset="cc", release="v1")
    service.after_new_rows("cc/v1")
    service.run()
    assert (len(box.messages), len(receiver.bodies)) == (1, 1)


def test_failed_delivery_is_retried_by_the_next_run(parts: tuple[Path, Path], wired: Wired) -> None:
    box, receiver, url, settings = wired
    service = WatchService(settings)
    service.add("domain", "staticflickr.com", webhook=url)
    ingest(settings, parts[0], dataset="cc", release="main")
    receiver.status = 500
    outcome = service.run()
    assert outcome.report.new_alerts == 9
    assert "HTTP 500" in outcome.sent.errors[0]
    assert receiver.bodies == []
    receiver.status = 200
    outcome = service.run()
    assert outcome.report.new_alerts == 0
    assert outcome.sent.messages["webhook"] == 1
    assert len(receiver.bodies[0]["alerts"]) == 9
    service.run()
    assert len(receiver.bodies) == 1
    assert box.messages == []


def test_webhooks_to_private_addresses_are_refused_by_default(
    tmp_path: Path, parts: tuple[Path, Path], hook: tuple[_Hook, str]
) -> None:
    receiver, url = hook
    settings = Settings(home=tmp_path / "home")  # the default policy of a public server
    service = WatchService(settings)
    service.add("domain", "staticflickr.com", webhook=url)
    ingest(settings, parts[0], dataset="cc", release="main")
    outcome = service.run()
    assert "IP-literal host 127.0.0.1 refused" in outcome.sent.errors[0]
    assert receiver.bodies == []


def test_not_searched_is_sent_instead_of_silence(
    tmp_path: Path, parts: tuple[Path, Path], photo_dir: Path, inbox: tuple[_Inbox, int]
) -> None:
    box, port = inbox
    settings = _settings(tmp_path, port)
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(photo_dir / "0006400c1c224e19.jpg", mine)
    service = WatchService(settings)
    service.add("images", str(mine), email="jane@example.org")
    ingest(settings, parts[0], dataset="cc", release="main")
    service.run()
    service.run()
    [mail] = box.messages
    assert "rows not searched" in mail["Subject"]
    body = mail.get_payload(decode=True).decode()
    assert (
        "cc/main: not searched: none of its 9 rows has been fingerprinted (sha256, pdq, keypoints)"
        in body
    )


def test_webhook_posts_are_signed_by_the_instance_key(
    parts: tuple[Path, Path], wired: Wired
) -> None:
    """A receiver checks each POST against the key at /api/public-key: a real one passes;
    an edited body, another key, a stale timestamp or missing headers are refused."""
    _, receiver, url, settings = wired
    service = WatchService(settings)
    service.add("domain", "staticflickr.com", webhook=url)
    ingest(settings, parts[0], dataset="cc", release="main")
    service.run()
    [(raw, headers)] = receiver.signed
    key = Keyring(settings.home / "keys").signer.public_key
    verify_webhook(key, raw, headers)
    assert headers["X-Traindex-Key"] == key_fingerprint(key)

    edited = raw.replace(b'"row":', b'"row":1', 1)
    with pytest.raises(SignatureError, match="does not match"):
        verify_webhook(key, edited, headers)
    with pytest.raises(SignatureError, match="does not match"):
        verify_webhook(Ed25519PrivateKey.generate().public_key(), raw, headers)
    sent_at = int(headers["X-Traindex-Timestamp"])
    with pytest.raises(SignatureError, match="replayed"):
        verify_webhook(key, raw, headers, now=sent_at + 3600)
    with pytest.raises(SignatureError, match="without"):
        verify_webhook(key, raw, {"Content-Type": "application/json"})


def test_an_edited_watch_tells_its_new_address_only_of_new_rows(
    tmp_path: Path, parts: tuple[Path, Path], wired: Wired
) -> None:
    box, receiver, url, settings = wired
    service = WatchService(settings)
    watch = service.add("domain", "staticflickr.com", email="old@example.org")
    release = tmp_path / "release"
    release.mkdir()
    shutil.copy(parts[0], release)
    ingest(settings, release, dataset="cc", release="v1")
    service.after_new_rows("cc/v1")
    assert [m["To"] for m in box.messages] == ["old@example.org"]

    edited = service.edit(watch.id, Contacts(email="new@example.org", webhook=url))
    assert (edited.id, edited.kind, edited.value) == (watch.id, watch.kind, watch.value)
    assert len(service.store.alerts([watch.id])) == 9  # what it found stays
    # each alert reaches each channel once: the e-mails were sent (to the old address), the
    # newly added webhook gets what it has not had yet, once
    service.run()
    service.run()
    assert len(box.messages) == 1
    assert [len(body["alerts"]) for body in receiver.bodies] == [9]

    shutil.copy(parts[1], release)
    ingest(settings, release, dataset="cc", release="v1")
    service.after_new_rows("cc/v1")
    assert [m["To"] for m in box.messages] == ["old@example.org", "new@example.org"]
    assert "9 new row(s)" in box.messages[1]["Subject"]
    assert [len(body["alerts"]) for body in receiver.bodies] == [9, 9]

    with pytest.raises(InputError, match="not an e-mail address"):
        service.edit(watch.id, Contacts(email="nobody"))
    assert service.store.get(watch.id).email == "new@example.org"  # unchanged
    cleared = service.edit(watch.id, Contacts(email=""))
    assert (cleared.email, cleared.webhook) == (None, url)
    with pytest.raises(InputError, match="no watch"):
        service.edit("0" * 12, Contacts(email="a@example.org"))
