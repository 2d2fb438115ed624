"""A LAION-like release whose row URLs point at a real HTTP server on loopback.

Host names (``photos.example``, ``cdn.example``, ``blocked.example``) reach the server
through ``download_connect_host = 127.0.0.1``. The server answers by path (and by host for
robots.txt): real photos, 404, 500, a stalled response, a redirect loop, HTML instead of
an image, a 60 MB body, a decompression bomb, ``X-Robots-Tag: noai``, a TDM
reservation and a ``Content-Usage: train-ai=n`` header (IETF aipref draft);
``blocked.example``'s robots.txt disallows traindex's token, ``aipref.example``'s allows
crawling but says ``Content-Usage: train-ai=n`` for every path.
"""

from __future__ import annotations

import contextlib
import io
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sklearn.datasets
from PIL import Image
from typer.testing import CliRunner

from traindex.cli.main import app

CC3M = "_generated/img2dataset-1.47.0-output-cc3m-test-images/files"
HOSTS = ("photos.example", "cdn.example")
STRANGER = Path(sklearn.datasets.__file__).parent / "images" / "china.jpg"
STALL_SECONDS = 10.0
ROBOTS = {
    "blocked.example": b"User-agent: traindex\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
    "aipref.example": b"User-agent: *\nAllow: /\nContent-Usage: train-ai=n\n",
}
runner = CliRunner()


def bomb_png(side: int = 60_000) -> bytes:
    """A PNG whose header declares side x side pixels over a few hundred bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * (side + 1) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@dataclass
class ImageSite:
    """What the server serves, and every request it saw (path, host)."""

    photos: dict[str, bytes]
    port: int = 0
    seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str, host: str = "photos.example") -> str:
        return f"http://{host}:{self.port}{path}"


def _handler(site: ImageSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def _send(self, status: int, body: bytes, kind: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            host = (self.headers.get("Host") or "").split(":")[0]
            with site.lock:
                site.seen[(self.path, host)] += 1
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._route(host)

        def _route(self, host: str) -> None:
            path = self.path
            if path == "/robots.txt":
                return self._robots(host)
            if path.startswith("/img/") and path[5:] in site.photos:
                time.sleep(site.delay)
                return self._send(200, site.photos[path[5:]], "image/jpeg")
            photo = next(iter(site.photos.values()))
            if path == "/noai.jpg":
                return self._send(200, photo, "image/jpeg", X_Robots_Tag="noai")
            if path == "/tdm.jpg":
                return self._send(200, photo, "image/jpeg", tdm_reservation="1")
            if path == "/usage.jpg":
                return self._send(200, photo, "image/jpeg", Content_Usage="search=y, train-ai=n")
            if path == "/error.jpg":
                return self._send(500, b"boom", "text/plain")
            if path == "/page.jpg":
                return self._send(200, b"<html><body>not an image</body></html>", "text/html")
            if path == "/bomb.png":
                return self._send(200, bomb_png(), "image/png")
            if path in ("/loop-a.jpg", "/loop-b.jpg"):
                target = "/loop-b.jpg" if path == "/loop-a.jpg" else "/loop-a.jpg"
                return self._send(302, b"", "text/plain", Location=target)
            if path == "/slow.jpg":
                time.sleep(STALL_SECONDS)
                return self._send(200, photo, "image/jpeg")
            if path == "/huge.jpg":
                return self._huge()
            return self._send(404, b"not found", "text/plain")

        def _robots(self, host: str) -> None:
            rules = ROBOTS.get(host)
            if rules is None:
                return self._send(404, b"no robots", "text/plain")
            return self._send(200, rules, "text/plain")

        def _huge(self) -> None:
            size = 60 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            block = b"\xff\xd8\xff" + b"\x00" * (1024 * 1024 - 3)
            for _ in range(60):
                self.wfile.write(block)

    return Handler


def cc3m_photos(shared_data: Path) -> dict[str, bytes]:
    """The 18 real photos of the img2dataset cc3m sample, by file name."""
    folder = shared_data / CC3M
    return {f"{p.parent.name}-{p.name}": p.read_bytes() for p in sorted(folder.glob("*/*.jpg"))}


SPECIAL = {
    "/missing.jpg": "HTTP 404",
    "/error.jpg": "HTTP 500",
    "/slow.jpg": "timeout",
    "/loop-a.jpg": "redirect loop or too many redirects",
    "/page.jpg": "not an image",
    "/huge.jpg": "too large",
    "/noai.jpg": "reserved: X-Robots-Tag",
    "/tdm.jpg": "reserved: TDM reservation",
    "/usage.jpg": "reserved: Content-Usage",
}


@dataclass
class LaionLike:
    home: Path
    site: ImageSite
    source: Path
    expected: dict[str, str]  # url -> status the downloader must record
    env: dict[str, str]

    def cli(self, *args: str) -> list[str]:
        return ["--home", str(self.home), *args]


def write_release(site: ImageSite, folder: Path, parts: int, special: bool) -> dict[str, str]:
    """LAION-400M-style parquet files (URL, TEXT, WIDTH, HEIGHT); returns url -> status."""
    folder.mkdir(parents=True)
    names = sorted(site.photos)
    expected: dict[str, str] = {}
    for part in range(parts):
        urls = [
            site.url(f"/img/{n}", HOSTS[i % 2]) for i, n in enumerate(names) if i % parts == part
        ]
        expected.update((u, "ok") for u in urls)
        if special and part == 0:
            extra = {site.url(path): status for path, status in SPECIAL.items()}
            extra[site.url("/bomb.png")] = "ok"  # fetched; the decoder refuses it (error)
            extra[site.url(f"/img/{names[0]}", "blocked.example")] = "reserved: robots.txt"
            extra[site.url(f"/img/{names[0]}", "aipref.example")] = "reserved: Content-Usage"
            extra["http://10.1.2.3/private.jpg"] = "refused by address policy"
            urls += list(extra)
            expected.update(extra)
        table = pa.table(
            {
                "URL": urls,
                "TEXT": [f"photo {i} of part {part}" for i in range(len(urls))],
                "WIDTH": [640] * len(urls),
                "HEIGHT": [480] * len(urls),
            }
        )
        pq.write_table(table, folder / f"part-{part:05d}.parquet")
    return expected


@contextlib.contextmanager
def serve_site(site: ImageSite) -> Iterator[ImageSite]:
    """``site`` served on 127.0.0.1 (its ``port`` set) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def image_site(shared_data: Path) -> Iterator[ImageSite]:
    with serve_site(ImageSite(cc3m_photos(shared_data))) as site:
        yield site


MakeRelease = Callable[..., LaionLike]


@pytest.fixture
def download_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Downloads reach the loopback server under the rows' host names, fast and bounded."""
    env = {
        "TRAINDEX_DOWNLOAD_CONNECT_HOST": "127.0.0.1",
        "TRAINDEX_DOWNLOAD_TOTAL_TIMEOUT": "4",
        "TRAINDEX_DOWNLOAD_PER_HOST_RATE": "1000",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def laion_like(image_site: ImageSite, tmp_path: Path, download_env: dict[str, str]) -> MakeRelease:
    """Build and ingest a LAION-like release served by ``image_site``."""
    env = download_env

    def make(name: str = "laionlike", parts: int = 1, special: bool = True) -> LaionLike:
        source = tmp_path / f"src-{name}"
        expected = write_release(image_site, source, parts, special)
        home = tmp_path / "home"
        result = runner.invoke(
            app, ["--home", str(home), "ingest", str(source), "-d", name, "--format", "laion"]
        )
        assert result.exit_code == 0, result.output
        return LaionLike(home, image_site, source, expected, env)

    return make


def write_clip_release(site: ImageSite, model: Path, source: Path) -> tuple[list[str], np.ndarray]:
    """A LAION-embeddings release (``metadata/`` + ``img_emb/``) of ``site``'s photos whose
    published embeddings are ``model``'s, plus one last row whose image is gone (404) and
    whose embedding is the stranger's (``STRANGER``): (row URLs, float32 embeddings)."""
    from traindex.fingerprint.clip import ClipEncoder

    names = sorted(site.photos)
    urls = [site.url(f"/img/{n}", HOSTS[i % 2]) for i, n in enumerate(names)]
    urls.append(site.url("/missing.jpg"))
    blobs = [site.photos[n] for n in names] + [STRANGER.read_bytes()]
    images = [Image.open(io.BytesIO(blob)).convert("RGB") for blob in blobs]
    vectors = ClipEncoder(model).embed_images(images)
    (source / "metadata").mkdir(parents=True)
    (source / "img_emb").mkdir()
    keys = [f"{i:09d}" for i in range(len(urls))]
    captions = [f"photo {i}" for i in range(len(urls))]
    pq.write_table(
        pa.table({"url": urls, "caption": captions, "key": keys}),
        source / "metadata" / "metadata_0.parquet",
    )
    np.save(source / "img_emb" / "img_emb_0.npy", vectors.astype(np.float16))
    return urls, vectors
