"""Fixtures for the signal tests: shared vector files as parameters, a fake-network Fetcher.

``@pytest.mark.vectors("name.json")`` on a test with a ``case`` argument parametrises it with
every case of ``shared/data/optout-signals/name.json`` (one test id per case). The file is
read at collection time; the tests also take ``shared_data``, so a missing folder skips
locally and fails in CI like every other shared-data test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from traindex.config import Settings
from traindex.signals.fetch import Fetcher

_SHARED = os.environ.get("TRAINDEX_SHARED_DATA")  # as tests/conftest.py: worktrees set it
VECTORS = (
    Path(_SHARED or Path(__file__).resolve().parents[4] / "shared" / "data") / "optout-signals"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "vectors(name): parametrise `case` with a vector file")


def _load(name: str) -> list[dict[str, Any]]:
    path = VECTORS / name
    return json.loads(path.read_text("utf-8")) if path.is_file() else []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("vectors")
    if marker is None or "case" not in metafunc.fixturenames:
        return
    cases = _load(marker.args[0])
    ids = [
        f"{i}-{c.get('desc') or c.get('test') or c.get('file') or ''}" for i, c in enumerate(cases)
    ]
    metafunc.parametrize("case", cases, ids=ids)


@pytest.fixture
def vector_file() -> Callable[[str], list[dict[str, Any]]]:
    """All cases of a vector file (empty if absent), for whole-file assertions."""
    return _load


async def public_resolver(host: str, port: int) -> list[str]:
    """Every name resolves to one public address; nothing is sent there (MockTransport)."""
    return ["93.184.216.34"]


@pytest.fixture
def make_fetcher(tmp_path: Path) -> Callable[..., Fetcher]:
    """Build a ``Fetcher`` over a ``MockTransport`` handler, with optional setting overrides."""

    def build(handler: Callable[[httpx.Request], httpx.Response], **overrides: Any) -> Fetcher:
        settings = Settings(home=tmp_path / "home", **overrides)
        return Fetcher(settings, transport=httpx.MockTransport(handler), resolver=public_resolver)

    return build
