"""Fixtures shared by every test layer.

``shared_data`` points at ``../shared/data``. Locally a missing folder skips the tests that
need it; in CI (``TRAINDEX_REQUIRE_SHARED=1``) it fails them, so real-data tests can never
silently stop running.
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings as hypothesis_settings

from traindex.config import Settings

if TYPE_CHECKING:
    from traindex.jobs.fingerprint import FingerprintReport

# Tests never depend on timing: a slow CI machine must not turn into a failure.
hypothesis_settings.register_profile("traindex", deadline=None)
hypothesis_settings.load_profile("traindex")

REPO = Path(__file__).resolve().parent.parent
# a git worktree elsewhere points at the checkout's data with TRAINDEX_SHARED_DATA
SHARED_DATA = Path(os.environ.get("TRAINDEX_SHARED_DATA") or REPO.parent / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    message = f"../shared/data not found at {SHARED_DATA}"
    if os.environ.get("TRAINDEX_REQUIRE_SHARED") == "1":
        pytest.fail(message + " (TRAINDEX_REQUIRE_SHARED=1)")
    pytest.skip(message)


ShrinkPhoto = Callable[[Path, int, int], bytes]


def _shrunk_jpeg(path: Path, scale: int, quality: int) -> bytes:
    from PIL import Image  # the images extra: a base install's tests never call this

    with Image.open(path) as image:
        small = image.convert("RGB").resize((image.width // scale, image.height // scale))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.fixture(scope="session")
def shrunk_jpeg() -> ShrinkPhoto:
    """An edited copy of a photo as a re-hosting site would serve it: ``1/scale`` the size,
    re-encoded as JPEG at ``quality`` (the copies ISCC and PDQ must still match)."""
    return _shrunk_jpeg


CREDITS_PHOTOS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"
"""The 18 CC BY Flickr photos with their ``credits.csv`` (one row per photo, ``ImageID``)."""
IsccRelease = Callable[[Path, dict[str, bytes]], tuple[Settings, "FingerprintReport"]]
CreditsRelease = Callable[[Path, dict[str, Callable[[bytes], bytes]]], tuple[Settings, Path]]


def _credits_home(shared_data: Path, root: Path, images: dict[str, bytes]) -> Settings:
    """A home under ``root`` with ``credits.csv`` ingested as ``credits/main`` and
    ``images`` (file stem -> bytes) written to ``root/images``."""
    from traindex.ingest.pipeline import ingest

    settings = Settings(home=root / "home")
    ingest(settings, shared_data / CREDITS_PHOTOS / "credits.csv", dataset="credits",
           release="main")  # fmt: skip
    folder = root / "images"
    folder.mkdir()
    for stem, data in images.items():
        (folder / f"{stem}.jpg").write_bytes(data)
    return settings


@pytest.fixture(scope="session")
def iscc_credits(shared_data: Path) -> IsccRelease:
    """Make a home under ``root`` whose release ``credits/main`` has the shared photos' rows
    and ``images`` (file stem -> bytes, in ``root/images``) fingerprinted with ``--iscc``."""

    def make(root: Path, images: dict[str, bytes]) -> tuple[Settings, FingerprintReport]:
        from traindex.jobs.fingerprint import fingerprint

        settings = _credits_home(shared_data, root, images)
        [report] = fingerprint(settings, "credits", images=root / "images", workers=1, iscc=True)
        return settings, report

    return make


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A fresh, empty home per test."""
    return Settings(home=tmp_path / "home")


def _unchanged(data: bytes) -> bytes:
    return data


@pytest.fixture(scope="session")
def credits_release(shared_data: Path) -> CreditsRelease:
    """Make a home under a folder with the shared Flickr test photos' credits file ingested
    as dataset ``credits`` and all their images copied to ``<folder>/images``, changed where
    ``edits`` names a photo (stem -> new bytes from the old); returns the settings and the
    images folder, for the caller to fingerprint as it needs."""

    def make(root: Path, edits: dict[str, Callable[[bytes], bytes]]) -> tuple[Settings, Path]:
        photos = sorted((shared_data / CREDITS_PHOTOS).glob("*.jpg"))
        images = {path.stem: edits.get(path.stem, _unchanged)(path.read_bytes()) for path in photos}
        return _credits_home(shared_data, root, images), root / "images"

    return make


StartServer = Callable[[type[BaseHTTPRequestHandler]], ThreadingHTTPServer]


@pytest.fixture
def http_server() -> Iterator[StartServer]:
    """Start real HTTP servers on 127.0.0.1 (ephemeral ports); all stop after the test."""
    running: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread))
        return server

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass(frozen=True)
class LoopbackTsa:
    """An RFC 3161 timestamp authority on 127.0.0.1 (pyHanko's test TSA behind HTTP)."""

    url: str
    certificate: Path


StartTsa = Callable[[str], LoopbackTsa]


def _tsa_identity(name: str, folder: Path) -> tuple[bytes, bytes]:
    """A self-signed RSA timestamping certificate (EKU timeStamping, critical) and key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / f"{name}.pem").write_bytes(pem)
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.DER), der_key


@pytest.fixture
def loopback_tsa(http_server: StartServer, tmp_path: Path) -> StartTsa:
    """Start a named timestamp authority on loopback; its certificate is written to a file."""
    from asn1crypto import keys, tsp, x509
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    def start(name: str) -> LoopbackTsa:
        cert_der, key_der = _tsa_identity(name, tmp_path)
        stamper = DummyTimeStamper(
            x509.Certificate.load(cert_der), keys.PrivateKeyInfo.load(key_der)
        )

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        server = http_server(Handler)
        return LoopbackTsa(
            f"http://127.0.0.1:{server.server_address[1]}/", tmp_path / f"{name}.pem"
        )

    return start


MatchContract = Callable[[Path, list[dict[str, Any]]], None]


def _same_json_as(golden: Path, documents: list[dict[str, Any]]) -> None:
    written = json.dumps(documents, indent=1) + "\n"
    if os.environ.get("TRAINDEX_WRITE_CONTRACT") == "1":
        golden.write_text(written)
    assert written == golden.read_text(), f"the match JSON differs from {golden.name}"


@pytest.fixture(scope="session")
def match_contract() -> MatchContract:
    """Assert that search JSON ``documents`` are byte for byte the golden file's: the JSON
    contract of ``Match`` (keys, their order, values). ``TRAINDEX_WRITE_CONTRACT=1``
    rewrites the file first: only for a deliberate contract change."""
    return _same_json_as
