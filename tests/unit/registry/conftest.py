"""Registry fixtures: the same tests run on SQLite and on a real PostgreSQL server.

``registry_url`` is parametrised: ``sqlite`` (a file in the test's home) and
``postgresql`` (a fresh database on a session-wide throwaway cluster, see ``pgcluster``).
PostgreSQL tests skip only when the server binaries are missing and
``TRAINDEX_REQUIRE_SHARED`` is not ``1``; in CI they must run.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from traindex.config import Settings
from traindex.registry.service import RegistryService

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pgcluster


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    if not pgcluster.available():
        message = f"PostgreSQL binaries not found in {pgcluster.PG_BIN}"
        if os.environ.get("TRAINDEX_REQUIRE_SHARED") == "1":
            pytest.fail(message + " (TRAINDEX_REQUIRE_SHARED=1)")
        pytest.skip(message)
    with pgcluster.postgres_cluster() as url:
        yield url


def database_url(request: pytest.FixtureRequest, settings: Settings, kind: str) -> str:
    """A fresh registry database of ``kind`` (``sqlite`` or ``postgresql``) for one test."""
    if kind == "sqlite":
        return f"sqlite:///{settings.home / 'registry' / 'registry.sqlite'}"
    server: str = request.getfixturevalue("postgres_server")
    return pgcluster.create_database(server, f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request: pytest.FixtureRequest, settings: Settings) -> str:
    return database_url(request, settings, request.param)


@pytest.fixture
def service(settings: Settings, registry_url: str) -> Iterator[RegistryService]:
    registry = RegistryService.open(settings, registry_url)
    yield registry
    registry.close()
