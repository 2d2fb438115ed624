"""Fixtures shared by every test layer.

``shared_data`` points at ``../shared/data``. Locally a missing folder skips the tests that
need it; in CI (``TRAINDEX_REQUIRE_SHARED=1``) it fails them, so real-data tests can never
silently stop running.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from traindex.config import Settings

# Tests never depend on timing: a slow CI machine must not turn into a failure.
hypothesis_settings.register_profile("traindex", deadline=None)
hypothesis_settings.load_profile("traindex")

REPO = Path(__file__).resolve().parent.parent
# TRAINDEX_SHARED_DATA points elsewhere (e.g. from a git worktree that is not next to it)
SHARED_DATA = Path(os.environ.get("TRAINDEX_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    message = f"../shared/data not found at {SHARED_DATA}"
    if os.environ.get("TRAINDEX_REQUIRE_SHARED") == "1":
        pytest.fail(message + " (TRAINDEX_REQUIRE_SHARED=1)")
    pytest.skip(message)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A fresh, empty home per test."""
    return Settings(home=tmp_path / "home")


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
