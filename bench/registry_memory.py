"""Issue 16 benchmark: server memory under concurrent anonymous registrations.

Each registration runs argon2 with 64 MiB. For each backend (SQLite, PostgreSQL 15 in a
throwaway cluster) a real server process (uvicorn on loopback) gets N concurrent
``POST /api/registry/owners`` (default 50, as in the issue), each followed by one claim
with the new token. The server's resident memory is sampled every 10 ms (psutil) and its
peak reported, with the registration latency (p50/p99). Baseline in the same run: the
same burst with the hashing budget lifted (``registry_hash_memory_mb`` = 100,000, i.e. no
bound, the behaviour before issue 16). Afterwards the database is read directly:
registrations acknowledged = owners stored, claims acknowledged = claims stored.

    python bench/registry_memory.py [--clients 50] [--backend both]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import numpy as np
import psutil
from sqlalchemy import func, select

from _common import emit
from _registry_server import pgcluster, start_server
from traindex.config import Settings
from traindex.registry.service import RegistryService
from traindex.registry.tables import owners

UNBOUNDED_MB = "100000"


def _register(base: str, number: int, out: dict[int, tuple[float, int, int]]) -> None:
    started = time.perf_counter()
    with httpx.Client(base_url=base, timeout=300) as http:
        answer = http.post("/api/registry/owners", json={"name": f"owner {number}"})
        seconds = time.perf_counter() - started
        claimed = 0
        if answer.status_code == 201:
            headers = {"Authorization": f"Bearer {answer.json()['token']}"}
            selector = {"kind": "url", "value": f"https://photos.example/{number}.jpg"}
            claim = http.post("/api/registry/claims", json={"selector": selector}, headers=headers)
            claimed = int(claim.status_code == 201)
    out[number] = (seconds, answer.status_code, claimed)


def _burst(base: str, pid: int, clients: int) -> tuple[dict[int, tuple[float, int, int]], int]:
    """Run the burst; returns per-client results and the peak RSS of the server, bytes."""
    server = psutil.Process(pid)
    results: dict[int, tuple[float, int, int]] = {}
    threads = [threading.Thread(target=_register, args=(base, i, results)) for i in range(clients)]
    for thread in threads:
        thread.start()
    peak = server.memory_info().rss
    while any(t.is_alive() for t in threads):
        peak = max(peak, server.memory_info().rss)
        time.sleep(0.01)
    return results, peak


def run(backend: str, registry_url: str | None, clients: int, budget_mb: str) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(prefix=f"regmem-{backend}-"))
    env = {"TRAINDEX_REGISTRY_HASH_MEMORY_MB": budget_mb}
    proc, base = start_server(home, registry_url, env)
    try:
        idle = psutil.Process(proc.pid).memory_info().rss
        results, peak = _burst(base, proc.pid, clients)
    finally:
        proc.terminate()
        proc.wait()
    service = RegistryService.open(Settings(home=home), registry_url)
    with service.store.read() as conn:
        owners_stored = int(conn.execute(select(func.count()).select_from(owners)).scalar_one())
    stored_claims = len(service.list_claims(None))
    service.close()
    seconds = np.array([r[0] for r in results.values()]) * 1000
    return {
        "backend": backend,
        "hash budget MB": "unbounded" if budget_mb == UNBOUNDED_MB else budget_mb,
        "clients": clients,
        "idle RSS MB": round(idle / 2**20),
        "peak RSS MB": round(peak / 2**20),
        "registrations 201": sum(1 for r in results.values() if r[1] == 201),
        "owners stored": owners_stored,
        "claims acknowledged": sum(r[2] for r in results.values()),
        "claims stored": stored_claims,
        "p50 ms": round(float(np.percentile(seconds, 50))),
        "p99 ms": round(float(np.percentile(seconds, 99))),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--budget-mb", default=str(Settings().registry_hash_memory_mb))
    args = parser.parse_args()
    rows = []
    budgets = [UNBOUNDED_MB, args.budget_mb]
    if args.backend in ("sqlite", "both"):
        rows += [run("sqlite", None, args.clients, b) for b in budgets]
    if args.backend in ("postgresql", "both"):
        with pgcluster.postgres_cluster() as server:
            for i, budget in enumerate(budgets):
                url = pgcluster.create_database(server, f"regmem{i}")
                rows.append(run("postgresql", url, args.clients, budget))
    emit(
        "registry_memory",
        f"Server memory, {args.clients} concurrent registrations (argon2 64 MiB each)",
        rows,
        {"clients": args.clients, "load_average": list(psutil.getloadavg())},
    )


if __name__ == "__main__":
    main()
