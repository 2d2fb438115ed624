"""Near-copy indexing and bulk ``check --urls`` on a real two-node Ray cluster equal the
local runs (``raycluster.two_nodes``: two raylets on 127.0.0.1; tasks asking for the
``worker`` resource run on the second node)."""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from traindex.catalog.indexes.tiles import index_tiles
from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.jobs.checks import check_on_ray
from traindex.jobs.ray import RayOptions
from traindex.signals.service import resolve_agents, run_checks

sys.path.insert(0, str(Path(__file__).resolve().parent))
from raycluster import CC3M, WORKER, TwoNodes, catalog_state, fresh_driver, run_cli, two_nodes
from robotsite import ReservingSite

pytestmark = [pytest.mark.shared, pytest.mark.slow]
__all__ = ["two_nodes"]  # the session fixture, imported so pytest finds it

LOOPBACK_SITES = {"TRAINDEX_SIGNALS_ALLOW_LOOPBACK": "1",
                  "TRAINDEX_SIGNALS_REFUSE_PRIVATE_ADDRESSES": "0"}  # fmt: skip


def _index_files(release: Path) -> dict[str, bytes]:
    folder = release / "nearcopy" / "tiles"
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.*"))}


def test_nearcopy_index_pinned_to_the_second_node_equals_local(
    shared_data: Path, two_nodes: TwoNodes, tmp_path: Path
) -> None:
    fresh_driver()
    ingest(Settings(home=tmp_path / "local"), shared_data / CC3M, dataset="cc3m", release="main")
    shutil.copytree(tmp_path / "local", tmp_path / "ray")  # the same catalog, twice
    states = {}
    for mode in ("local", "ray"):
        settings = Settings(home=tmp_path / mode)
        pinned = RayOptions(address=two_nodes.address, resources=WORKER)
        [report] = index_tiles(settings, "cc3m", distributor=mode, workers=1, ray=pinned)
        assert (report.shards, report.images, report.errors) == (2, 18, 0)
        assert report.hashes_indexed > 18 * 9
        release = settings.datasets_dir / "cc3m" / "main"
        states[mode] = (catalog_state(release), _index_files(release))
    assert states["ray"] == states["local"]
    tables, index = states["ray"]
    assert {"nearcopy/00000.parquet", "nearcopy/00001.parquet"} <= set(tables)
    assert "manifest.json" in index
    assert any(name.endswith("hashes.npy") for name in index)


def _sites(http_server: Any) -> list[ThreadingHTTPServer]:
    sites = [http_server(ReservingSite) for _ in range(2)]
    for site in sites:
        site.seen = []  # type: ignore[attr-defined]
    return sites


def _without_times(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**r, "signals": [{k: v for k, v in s.items() if k != "fetched_at"} for s in r["signals"]]}
        for r in results
    ]


def test_bulk_check_on_the_cluster_equals_local_and_fetches_robots_once_per_site(
    two_nodes: TwoNodes, tmp_path: Path, http_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_driver()
    sites = _sites(http_server)
    origins = [f"http://127.0.0.1:{s.server_address[1]}" for s in sites]
    urls = [f"{o}/{d}/{i}.jpg" for i in range(4) for o in origins for d in ("private", "public")]
    urls.append("http://[::1/broken")  # a malformed line stays a row of the answer
    listing = tmp_path / "urls.txt"
    listing.write_text("\n".join(urls) + "\n")
    for name, value in LOOPBACK_SITES.items():
        monkeypatch.setenv(name, value)
    answers = {}
    for mode in ("local", "ray"):
        for site in sites:
            site.seen.clear()  # type: ignore[attr-defined]
        args = ["check", "--urls", str(listing), "--agent", "GPTBot", "--json"]
        out = run_cli([*args, "--distributor", mode], tmp_path / mode, two_nodes.address)
        answers[mode] = _without_times(json.loads(out)["results"])
        for site in sites:  # one task per host: the site files are fetched once, as locally
            assert Counter(site.seen)["/robots.txt"] == 1  # type: ignore[attr-defined]
    assert answers["ray"] == answers["local"]
    verdicts = [r["verdict"] for r in answers["ray"]]
    assert [r["target"] for r in answers["ray"]] == urls
    assert verdicts.count("reserved") == 8
    assert verdicts[-1] == "unknown"

    # through the library, tasks of at most 4 targets on the second node: a site's 8 URLs
    # still go to one task (robots.txt fetched once), and the verdicts are the same
    settings, agents = Settings(home=tmp_path / "api"), resolve_agents(["GPTBot"])
    pinned = RayOptions(address=two_nodes.address, resources=WORKER)
    for site in sites:
        site.seen.clear()  # type: ignore[attr-defined]
    on_ray = check_on_ray(urls, settings, agents, pinned, chunk=4)
    assert [Counter(s.seen)["/robots.txt"] for s in sites] == [1, 1]  # type: ignore[attr-defined]
    local = run_checks(urls, settings, agents)
    assert _without_times([v.to_json() for v in on_ray]) == answers["local"]
    assert _without_times([v.to_json() for v in local]) == answers["local"]
