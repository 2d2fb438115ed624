"""Issue 6 benchmark: the web app under concurrent users, on loopback.

One run: a LAION-like catalog (``laion_like.py``, default 1M rows) plus the demo catalog
(real photos, fingerprinted) is served by ``traindex serve`` in its own process (one
uvicorn worker, as a self-hoster would start it). N users (httpx async, one cookie jar
each) loop over a mix of page loads: caption/name, domain and exact-URL results pages
(HTML, plain GET forms), the same searches through ``POST /api/search``, image uploads
(the real demo photos), row detail and the datasets page. Reported per page: requests,
p50/p99 latency and its ratio to ``/healthz`` under the same load (the framework floor);
overall throughput; and the weight of a domain results page (HTML + every subresource the
page references: bytes, requests) against the JSON answer for the same query.

    python bench/web_load.py [--rows 1000000] [--users 20] [--requests 600] [--seconds 150]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit
from laion_like import generate

Action = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def prepare(work: Path, rows: int) -> Path:
    """Generate, ingest and add the demo catalog once; later runs reuse the home."""
    from traindex.catalog.store import Catalog
    from traindex.config import Settings
    from traindex.demo import build_demo, find_shared_data
    from traindex.ingest.pipeline import ingest

    home = work / f"home-{rows}"
    settings = Settings(home=home)
    if not any(m.name == "laion-like" for _, m in Catalog(settings).releases()):
        data = work / f"data-{rows}"
        generate(data, rows)
        ingest(settings, data, dataset="laion-like", release="bench", fmt="laion")
        build_demo(settings, find_shared_data())
    return home


def start_server(home: Path) -> tuple[subprocess.Popen[str], str]:
    """``traindex serve`` on a free port; returns the process and its base URL."""
    exe = Path(sys.executable).with_name("traindex")
    proc = subprocess.Popen(
        [str(exe), "--home", str(home), "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:  # uvicorn logs the bound address once it listens
        found = re.search(r"Uvicorn running on (http://[\d.]+:\d+)", line)
        if found:
            return proc, found.group(1)
    raise RuntimeError("traindex serve exited before listening")


def _sample_queries(home: Path, n: int) -> dict[str, list[str]]:
    import pyarrow.parquet as pq

    rng = random.Random(6)
    shard = sorted((home / "datasets" / "laion-like" / "bench" / "samples").glob("*.parquet"))[0]
    table = pq.read_table(shard, columns=["url", "domain", "caption"]).slice(0, 50_000)
    urls = rng.sample(table.column("url").to_pylist(), n)
    domains = rng.sample([d for d in table.column("domain").to_pylist() if d], n)
    words = sorted({w for c in table.column("caption").to_pylist()[:5_000] for w in c.split()})
    texts = [*rng.sample(words, n - 3), '"Robert Kneschke"', "Müller", "danielbuechele"]
    return {"url": urls, "domain": domains, "text": texts}


def _actions(queries: dict[str, list[str]], photos: list[bytes]) -> dict[str, Action]:
    rng = random.Random(7)

    def pick(kind: str) -> str:
        return rng.choice(queries[kind])

    async def upload(client: httpx.AsyncClient) -> httpx.Response:
        form = (await client.get("/")).text  # the session cookie and its CSRF token
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        files = [("image", ("photo.jpg", rng.choice(photos), "image/jpeg"))]
        data = {"csrf_token": token.group(1) if token else ""}
        return await client.post("/search", files=files, data=data)

    def results(kind: str) -> Action:
        return lambda c: c.get("/search", params={"q": pick(kind), "kind": kind})

    def api(kind: str) -> Action:
        return lambda c: c.post("/api/search", json={kind: pick(kind)})

    def row(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
        params = {"shard": "photos.csv", "row": rng.randrange(8)}
        return client.get("/rows/demo-photos/demo", params=params)

    return {
        "results: caption words": results("text"),
        "results: domain": results("domain"),
        "results: exact URL": results("url"),
        "results: image upload": upload,
        "api: domain": api("domain"),
        "api: text": api("text"),
        "row detail": row,
        "datasets": lambda c: c.get("/datasets"),
        "baseline: /healthz": lambda c: c.get("/healthz"),
    }


async def _user(
    base: str, actions: dict[str, Action], quota: list[int], deadline: float, seed: int
) -> dict[str, list[float]]:
    rng = random.Random(seed)
    names = list(actions)
    timings: dict[str, list[float]] = defaultdict(list)
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        while quota[0] > 0 and time.perf_counter() < deadline:
            quota[0] -= 1
            name = rng.choice(names)
            started = time.perf_counter()
            response = await actions[name](client)
            if response.status_code >= 500:
                raise RuntimeError(f"{name}: HTTP {response.status_code}: {response.text[:200]}")
            timings[name].append(time.perf_counter() - started)
    return timings


async def load(
    base: str, actions: dict[str, Action], users: int, requests: int, seconds: float
) -> tuple[dict[str, list[float]], float]:
    quota = [requests]
    started = time.perf_counter()
    results = await asyncio.gather(
        *(_user(base, actions, quota, started + seconds, seed) for seed in range(users))
    )
    wall = time.perf_counter() - started
    merged: dict[str, list[float]] = defaultdict(list)
    for timings in results:
        for name, samples in timings.items():
            merged[name].extend(samples)
    return merged, wall


def page_weight(base: str, params: dict[str, str]) -> dict[str, Any]:
    """Bytes and requests of one results page with all it references, vs the JSON answer."""
    with httpx.Client(base_url=base, timeout=60) as client:
        page = client.get("/search", params=params)
        refs = re.findall(r'(?:href|src)="(/(?:static|thumbs)/[^"]+)"', page.text)
        sizes = [len(client.get(ref).content) for ref in dict.fromkeys(refs)]
        api = client.post("/api/search", json={params["kind"]: params["q"]})
    return {
        "page": f"{params['kind']} {params['q']}",
        "html_bytes": len(page.content),
        "thumbnails": sum(1 for ref in dict.fromkeys(refs) if ref.startswith("/thumbs/")),
        "total_bytes": len(page.content) + sum(sizes),
        "requests": 1 + len(sizes),
        "json_bytes": len(api.content),
    }


def _local_prefix(home: Path) -> str:
    """The URL folder of the demo's img2dataset rows, whose images are local (thumbnails)."""
    import pyarrow.parquet as pq

    samples = home / "datasets" / "cc3m-img2dataset" / "demo" / "samples"
    url = pq.read_table(sorted(samples.glob("*.parquet"))[0], columns=["url"]).column(0)[0]
    return str(url.as_py()).rsplit("/", 1)[0] + "/"


def _rows(merged: dict[str, list[float]]) -> list[dict[str, Any]]:
    import numpy as np

    floor = float(np.percentile(merged["baseline: /healthz"], 50)) * 1000
    rows = []
    for name in sorted(merged):
        ms = np.asarray(merged[name]) * 1000
        p50 = float(np.percentile(ms, 50))
        rows.append(
            {
                "page": name,
                "requests": len(ms),
                "p50 ms": p50,
                "p99 ms": float(np.percentile(ms, 99)),
                "p50 / healthz": p50 / floor if floor else 0.0,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/traindex-web-bench"))
    args = parser.parse_args()
    home = prepare(args.work, args.rows)
    queries = _sample_queries(home, 60)
    photos = [(home / "demo-images" / n).read_bytes() for n in ("china.jpg", "flower.jpg")]
    proc, base = start_server(home)
    try:
        weights = [
            page_weight(base, {"q": "staticflickr.com", "kind": "domain"}),
            page_weight(base, {"q": _local_prefix(home), "kind": "url_prefix"}),
        ]
        merged, wall = asyncio.run(
            load(base, _actions(queries, photos), args.users, args.requests, args.seconds)
        )
    finally:
        proc.terminate()
        proc.wait()
    done = sum(len(v) for v in merged.values())
    rows = _rows(merged)
    rows.append({"page": "ALL", "requests": done, "req/s": done / wall})
    meta = {
        "catalog_rows": args.rows, "users": args.users, "wall_s": wall,
        "throughput_rps": done / wall, "page_weight": weights,
        "note": "one uvicorn worker; client and server share 2 busy cores",
    }  # fmt: skip
    emit(
        "web_load", f"web load: {args.users} users, {args.rows:,}-row catalog (+ demo)", rows, meta
    )
    emit("web_page_weight", "results page weight (HTML + subresources)", weights, meta)


if __name__ == "__main__":
    main()
