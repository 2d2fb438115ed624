"""Issue 5 benchmark: concurrent clients mixing claim writes and bulk checks, then a count.

For each backend (SQLite WAL, PostgreSQL 15 in a throwaway cluster), a real server process
(uvicorn) on loopback and N client threads for S seconds (defaults 20 clients x 20 s, scaled
down from the issue's 50 x 60 s for a shared 2-core machine). Each client registers an
owner, then loops: 70 % claim writes (new URL claims; every 10th write repeats an earlier
selector, which must return the same claim), 30 % bulk checks of 1,000 URLs. At the end
the database is read directly: every claim id a client was given must exist (no lost
claims) and there must be exactly one live claim per distinct selector (no duplicates).

    python bench/registry_load.py [--clients 20] [--seconds 20] [--backend both]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx

from _common import emit, percentiles
from _registry_server import pgcluster, start_server
from traindex.config import Settings
from traindex.registry.service import RegistryService


@dataclass
class ClientLog:
    write_s: list[float] = field(default_factory=list)
    check_s: list[float] = field(default_factory=list)
    errors: int = 0
    ids_by_selector: dict[str, set[str]] = field(default_factory=dict)


def register(base: str, number: int) -> dict[str, str]:
    """Set-up, outside the timed window: an owner per client, its token verified once (argon2
    is deliberately slow; the server caches verified tokens)."""
    response = httpx.post(f"{base}/api/registry/owners", json={"name": f"client-{number}"})
    headers = {"Authorization": f"Bearer {response.json()['token']}"}
    httpx.get(f"{base}/api/registry/owners/me", headers=headers).raise_for_status()
    return headers


def client(
    base: str, number: int, headers: dict[str, str], deadline: float, log: ClientLog
) -> None:
    rng = random.Random(number)
    with httpx.Client(base_url=base, timeout=60) as http:
        written: list[str] = []
        while time.monotonic() < deadline:
            started = time.perf_counter()
            if rng.random() < 0.7:
                repeat = written and len(written) % 10 == 9
                url = (
                    rng.choice(written)
                    if repeat
                    else f"https://c{number}.example/{len(written)}.jpg"
                )
                body = {"selector": {"kind": "url", "value": url}}
                response = http.post("/api/registry/claims", json=body, headers=headers)
                if response.status_code == 201:
                    log.ids_by_selector.setdefault(url, set()).add(response.json()["id"])
                    written.append(url)
                    log.write_s.append(time.perf_counter() - started)
                else:
                    log.errors += 1
            else:
                items = [
                    f"https://c{rng.randrange(50)}.example/{rng.randrange(500)}.jpg"
                    for _ in range(1_000)
                ]
                response = http.post("/api/registry/check", json={"items": items})
                if response.status_code == 200:
                    log.check_s.append(time.perf_counter() - started)
                else:
                    log.errors += 1


def run_backend(
    name: str, registry_url: str | None, clients: int, seconds: float
) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(prefix=f"traindex-load-{name}-"))
    proc, base = start_server(home, registry_url)
    logs = [ClientLog() for _ in range(clients)]
    headers = [register(base, i) for i in range(clients)]
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(target=client, args=(base, i, headers[i], deadline, logs[i]))
        for i in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    proc.terminate()
    proc.wait(30)
    service = RegistryService.open(Settings(home=home), registry_url)
    stored = service.list_claims()
    service.close()
    given = {i for log in logs for ids in log.ids_by_selector.values() for i in ids}
    selectors = {s for log in logs for s in log.ids_by_selector}
    split = sum(len(ids) > 1 for log in logs for ids in log.ids_by_selector.values())
    per_selector = Counter(c.selector.value for c in stored)
    writes = [t for log in logs for t in log.write_s]
    checks = [t for log in logs for t in log.check_s]
    w, c = percentiles(writes), percentiles(checks)
    return {
        "backend": name,
        "clients": clients,
        "seconds": round(elapsed, 1),
        "writes": len(writes),
        "checks": len(checks),
        "ops_per_s": (len(writes) + len(checks)) / elapsed,
        "write_p50_ms": w["p50_ms"],
        "write_p99_ms": _p99(writes),
        "check_p50_ms": c["p50_ms"],
        "check_p99_ms": _p99(checks),
        "errors": sum(log.errors for log in logs),
        "lost": len(given - {claim.id for claim in stored}),
        "duplicated": sum(n - 1 for n in per_selector.values()) + split,
        "selectors": len(selectors),
        "stored": len(stored),
    }


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[int(0.99 * (len(ordered) - 1))] * 1000 if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    rows = []
    if args.backend in ("sqlite", "both"):
        rows.append(run_backend("sqlite", None, args.clients, args.seconds))
    if args.backend in ("postgresql", "both"):
        with pgcluster.postgres_cluster() as server:
            url = pgcluster.create_database(server, "load")
            rows.append(run_backend("postgresql", url, args.clients, args.seconds))
    emit(
        "registry_load",
        "Registry load test (loopback)",
        rows,
        {"load_average": os.getloadavg(), "mix": "70% claim writes, 30% checks of 1,000 URLs"},
    )


if __name__ == "__main__":
    main()
