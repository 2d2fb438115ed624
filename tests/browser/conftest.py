"""The real app on 127.0.0.1 (uvicorn in a thread) over the demo catalog, and Chromium."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext

from traindex.config import Settings
from traindex.demo import build_demo, demo_images
from traindex.server.app import create_app
from traindex.server.running import serve_in_thread

# driver.py (the Chromium test tooling) sits beside this file; importlib mode adds no path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from driver import chromium, new_context


@dataclass
class Site:
    url: str
    settings: Settings
    photos: Path
    proof: dict[str, str]  # path -> body served by the domain-verification server


def _proof_server(proof: dict[str, str]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = proof.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Quiet."""

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Site]:
    proof: dict[str, str] = {}
    proofs = _proof_server(proof)
    thread = threading.Thread(target=proofs.serve_forever, daemon=True)
    thread.start()
    settings = Settings(
        home=tmp_path_factory.mktemp("site") / "home",
        web_page_size=5,
        web_max_file_bytes=2_000_000,
        web_max_request_bytes=3_000_000,
        registry_verify_scheme="http",
        registry_verify_port=proofs.server_address[1],
        registry_verify_connect_host="127.0.0.1",
        registry_verify_timeout=5.0,
        # the tests press ~20 evidence buttons within a minute from one address, faster
        # than a person would; the per-address limit has its own tests
        # (tests/unit/server/test_expensive_limits.py)
        api_expensive_burst=100,
    )
    build_demo(settings, shared_data)
    try:
        with serve_in_thread(create_app(settings)) as url:
            yield Site(url, settings, demo_images(settings), proof)
    finally:
        proofs.shutdown()
        thread.join()


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def browser(chromium_browser: Browser) -> Iterator[BrowserContext]:
    context = new_context(chromium_browser)
    yield context
    context.close()


@pytest.fixture
def browser_without_js(chromium_browser: Browser) -> Iterator[BrowserContext]:
    context = new_context(chromium_browser, javascript=False)
    yield context
    context.close()
