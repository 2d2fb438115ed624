"""Bulk signal check: 20,000 image URLs over 200 hosts, all served from 127.0.0.1.

Claim measured: traindex checks image URLs in bulk at a useful rate while fetching each
site file (robots.txt, ai.txt, tdmrep.json) once per host per TTL, and it finds more
reservations than datadiligence on the same URLs.

Setup: a separate server process listens on 200 loopback ports (one "host" each; robots.txt
is per origin). Host ``i`` and image ``j`` decide which signals are present (see ``_site``
and ``_image``). Every connection stays on 127.0.0.1; the server exits by itself after
``--server-lifetime`` seconds; the run is bounded by ``--deadline``.

Side by side: datadiligence 0.1.7 (PyPI; installs and runs offline for these rules) checks
the same URLs with its per-response rules - ``XRobotsTagHeader``, ``TDMRepHeader``,
``C2PAMetadataRule`` - through ``requests`` on a thread pool (it has no robots.txt, ai.txt,
tdmrep.json or IPTC support, so those families are 0 by construction).

Usage: ``PYTHONPATH=src python bench/signals_bulk.py [--hosts 200 --per-host 100]``.
Prints a table and writes ``bench/out/signals_bulk.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import multiprocessing
import os
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from PIL import Image

from traindex.config import Settings
from traindex.signals.base import Verdict
from traindex.signals.fetch import Fetcher
from traindex.signals.service import check_targets

__all__ = ["main"]

OUT = Path(__file__).resolve().parent / "out" / "signals_bulk.json"
AGENT = "GPTBot"
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" '
    b'plus:DataMining="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED"/></rdf:RDF></x:xmpmeta>'
)


def _jpeg(xmp: bytes | None) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "green").save(buffer, "JPEG", **({"xmp": xmp} if xmp else {}))
    return buffer.getvalue()


def _site(host: int, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """Site files per host: robots.txt varies by host % 5 (2: IETF ``Content-Usage``
    ``train-ai=n`` for /img/, crawling allowed), ai.txt % 4, tdmrep.json % 6."""
    if path == "/robots.txt":
        robots = {
            0: b"User-agent: GPTBot\nDisallow: /\n",
            1: b"User-agent: *\nDisallow: /img/private/\n",
            2: b"User-agent: *\nAllow: /\nContent-Usage: /img/ train-ai=n\n",
            3: b"User-agent: CCBot\nDisallow: /\n",
        }
        if host % 5 == 4:
            return 500, [], b"error"
        body = robots.get(host % 5)
        return (200, [], body) if body is not None else (404, [], b"")
    if path == "/ai.txt":
        return (200, [], b"User-Agent: *\nDisallow: *.jpg\n") if host % 4 == 0 else (404, [], b"")
    if host % 6 == 0:
        return 200, [], json.dumps([{"location": "/img/", "tdm-reservation": 1}]).encode()
    return 404, [], b""


def _image(index: int, plain: bytes, tagged: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """Per-image signals by index % 10: header variants, TDMRep header, IPTC XMP, and a
    ``Content-Usage: train-ai=n`` header (7)."""
    headers = [("Content-Type", "image/jpeg")]
    kind = index % 10
    extra = {
        0: [("X-Robots-Tag", "noai")],
        1: [("X-Robots-Tag", "gptbot: noai")],
        2: [("X-Robots-Tag", "noindex"), ("X-Robots-Tag", "NoImageAI")],
        3: [("tdm-reservation", "1")],
        6: [("X-Robots-Tag", "max-snippet: 20, noai")],
        7: [("Content-Usage", "train-ai=n, search=y")],
    }.get(kind, [])
    return headers + extra, tagged if kind == 4 else plain


def _respond(host: int, path: str, plain: bytes, tagged: bytes) -> bytes:
    if path.startswith("/img/"):
        index = int(path.rsplit("/", 1)[1].split(".", maxsplit=1)[0])
        status, (headers, body) = 200, _image(index, plain, tagged)
    else:
        status, headers, body = _site(host, path)
    lines = [
        f"HTTP/1.1 {status} X",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _serve(ports: Connection, hosts: int, lifetime: float) -> None:
    plain, tagged = _jpeg(None), _jpeg(XMP)
    counts: Counter[str] = Counter()

    async def handle(host: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                if path == "/__stats":
                    body = json.dumps(counts).encode()
                    writer.write(b"HTTP/1.1 200 X\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                else:
                    counts[path if not path.startswith("/img/") else "image"] += 1
                    writer.write(_respond(host, path, plain, tagged))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            writer.close()

    servers = []
    for host in range(hosts):
        server = await asyncio.start_server(
            lambda r, w, h=host: handle(h, r, w), "127.0.0.1", 0, backlog=256
        )
        servers.append(server)
    ports.send([s.sockets[0].getsockname()[1] for s in servers])
    await asyncio.sleep(lifetime)


def _server_main(ports: Connection, hosts: int, lifetime: float) -> None:
    asyncio.run(_serve(ports, hosts, lifetime))


def _urls(ports: list[int], per_host: int) -> list[str]:
    """Interleaved over hosts; 1 in 10 images lives under /img/private/."""
    urls = []
    for j in range(per_host):
        folder = "img/private" if j % 10 == 5 else "img"
        urls += [f"http://127.0.0.1:{port}/{folder}/{j}.jpg" for port in ports]
    return urls


async def _traindex(urls: list[str], settings: Settings) -> tuple[dict[str, Any], Counter[str]]:
    async with Fetcher(settings) as fetcher:
        start = time.perf_counter()
        verdicts = await check_targets(urls, settings, (AGENT,), fetcher=fetcher)
        elapsed = time.perf_counter() - start
    families: Counter[str] = Counter()
    for verdict in verdicts:
        for result in verdict.results:
            if result.verdict is Verdict.RESERVED:
                families[result.signal] += 1
    summary = {
        "seconds": round(elapsed, 2),
        "urls_per_s": round(len(urls) / elapsed, 1),
        "verdicts": dict(Counter(v.verdict.value for v in verdicts)),
        "site_file_fetches": dict(fetcher.cache.fetches),
    }
    return summary, families


def _datadiligence(urls: list[str], threads: int) -> tuple[dict[str, Any], Counter[str]] | None:
    try:
        import requests
        from datadiligence.rules import C2PAMetadataRule, TDMRepHeader, XRobotsTagHeader
    except ImportError:
        return None
    logging.disable(logging.ERROR)  # its C2PA rule logs every image without a manifest
    rules = {
        "x-robots-tag": XRobotsTagHeader(user_agent=AGENT),
        "tdmrep": TDMRepHeader(),
        "c2pa": C2PAMetadataRule(),
    }
    session = requests.Session()

    def one(url: str) -> list[str]:
        response = session.get(url, headers={"User-Agent": "datadiligence-bench"}, timeout=10)
        found = [n for n, rule in list(rules.items())[:2] if not rule.is_allowed(response=response)]
        if not rules["c2pa"].is_allowed(body=response.content):
            found.append("c2pa")
        return found

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        found = list(pool.map(one, urls))
    elapsed = time.perf_counter() - start
    families = Counter(name for names in found for name in names)
    reserved = sum(1 for names in found if names)
    summary = {
        "seconds": round(elapsed, 2),
        "urls_per_s": round(len(urls) / elapsed, 1),
        "verdicts": {"reserved": reserved, "allowed": len(urls) - reserved},
    }
    return summary, families


def _server_counts(port: int) -> dict[str, int]:
    """Requests the server saw, by path (images summed), read from its stats endpoint."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__stats", timeout=10) as response:
        counts: dict[str, int] = json.loads(response.read())
    return counts


def _table(report: dict[str, Any]) -> str:
    families = [
        "robots.txt",
        "ai.txt",
        "tdmrep",
        "x-robots-tag",
        "meta-robots",
        "iptc",
        "c2pa",
        "content-usage",
    ]
    tx, dd = report["traindex"], report.get("datadiligence")
    rows = [("", "traindex", "datadiligence" if dd else "-")]
    rows.append(("URLs/s", str(tx["urls_per_s"]), str(dd["urls_per_s"]) if dd else "-"))
    for verdict in ("reserved", "allowed", "unknown"):
        rows.append(
            (
                verdict,
                str(tx["verdicts"].get(verdict, 0)),
                str(dd["verdicts"].get(verdict, 0)) if dd else "-",
            )
        )
    for family in families:
        dd_value = str(dd["reserved_by_family"].get(family, 0)) if dd else "-"
        rows.append(
            (f"reserved by {family}", str(tx["reserved_by_family"].get(family, 0)), dd_value)
        )
    for path, count in sorted(tx["site_file_fetches"].items()):
        rows.append((f"fetches of {path}", str(count), "-"))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(" | ".join(c.ljust(width[i]) for i, c in enumerate(r)) for r in rows)


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--per-host", type=int, default=100)
    parser.add_argument("--dd-threads", type=int, default=16)
    parser.add_argument("--server-lifetime", type=float, default=900.0)
    parser.add_argument("--deadline", type=float, default=600.0)
    return parser.parse_args()


def _measure(ports: list[int], args: argparse.Namespace) -> dict[str, Any]:
    """Run traindex, read the server's request counts, then run datadiligence."""
    urls = _urls(ports, args.per_host)
    settings = Settings(signals_allow_loopback=True, signals_per_host_concurrency=4)
    load = os.getloadavg()[0]  # the machine may be shared: record how busy it was
    tx, tx_families = asyncio.run(asyncio.wait_for(_traindex(urls, settings), args.deadline))
    report: dict[str, Any] = {
        "load_average_1m_before": round(load, 2),
        "urls": len(urls),
        "hosts": len(ports),
        "agent": AGENT,
        "traindex": {**tx, "reserved_by_family": dict(tx_families)},
        "server_requests_after_traindex": _server_counts(ports[0]),
    }
    dd = _datadiligence(urls, args.dd_threads)
    if dd is not None:
        report["datadiligence"] = {**dd[0], "reserved_by_family": dict(dd[1])}
    return report


def main() -> None:
    """Run the benchmark, print the table, write the JSON."""
    args = _args()
    receive, send = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(
        target=_server_main, args=(send, args.hosts, args.server_lifetime), daemon=True
    )
    server.start()
    try:
        report = _measure(receive.recv(), args)
    finally:
        server.terminate()
        server.join(10)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(_table(report))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
