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
    robots = ROBOTS
    headers_sent: tuple[tuple[str, str], ...] = ()

    def do_GET(self) -> None:
        robots = self.path == "/robots.txt"
        body, kind = (self.robots, "text/plain") if robots else (b"x", "image/jpeg")
        status = 404 if self.path in ("/ai.txt", "/.well-known/tdmrep.json") else 200
        self.send_response(status)
        self.send_header("Content-Type", kind)
        for name, value in () if robots else self.headers_sent:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


class _UsageSite(_Site):
    """Crawling allowed; training refused by IETF aipref ``Content-Usage`` (draft) only."""

    robots = b"User-agent: *\nAllow: /\nContent-Usage: train-ai=n\n"
    headers_sent = (("Content-Usage", "search=y"),)


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


def test_row_page_shows_a_content_usage_reservation(
    tmp_path: Path, http_server: Callable[[type[BaseHTTPRequestHandler]], HTTPServer]
) -> None:
    site = f"http://127.0.0.1:{http_server(_UsageSite).server_address[1]}"
    settings = Settings(home=tmp_path / "home", signals_allow_loopback=True)
    listing = tmp_path / "rows.csv"
    listing.write_text(f"url,caption\n{site}/photos/dog.jpg,a dog\n")
    ingest(settings, listing, dataset="sample", release="one")
    client = TestClient(create_app(settings))
    params: dict[str, str | int] = {"shard": "rows.csv", "row": 0, "signals": "true"}
    checked = client.get("/rows/sample/one", params=params)
    assert checked.status_code == 200
    verdict = checked.text.split('id="signals-verdict"', 1)[1].split("</p>", 1)[0]
    assert "<strong>reserved</strong>" in verdict
    assert "content-usage" in verdict
    row = checked.text.split("<td>content-usage</td>", 1)[1].split("</tr>", 1)[0]
    assert "<td>reserved</td>" in row
    assert "IETF aipref draft" in row
    assert "train-ai=n" in row
