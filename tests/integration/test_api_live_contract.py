"""Schemathesis with all checks against a live server: uvicorn on 127.0.0.1, a real socket.

Every operation of the published OpenAPI document is tested (no path filter), so
operations added later are covered without touching this test. Checks: all of them
(status codes, content types, response schemas, schema-valid requests accepted,
schema-violating requests rejected, ``Allow`` headers, ...); per-operation exceptions,
each with its reason, are in ``schemathesis.toml`` next to this file. The server's rate
limits are lifted: the limits have their own tests, here they would only answer 429.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CONFIG = Path(__file__).with_name("schemathesis.toml")
SERVER = (
    "import sys, uvicorn; from traindex.server.app import create_app; "
    "from traindex.config import Settings; "
    "uvicorn.run(create_app(Settings()), host='127.0.0.1', port=int(sys.argv[1]), "
    "log_level='warning')"
)
UNLIMITED = {
    "TRAINDEX_REGISTRY_RATE_PER_SECOND": "1000000",
    "TRAINDEX_REGISTRY_RATE_BURST": "1000000",
    "TRAINDEX_REGISTRY_REGISTRATION_BURST": "1000000",
    "TRAINDEX_API_EXPENSIVE_RATE_PER_MINUTE": "1000000",
    "TRAINDEX_API_EXPENSIVE_BURST": "1000000",
}
START_WAIT_S = 120.0  # an upper bound for a loaded machine, not a speed claim


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "TRAINDEX_HOME": str(tmp_path / "home"), **UNLIMITED}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_WAIT_S
    try:
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait()


@pytest.mark.slow
def test_schemathesis_all_checks_find_nothing(live_server: str, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-c",
        "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'st'; schemathesis()",
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        "--checks",
        "all",
        "--max-examples",
        "10",
        "--seed",
        "16",
        "--workers",
        "1",
        f"{live_server}/openapi.json",
    ]
    # run in tmp_path: schemathesis keeps a cache folder in its working directory
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-12_000:] + done.stderr[-3_000:]
    selected = re.search(r"Operations:\s+(\d+) selected / (\d+) total", done.stdout)
    assert selected is not None, done.stdout[-3_000:]
    assert selected.group(1) == selected.group(2)  # every operation, none filtered out
    assert int(selected.group(2)) >= 20
