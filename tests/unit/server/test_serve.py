"""``traindex serve --demo`` builds the demo catalog once and serves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from traindex.cli.main import app


def test_serve_demo_builds_then_serves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda asgi, **kw: served.append({"app": asgi, **kw}))
    monkeypatch.setenv("TRAINDEX_SHARED_DATA", str(tmp_path / "absent"))
    monkeypatch.chdir(tmp_path)  # the default demo home is ./.demo-home
    args = ["serve", "--demo", "--host", "127.0.0.1", "--port", "0"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "Building the demo catalog" in first.output
    assert (tmp_path / ".demo-home" / "datasets" / "demo-photos").is_dir()
    assert (served[0]["host"], served[0]["port"]) == ("127.0.0.1", 0)
    with TestClient(served[0]["app"]) as client:
        assert "demo-photos/demo" in client.get("/healthz").json()["datasets"]
        assert "<mark>danielbuechele</mark>" in client.get("/search?q=danielbuechele").text
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0
    assert "Building" not in again.output


def test_serve_uses_the_given_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda asgi, **kw: served.append(asgi))
    result = CliRunner().invoke(app, ["--home", str(tmp_path / "h"), "serve"])
    assert result.exit_code == 0, result.output
    with TestClient(served[0]) as client:
        assert client.get("/datasets").status_code == 200
        assert "No datasets yet" in client.get("/datasets").text
