"""``traindex filter --signals`` against a real HTTP server on 127.0.0.1.

One site path is reserved for AI training in robots.txt (``Disallow: /private/`` for every
crawler), the rest is allowed: only the reserved rows may go, logged with the signal.
"""

from __future__ import annotations

from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from traindex.config import Settings
from traindex.filtering.deciders import open_decider
from traindex.filtering.run import FilterOptions, filter_inputs

ROBOTS = b"User-agent: *\nDisallow: /private/\n"


class _Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body, kind = ROBOTS, "text/plain"
        elif self.path.endswith(".jpg"):
            body, kind = b"\xff\xd8\xff\xd9", "image/jpeg"
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        del args


@pytest.fixture
def site(http_server: Callable[[type[BaseHTTPRequestHandler]], HTTPServer]) -> str:
    return f"http://127.0.0.1:{http_server(_Site).server_address[1]}"


def test_signals_remove_reserved_rows(settings: Settings, site: str, tmp_path: Path) -> None:
    local = Settings(
        home=settings.home, signals_allow_loopback=True, signals_refuse_private_addresses=False
    )
    src = tmp_path / "urls.txt"
    urls = [f"{site}/private/{i}.jpg" for i in range(3)] + [
        f"{site}/public/{i}.jpg" for i in range(4)
    ]
    src.write_text("\n".join(urls) + "\n")
    decider, registry_id = open_decider(local, None, signals=True)
    log = tmp_path / "removed.parquet"
    (summary,) = filter_inputs(
        src, tmp_path / "out.txt", decider, FilterOptions(registry_id, log=log)
    )
    assert (tmp_path / "out.txt").read_text().splitlines() == urls[3:]
    assert dict(summary.result.removed) == {"signal:reserved": 3}
    logged = pq.read_table(log).to_pylist()
    assert [row["url"] for row in logged] == urls[:3]
    assert all("robots" in row["source"] for row in logged)
