"""Start/stop a real traindex API server (uvicorn, own process) for the registry benchmarks.

The server gets its home and registry URL through ``TRAINDEX_*`` variables and a high rate
limit (the benchmarks measure the registry, not the limiter). PostgreSQL clusters come from
the test suite's ``pgcluster`` helper (one implementation of "throwaway cluster").
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["REPO", "free_port", "pgcluster", "start_server"]

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "unit" / "registry"))

import pgcluster  # noqa: E402

_RUNNER = (
    "import sys, uvicorn; from traindex.server.app import create_app; "
    "from traindex.config import Settings; "
    "uvicorn.run(create_app(Settings()), host='127.0.0.1', port=int(sys.argv[1]), "
    "log_level='warning', workers=1)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    home: Path, registry_url: str | None, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server and wait until it answers; returns (process, base URL).

    ``extra_env`` adds ``TRAINDEX_*`` settings (e.g. the argon2 memory budget)."""
    port = free_port()
    env = {
        **os.environ,
        "TRAINDEX_HOME": str(home),
        "TRAINDEX_REGISTRY_RATE_PER_SECOND": "1000000",
        "TRAINDEX_REGISTRY_RATE_BURST": "1000000",
        "TRAINDEX_REGISTRY_REGISTRATION_BURST": "1000000",
        **(extra_env or {}),
    }
    if registry_url:
        env["TRAINDEX_REGISTRY_URL"] = registry_url
    proc = subprocess.Popen([sys.executable, "-c", _RUNNER, str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.post(f"{base}/api/registry/check", json={"items": []}).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("registry server did not start within 60 s")
