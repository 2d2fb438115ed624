"""The service end to end over a fake network, and the CLI adapter on local files."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from traindex.config import Settings
from traindex.errors import InputError
from traindex.signals.base import Verdict
from traindex.signals.service import check_targets, resolve_agents
from traindex.signals.targets import read_targets_file
from traindex.signals.verdict import TargetVerdict

ROBOTS = b"User-agent: *\nAllow: /\n\nUser-agent: GPTBot\nDisallow: /private/\n"


def _site(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/robots.txt":
        return httpx.Response(200, content=ROBOTS)
    if path == "/.well-known/tdmrep.json":
        return httpx.Response(200, json=[{"location": "/tdm/", "tdm-reservation": 1}])
    if path == "/noai.jpg":
        return httpx.Response(200, headers={"X-Robots-Tag": "noai"}, content=b"\xff\xd8\xff")
    if path == "/gone.jpg":
        return httpx.Response(410)
    return httpx.Response(404) if path == "/ai.txt" else httpx.Response(200, content=b"x")


async def _resolver(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


def _check(targets: list[str], agents: tuple[str, ...] = ("GPTBot",)) -> list[TargetVerdict]:
    seen: list[str] = []
    verdicts = asyncio.run(
        check_targets(
            targets,
            Settings(),
            agents,
            transport=httpx.MockTransport(_site),
            resolver=_resolver,
            progress=lambda v: seen.append(v.target),
        )
    )
    assert sorted(seen) == sorted(targets)
    return verdicts


def test_each_signal_decides_for_its_url() -> None:
    verdicts = _check(
        [
            "https://ex.com/private/a.jpg",
            "https://ex.com/noai.jpg",
            "https://ex.com/tdm/a.jpg",
            "https://ex.com/public/a.jpg",
            "https://ex.com/gone.jpg",
        ]
    )
    decided = [(v.verdict, v.decided_by.signal if v.decided_by else None) for v in verdicts]
    assert decided == [
        (Verdict.RESERVED, "robots.txt"),
        (Verdict.RESERVED, "x-robots-tag"),
        (Verdict.RESERVED, "tdmrep"),
        (Verdict.ALLOWED, "robots.txt"),
        (Verdict.UNKNOWN, "tdmrep"),
    ]
    assert "HTTP 410" in verdicts[-1].reason


def test_bad_targets_end_in_explained_unknowns(tmp_path: Path) -> None:
    verdicts = _check(["ftp://ex.com/a.jpg", str(tmp_path / "missing.jpg"), "http://10.0.0.1/x"])
    assert [v.verdict for v in verdicts] == [Verdict.UNKNOWN] * 3
    assert [v.results[0].signal for v in verdicts] == ["input"] * 3
    assert "scheme 'ftp' refused" in verdicts[0].reason
    assert "cannot read file" in verdicts[1].reason
    assert "IP-literal" in verdicts[2].reason


def test_agents_default_and_validation() -> None:
    assert "GPTBot" in resolve_agents([])
    assert resolve_agents(["GPTBot", "GPTBot", "CCBot"]) == ("GPTBot", "CCBot")
    with pytest.raises(InputError, match="product token"):
        resolve_agents(["Mozilla/5.0 (compatible; GPTBot/1.1)"])


def test_targets_from_txt_and_parquet(tmp_path: Path) -> None:
    txt = tmp_path / "urls.txt"
    txt.write_text("# comment\nhttps://a.com/x.jpg\n\n  https://b.com/y.jpg  \n")
    assert read_targets_file(txt) == ["https://a.com/x.jpg", "https://b.com/y.jpg"]
    parquet = tmp_path / "urls.parquet"
    pq.write_table(pa.table({"key": [1, 2], "URL": ["https://a.com/1", None]}), parquet)
    assert read_targets_file(parquet) == ["https://a.com/1"]
    with pytest.raises(InputError, match="no such file"):
        read_targets_file(tmp_path / "nope.txt")


def _app() -> object:
    """The real root app; if a colleague's module is mid-edit, a fresh app with ``check``."""
    try:
        from traindex.cli.main import app
    except ImportError:
        import typer

        from traindex.cli.commands import check
        from traindex.config import Settings as _Settings

        app = typer.Typer()

        @app.callback()
        def root(ctx: typer.Context) -> None:
            ctx.obj = _Settings()

        check.register(app)
    return app


@pytest.mark.shared
def test_cli_json_for_local_files(shared_data: Path, tmp_path: Path) -> None:
    images = shared_data / "optout-signals/images"
    urls = tmp_path / "list.txt"
    urls.write_text(f"{images / 'generated_xmp_allowed.jpg'}\nftp://nope/x\n")
    args = ["check", str(images / "c2pa-python_C_with_CAWG_data.jpg"), "--urls", str(urls)]
    result = CliRunner().invoke(_app(), [*args, "--agent", "GPTBot", "--json"])  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["verdict"] for r in data["results"]] == ["reserved", "allowed", "unknown"]
    assert set(data["results"][0]) == {"target", "verdict", "signals"}
    assert {s["signal"] for s in data["results"][0]["signals"]} == {"iptc", "c2pa"}


@pytest.mark.shared
def test_cli_table_and_errors(shared_data: Path) -> None:
    image = shared_data / "optout-signals/images/generated_xmp_attribute.png"
    table = CliRunner().invoke(_app(), ["check", str(image)])  # type: ignore[arg-type]
    assert table.exit_code == 0
    assert "reserved" in table.stdout
    bad = CliRunner().invoke(_app(), ["check", str(image), "--agent", "Bad Agent"])  # type: ignore[arg-type]
    assert bad.exit_code == 2
    empty = CliRunner().invoke(_app(), ["check"])  # type: ignore[arg-type]
    assert empty.exit_code == 2


def test_directory_and_oversized_local_files(tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 5000)
    verdicts = asyncio.run(
        check_targets([str(tmp_path), str(big)], Settings(signals_max_body_bytes=1024), ())
    )
    assert "cannot read file" in verdicts[0].reason
    iptc = {r.signal: r for r in verdicts[1].results}["iptc"]
    assert (iptc.verdict, iptc.reason) == (
        Verdict.UNKNOWN,
        "no XMP packet in the part read (body cut)",
    )
    assert verdicts[1].verdict is Verdict.UNKNOWN
