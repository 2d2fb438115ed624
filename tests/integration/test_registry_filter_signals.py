"""``traindex filter --signals`` against a real HTTP server on 127.0.0.1.

One site path is reserved for AI training in robots.txt (``Disallow: /private/`` for every
crawler), the rest is allowed: only the reserved rows may go, logged with the signal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from traindex.config import Settings
from traindex.errors import InputError
from traindex.filtering.deciders import open_decider
from traindex.filtering.run import FilterOptions, filter_inputs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from robotsite import ReservingSite


@pytest.fixture
def site(http_server: Callable[[type[BaseHTTPRequestHandler]], HTTPServer]) -> str:
    return f"http://127.0.0.1:{http_server(ReservingSite).server_address[1]}"


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


class _Down(ReservingSite):
    """robots.txt answers 503: RFC 9309 "unreachable", so the signals verdict is unknown."""

    def do_GET(self) -> None:  # noqa: N802 (the handler method http.server calls)
        if self.path == "/robots.txt":
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


@pytest.mark.parametrize("unknown", ["keep", "drop"])
def test_unknown_rows_follow_the_builders_choice(
    settings: Settings,
    site: str,
    http_server: Callable[[type[BaseHTTPRequestHandler]], HTTPServer],
    tmp_path: Path,
    unknown: str,
) -> None:
    local = Settings(
        home=settings.home, signals_allow_loopback=True, signals_refuse_private_addresses=False
    )
    down = f"http://127.0.0.1:{http_server(_Down).server_address[1]}"
    urls = [f"{site}/private/1.jpg", f"{site}/public/1.jpg", f"{down}/public/2.jpg"]
    src = tmp_path / "urls.txt"
    src.write_text("\n".join(urls) + "\n")
    decider, registry_id = open_decider(local, None, signals=True, unknown=unknown)
    assert registry_id.endswith(f":signals:unknown={unknown}")
    log = tmp_path / "removed.parquet"
    (summary,) = filter_inputs(
        src, tmp_path / "out.txt", decider, FilterOptions(registry_id, log=log)
    )
    logged = pq.read_table(log).to_pylist()
    if unknown == "keep":
        assert (tmp_path / "out.txt").read_text().splitlines() == urls[1:]
        assert dict(summary.result.removed) == {"signal:reserved": 1}
        return
    assert (tmp_path / "out.txt").read_text().splitlines() == [urls[1]]
    assert dict(summary.result.removed) == {"signal:reserved": 1, "signal:unknown": 1}
    assert [(r["url"], r["decision"], r["source"]) for r in logged][1] == (
        urls[2],
        "unknown",
        "unreadable: robots.txt",
    )


def test_unknown_choice_needs_signals(settings: Settings) -> None:
    with pytest.raises(InputError, match="--signals"):
        open_decider(settings, None, unknown="drop")
