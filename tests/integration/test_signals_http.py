"""End to end through the real fetcher against real HTTP servers on 127.0.0.1.

Each fixture site is its own ``ThreadingHTTPServer`` on an ephemeral loopback port (robots.txt
is per origin, so sites need distinct origins). Sites: a site that reserves through every
channel, an open site, a broken one (5xx, garbage, invalid JSON), a slow one (slow-loris body,
stalled response), one full of redirects (loops, chains, cross-host) and one with a 10 MB
robots.txt and an oversized image. Every server thread ends by itself within seconds.
No test asserts on timing: only on verdicts and on what the servers saw.
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

from traindex.config import Settings
from traindex.signals.base import Basis, Verdict
from traindex.signals.service import check_targets
from traindex.signals.verdict import TargetVerdict

XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" '
    b'plus:DataMining="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED"/></rdf:RDF></x:xmpmeta>'
)
Reply = tuple[int, list[tuple[str, str]], bytes]
Route = Callable[["_Handler"], Reply | None]


def _jpeg(xmp: bytes | None = None, padding: int = 0) -> bytes:
    buffer = io.BytesIO()
    kwargs = {"xmp": xmp} if xmp else {}
    Image.new("RGB", (16, 16), "blue").save(buffer, "JPEG", **kwargs)
    return buffer.getvalue() + b"\x00" * padding


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Route]
    seen: list[tuple[str, dict[str, str]]]
    stop: threading.Event


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging."""

    def do_GET(self) -> None:
        self.server.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        route = self.server.routes.get(self.path.split("?")[0])
        reply = route(self) if route else (404, [], b"not found")
        if reply is None:
            return
        status, headers, body = reply
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return


def _static(status: int, body: bytes = b"", *headers: tuple[str, str]) -> Route:
    return lambda _h: (status, list(headers), body)


def _drip(handler: _Handler) -> None:
    """Slow-loris: promise 400 bytes, send one every 50 ms; stops when the client leaves."""
    handler.send_response(200)
    handler.send_header("Content-Length", "400")
    handler.end_headers()
    for _ in range(400):
        if handler.server.stop.wait(0.05):
            return
        try:
            handler.wfile.write(b"#")
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return


def _stall(handler: _Handler) -> None:
    """Accept the request, then say nothing for up to 6 s."""
    handler.server.stop.wait(6)
    handler.close_connection = True


def _redirect(location: str) -> Route:
    return lambda _h: (302, [("Location", location)], b"")


def _reserving_site() -> dict[str, Route]:
    """Reserves through robots.txt, ai.txt, tdmrep.json, two X-Robots-Tag headers and XMP."""
    return {
        "/robots.txt": _static(
            200,
            b"User-agent: *\nAllow: /\n\nUser-agent: GPTBot\nDisallow: /\n",
            ("Set-Cookie", "tracking=1; Path=/"),
        ),
        "/ai.txt": _static(200, b"# Spawning AI\nUser-Agent: *\nDisallow: *.jpg\n"),
        "/.well-known/tdmrep.json": _static(
            200, json.dumps([{"location": "/", "tdm-reservation": 1}]).encode()
        ),
        "/a.jpg": _static(
            200,
            _jpeg(XMP),
            ("Content-Type", "image/jpeg"),
            ("X-Robots-Tag", "noindex"),
            ("X-Robots-Tag", "GPTBot: noai"),
            ("Set-Cookie", "again=1; Path=/"),
        ),
    }


def _open_site() -> dict[str, Route]:
    """Allows by default; HTML pages carry meta robots / TDMRep meta variants."""
    return {
        "/robots.txt": _static(
            200, b"User-agent: *\nAllow: /\n", ("Cache-Control", "max-age=3600")
        ),
        "/a.jpg": _static(200, _jpeg(), ("Content-Type", "image/jpeg")),
        "/page.html": _static(
            200,
            b'<html><head><meta name="robots" content="noai"></head></html>',
            ("Content-Type", "text/html; charset=utf-8"),
        ),
        "/tdm.html": _static(
            200,
            b'<html><head><meta name="tdm-reservation" content="1"></head></html>',
            ("Content-Type", "text/html"),
            ("tdm-reservation", "0"),
        ),
        "/plain.html": _static(200, b"<html><body>hi</body></html>", ("Content-Type", "text/html")),
    }


def _awkward_sites(other: Callable[[str], str]) -> dict[str, dict[str, Route]]:
    """Broken, slow, redirecting and oversized sites."""
    huge = b"User-agent: GPTBot\nDisallow: /\n" + b"# filler line\n" * (10_000_000 // 14)
    return {
        "broken": {
            "/robots.txt": _static(503, b"down"),
            "/ai.txt": _static(200, bytes(range(256)) * 16),
            "/.well-known/tdmrep.json": _static(200, b'[{"location": "/", '),
            "/a.jpg": _static(200, _jpeg(), ("Content-Type", "image/jpeg")),
        },
        "slow": {"/robots.txt": _drip, "/a.jpg": _stall},
        "redirecting": {
            "/robots.txt": _redirect("/r1"),
            "/r1": _redirect("/r2"),
            "/r2": _redirect("/robots.txt"),
            "/x.jpg": _redirect(other("open") + "/a.jpg"),
            "/loop.jpg": _redirect("/loop.jpg"),
            **{f"/c{i}": _redirect(f"/c{i + 1}") for i in range(10)},
        },
        "huge": {
            "/robots.txt": _static(200, huge),
            "/big.jpg": _static(200, _jpeg(XMP, padding=1_000_000), ("Content-Type", "image/jpeg")),
        },
    }


def _aipref_site() -> dict[str, Route]:
    """IETF aipref ``Content-Usage`` (draft) only: crawling allowed everywhere, training
    refused under ``/no/`` by robots.txt and for ``/h.jpg`` by the header."""
    image = ("Content-Type", "image/jpeg")
    return {
        "/robots.txt": _static(200, b"User-agent: *\nAllow: /\nContent-Usage: /no/ train-ai=n\n"),
        "/no/a.jpg": _static(200, _jpeg(), image),
        "/h.jpg": _static(200, _jpeg(), image, ("Content-Usage", "train-ai=n, search=y")),
        "/ok.jpg": _static(200, _jpeg(), image, ("Content-Usage", "train-ai=y")),
    }


def _sites(other: Callable[[str], str]) -> dict[str, dict[str, Route]]:
    return {
        "reserving": _reserving_site(),
        "open": _open_site(),
        "aipref": _aipref_site(),
        **_awkward_sites(other),
    }


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, _Server]]:
    """One loopback server per fixture site; shut down (and threads released) afterwards."""
    stop = threading.Event()
    running: dict[str, _Server] = {}
    for name in ("reserving", "open", "aipref", "broken", "slow", "redirecting", "huge"):
        server = _Server(("127.0.0.1", 0), _Handler)
        server.seen, server.stop, server.routes = [], stop, {}
        running[name] = server
    origins = {n: f"http://127.0.0.1:{s.server_address[1]}" for n, s in running.items()}
    for name, routes in _sites(origins.__getitem__).items():
        running[name].routes = routes
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in running.values()]
    for thread in threads:
        thread.start()
    yield running
    stop.set()
    for server in running.values():
        server.shutdown()
        server.server_close()


def _url(servers: dict[str, _Server], site: str, path: str) -> str:
    return f"http://127.0.0.1:{servers[site].server_address[1]}{path}"


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "home": tmp_path / "home",
        "signals_allow_loopback": True,
        "signals_read_timeout": 1.0,
        "signals_total_timeout": 3.0,
        "signals_max_body_bytes": 200_000,
    }
    return Settings(**(base | overrides))


def _check(
    settings: Settings, targets: list[str], agents: tuple[str, ...] = ("GPTBot",)
) -> list[TargetVerdict]:
    return asyncio.run(check_targets(targets, settings, agents))


def _signals(verdict: TargetVerdict) -> dict[str, tuple[Verdict, Basis]]:
    return {r.signal: (r.verdict, r.basis) for r in verdict.results}


def test_site_reserving_through_every_channel(servers: dict[str, _Server], tmp_path: Path) -> None:
    [verdict] = _check(_settings(tmp_path), [_url(servers, "reserving", "/a.jpg")])
    assert verdict.verdict is Verdict.RESERVED
    signals = _signals(verdict)
    for name in ("robots.txt", "ai.txt", "tdmrep", "x-robots-tag", "iptc"):
        assert signals[name] == (Verdict.RESERVED, Basis.STATEMENT), name
    assert signals["c2pa"] == (Verdict.UNKNOWN, Basis.ABSENT)
    seen = servers["reserving"].seen
    assert all("cookie" not in headers for _path, headers in seen)
    assert all(headers["user-agent"].startswith("traindex-signals/") for _p, headers in seen)


def test_open_site_allows_and_fetches_robots_once(
    servers: dict[str, _Server], tmp_path: Path
) -> None:
    urls = [_url(servers, "open", f"/a.jpg?n={i}") for i in range(25)]
    verdicts = _check(_settings(tmp_path), urls)
    assert {v.verdict for v in verdicts} == {Verdict.ALLOWED}
    robots = [p for p, _h in servers["open"].seen if p == "/robots.txt"]
    assert len(robots) == 1
    assert _signals(verdicts[0])["ai.txt"] == (Verdict.UNKNOWN, Basis.ABSENT)


@pytest.mark.parametrize(
    ("path", "signal", "verdict"),
    [
        ("/page.html", "meta-robots", Verdict.RESERVED),
        ("/tdm.html", "tdmrep", Verdict.RESERVED),
        ("/plain.html", "meta-robots", Verdict.ALLOWED),
    ],
)
def test_html_meta_variants(
    servers: dict[str, _Server], tmp_path: Path, path: str, signal: str, verdict: Verdict
) -> None:
    [result] = _check(_settings(tmp_path), [_url(servers, "open", path)])
    assert _signals(result)[signal][0] is verdict
    assert result.verdict is verdict


def test_broken_site_is_unknown_never_allowed(servers: dict[str, _Server], tmp_path: Path) -> None:
    [verdict] = _check(_settings(tmp_path), [_url(servers, "broken", "/a.jpg")])
    assert verdict.verdict is Verdict.UNKNOWN
    signals = _signals(verdict)
    assert signals["robots.txt"] == (Verdict.UNKNOWN, Basis.ERROR)
    assert signals["ai.txt"] == (Verdict.UNKNOWN, Basis.ERROR)
    assert signals["tdmrep"] == (Verdict.UNKNOWN, Basis.ERROR)
    assert "HTTP 503" in verdict.reason


def test_slow_loris_and_stalled_server_end_in_unknown(
    servers: dict[str, _Server], tmp_path: Path
) -> None:
    [verdict] = _check(_settings(tmp_path), [_url(servers, "slow", "/a.jpg")])
    signals = {r.signal: r for r in verdict.results}
    assert signals["robots.txt"].verdict is Verdict.UNKNOWN
    assert "gave up after 3 s total" in signals["robots.txt"].reason
    assert signals["x-robots-tag"].basis is Basis.ERROR
    assert "timed out" in signals["x-robots-tag"].reason
    assert verdict.verdict is Verdict.UNKNOWN


def test_redirects(servers: dict[str, _Server], tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    cross, loop, chain = _check(
        settings,
        [
            _url(servers, "redirecting", "/x.jpg"),
            _url(servers, "redirecting", "/loop.jpg"),
            _url(servers, "redirecting", "/c0"),
        ],
    )
    robots = {r.signal: r for r in cross.results}["robots.txt"]
    assert (robots.verdict, robots.basis) == (Verdict.ALLOWED, Basis.DEFAULT)
    assert "redirect loop" in robots.reason
    assert {r.signal: r for r in cross.results}["x-robots-tag"].source.endswith(
        "/a.jpg X-Robots-Tag header"
    )
    assert cross.verdict is Verdict.ALLOWED
    assert "redirect loop" in loop.reason
    assert "more than 5 redirects" in chain.reason


def test_ten_megabyte_robots_and_oversized_image(
    servers: dict[str, _Server], tmp_path: Path
) -> None:
    [verdict] = _check(_settings(tmp_path), [_url(servers, "huge", "/big.jpg")])
    signals = {r.signal: r for r in verdict.results}
    assert signals["robots.txt"].verdict is Verdict.RESERVED
    assert "file cut at 524288 bytes" in signals["robots.txt"].reason
    assert signals["iptc"].verdict is Verdict.RESERVED
    assert verdict.verdict is Verdict.RESERVED


def test_injection_attempts(servers: dict[str, _Server], tmp_path: Path) -> None:
    encoded = _url(servers, "open", "/a.jpg%0d%0aX-Robots-Tag:%20noai")
    raw = _url(servers, "open", "/a.jpg\r\nX-Robots-Tag: noai")
    first, second = _check(_settings(tmp_path), [encoded, raw])
    assert first.verdict is Verdict.UNKNOWN  # 404: the encoded CRLF stayed in the path
    assert all("x-robots-tag" not in h for _p, h in servers["open"].seen)
    assert second.results[0].signal == "input"
    assert "control characters" in second.reason


def test_loopback_refused_unless_allowed(servers: dict[str, _Server], tmp_path: Path) -> None:
    settings = _settings(tmp_path, signals_allow_loopback=False)
    [verdict] = _check(settings, [_url(servers, "open", "/a.jpg")])
    assert verdict.verdict is Verdict.UNKNOWN
    assert "IP-literal host 127.0.0.1 refused" in verdict.reason


def test_cli_against_loopback(
    servers: dict[str, _Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traindex.cli.main import app

    monkeypatch.setenv("TRAINDEX_SIGNALS_ALLOW_LOOPBACK", "true")
    url = _url(servers, "reserving", "/a.jpg")
    result = CliRunner().invoke(app, ["--home", str(tmp_path), "check", url, "--json"])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)["results"]
    assert entry["verdict"] == "reserved"
    by_signal = {s["signal"]: s for s in entry["signals"]}
    assert by_signal["robots.txt"]["raw"] == "Disallow: /"
    assert by_signal["robots.txt"]["source"].endswith("/robots.txt (group 'gptbot')")


def test_cli_reports_content_usage(
    servers: dict[str, _Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``traindex check`` (JSON and table) names the draft signal that reserved."""
    from traindex.cli.main import app

    monkeypatch.setenv("TRAINDEX_SIGNALS_ALLOW_LOOPBACK", "true")
    urls = [_url(servers, "aipref", p) for p in ("/no/a.jpg", "/h.jpg", "/ok.jpg")]
    base = ["--home", str(tmp_path), "check", *urls]
    result = CliRunner().invoke(app, [*base, "--json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)["results"]
    assert [e["verdict"] for e in entries] == ["reserved", "reserved", "allowed"]
    usage = [next(s for s in e["signals"] if s["signal"] == "content-usage") for e in entries]
    assert [u["verdict"] for u in usage] == ["reserved", "reserved", "allowed"]
    assert usage[0]["raw"] == "/no/ train-ai=n"
    assert "/robots.txt (group '*'" in usage[0]["source"]
    assert usage[1]["raw"] == "train-ai=n, search=y"
    assert all("IETF aipref draft" in u["source"] for u in usage)
    table = CliRunner().invoke(app, base)
    assert table.exit_code == 0, table.output
    assert table.output.count("content-usage: reserved") == 2
