"""``traindex filter --signals`` against a real HTTP server on 127.0.0.1.

One site path is reserved for AI training in robots.txt (``Disallow: /private/`` for every
crawler), the rest is allowed: only the reserved rows may go, logged with the signal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from traindex.config import Settings
from traindex.errors import InputError
from traindex.filtering.deciders import open_decider
from traindex.filtering.run import FilterOptions, filter_inputs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from robotsite import ReservingSite as _Site


@pytest.fixture
def site(http_server: Callable[[type[BaseHTTPRequestHandler]], HTTPServer]) -> str:
    return f"http://127.0.0.1:{http_server(_Site).server_address[1]}"


def _filter(
    settings: Settings, urls: list[str], tmp_path: Path, unknown: str = "keep"
) -> tuple[list[str], dict[str, int], list[dict[str, Any]]]:
    """Filter a URL list with ``--signals`` on loopback: kept lines, removed counts, log."""
    local = Settings(
        home=settings.home, signals_allow_loopback=True, signals_refuse_private_addresses=False
    )
    src = tmp_path / "urls.txt"
    src.write_text("\n".join(urls) + "\n")
    decider, registry_id = open_decider(local, None, signals=True, unknown=unknown)
    assert registry_id.endswith(f":signals:unknown={unknown}")
    log = tmp_path / "removed.parquet"
    (summary,) = filter_inputs(
        src, tmp_path / "out.txt", decider, FilterOptions(registry_id, log=log)
    )
    kept = (tmp_path / "out.txt").read_text().splitlines()
    return kept, dict(summary.result.removed), pq.read_table(log).to_pylist()


def test_signals_remove_reserved_rows(settings: Settings, site: str, tmp_path: Path) -> None:
    urls = [f"{site}/private/{i}.jpg" for i in range(3)] + [
        f"{site}/public/{i}.jpg" for i in range(4)
    ]
    kept, removed, logged = _filter(settings, urls, tmp_path)
    assert kept == urls[3:]
    assert removed == {"signal:reserved": 3}
    assert [row["url"] for row in logged] == urls[:3]
    assert all("robots" in row["source"] for row in logged)


class _Down(_Site):
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
    down = f"http://127.0.0.1:{http_server(_Down).server_address[1]}"
    urls = [f"{site}/private/1.jpg", f"{site}/public/1.jpg", f"{down}/public/2.jpg"]
    kept, removed, logged = _filter(settings, urls, tmp_path, unknown)
    if unknown == "keep":
        assert kept == urls[1:]
        assert removed == {"signal:reserved": 1}
        return
    assert kept == [urls[1]]
    assert removed == {"signal:reserved": 1, "signal:unknown": 1}
    assert [(r["url"], r["decision"], r["source"]) for r in logged][1] == (
        urls[2],
        "unknown",
        "unreadable: robots.txt",
    )


def test_unknown_choice_needs_signals(settings: Settings) -> None:
    with pytest.raises(InputError, match="--signals"):
        open_decider(settings, None, unknown="drop")


class _Usage(_Site):
    """IETF aipref ``Content-Usage`` (draft): robots.txt allows crawling everywhere but
    says ``train-ai=n`` under ``/no-train/``; ``/header-*.jpg`` answers with the header."""

    robots = b"User-agent: *\nAllow: /\nContent-Usage: /no-train/ train-ai=n\n"

    def usage(self) -> str | None:
        return "train-ai=n" if "/header-" in self.path else "train-ai=y"


def test_content_usage_train_ai_n_removes_rows(
    settings: Settings,
    http_server: Callable[[type[BaseHTTPRequestHandler]], HTTPServer],
    tmp_path: Path,
) -> None:
    site = f"http://127.0.0.1:{http_server(_Usage).server_address[1]}"
    urls = [f"{site}/no-train/1.jpg", f"{site}/header-2.jpg", f"{site}/ok/3.jpg"]
    kept, removed, logged = _filter(settings, urls, tmp_path)
    assert kept == urls[2:]
    assert removed == {"signal:reserved": 2}
    assert [(r["url"], r["decision"], r["source"]) for r in logged] == [
        (urls[0], "reserved", "content-usage"),
        (urls[1], "reserved", "content-usage"),
    ]
