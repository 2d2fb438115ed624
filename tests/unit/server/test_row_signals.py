"""The row page checks the row URL's opt-out signals on request, through the real fetcher
against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.server.app import create_app

ROBOTS = b"User-agent: GPTBot\nDisallow: /\n"


class _Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body, kind = (ROBOTS, "text/plain") if self.path == "/robots.txt" else (b"x", "image/jpeg")
        status = 404 if self.path in ("/ai.txt", "/.well-known/tdmrep.json") else 200
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture
def site(http_server: Callable[[type[BaseHTTPRequestHandler]], HTTPServer]) -> str:
    return f"http://127.0.0.1:{http_server(_Site).server_address[1]}"


def test_row_page_shows_the_reservation_and_which_signal_decided(tmp_path: Path, site: str) -> None:
    settings = Settings(home=tmp_path / "home", signals_allow_loopback=True)
    listing = tmp_path / "rows.csv"
    listing.write_text(f"url,caption\n{site}/photos/cat.jpg,a cat on a mat\n")
    ingest(settings, listing, dataset="sample", release="one")
    client = TestClient(create_app(settings))
    params: dict[str, str | int] = {"shard": "rows.csv", "row": 0}
    plain = client.get("/rows/sample/one", params=params)
    assert plain.status_code == 200
    assert "Check this URL's signals now" in plain.text
    assert "signals-verdict" not in plain.text
    checked = client.get("/rows/sample/one", params={**params, "signals": "true"})
    assert checked.status_code == 200
    verdict = checked.text.split('id="signals-verdict"', 1)[1].split("</p>", 1)[0]
    assert "<strong>reserved</strong>" in verdict
    assert f"{site}/robots.txt" in checked.text
    assert "GPTBot" in checked.text
