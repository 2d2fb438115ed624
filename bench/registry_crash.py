"""Issue 5 benchmark: kill -9 the server during a bulk import, restart, resume, count.

A client imports N URL claims (default 20,000, scaled down from the issue's 100,000 for a
shared 2-core machine) through ``POST /api/registry/claims/bulk`` in batches of 500, from
4 threads. After about 40 % of the batches the server process gets SIGKILL. A new server
is started on the same database and the client resends *every* batch (the idempotent
resume a real importer does). Then the database is checked: exactly N live claims (no
loss, no duplicates), every claim id answered before the crash is the id answered after
it for the same selector, one ``add_claim`` audit entry per claim, and for SQLite
``PRAGMA integrity_check`` says ok.

    python bench/registry_crash.py [--claims 20000] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from sqlalchemy import func, select

from _common import emit
from _registry_server import pgcluster, start_server
from traindex.config import Settings
from traindex.registry.service import RegistryService
from traindex.registry.tables import audit_log

_BATCH = 500


def batches(n: int) -> list[list[dict[str, object]]]:
    claims = [
        {"selector": {"kind": "url", "value": f"https://photos{i % 97}.example/{i}.jpg"}}
        for i in range(n)
    ]
    return [claims[i : i + _BATCH] for i in range(0, n, _BATCH)]


def send(
    base: str,
    token: str,
    work: list[list[dict[str, object]]],
    answers: dict[str, str],
    kill: tuple[int, int] | None,
) -> int:
    """Send batches from 4 threads; returns how many were acknowledged. ``kill`` is
    ``(pid, n)``: SIGKILL the server once n batches are acknowledged, while the other
    threads' batches are still in flight."""
    done = [0]
    lock = threading.Lock()
    queue = list(enumerate(work))

    def worker() -> None:
        with httpx.Client(
            base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    _, batch = queue.pop(0)
                try:
                    response = http.post("/api/registry/claims/bulk", json={"claims": batch})
                except httpx.HTTPError:
                    return  # the server died under us
                if response.status_code != 201:
                    return
                with lock:
                    done[0] += 1
                    if kill is not None and done[0] == kill[1]:
                        os.kill(kill[0], signal.SIGKILL)
                    for claim in response.json()["claims"]:
                        previous = answers.setdefault(claim["selector"]["value"], claim["id"])
                        if previous != claim["id"]:
                            answers["__mismatch__"] = claim["id"]

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=20_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    if args.backend == "postgresql":
        with pgcluster.postgres_cluster() as server:
            run(args.claims, "postgresql", pgcluster.create_database(server, "crash"))
    else:
        run(args.claims, "sqlite", None)


def run(n: int, backend: str, url: str | None) -> None:
    home = Path(tempfile.mkdtemp(prefix="traindex-crash-"))
    work = batches(n)
    proc, base = start_server(home, url)
    token = httpx.post(f"{base}/api/registry/owners", json={"name": "importer"}).json()["token"]
    answers: dict[str, str] = {}
    started = time.perf_counter()
    before = send(base, token, work, answers, kill=(proc.pid, int(len(work) * 0.4)))
    proc.wait()
    acked_before = len(answers)
    proc, base = start_server(home, url)
    after = send(base, token, work, answers, kill=None)
    elapsed = time.perf_counter() - started
    proc.terminate()
    proc.wait(30)
    service = RegistryService.open(Settings(home=home), url)
    claims = service.list_claims()
    with service.store.read() as conn:
        audited = conn.execute(
            select(func.count()).select_from(audit_log).where(audit_log.c.action == "add_claim")
        ).scalar_one()
        integrity = (
            conn.exec_driver_sql("PRAGMA integrity_check").scalar()
            if backend == "sqlite"
            else "n/a"
        )
    service.close()
    per_value = Counter(c.selector.value for c in claims)
    row = {
        "backend": backend,
        "claims": n,
        "batches_before_kill": before,
        "claims_acked_before_kill": acked_before,
        "batches_after_restart": after,
        "live_claims": len(claims),
        "duplicated": sum(v - 1 for v in per_value.values()),
        "lost": n - len(per_value),
        "id_changed": int("__mismatch__" in answers),
        "audit_add_claim": audited,
        "integrity": integrity,
        "seconds": elapsed,
    }
    emit(
        f"registry_crash_{backend}",
        "Registry crash + idempotent resume",
        [row],
        {"batch": _BATCH, "threads": 4},
    )


if __name__ == "__main__":
    main()
