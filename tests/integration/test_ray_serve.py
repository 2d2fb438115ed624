"""``traindex serve --ray-address``: the running app's image search (JSON API and web page)
asks the holders of a placed PDQ index on a real two-node Ray cluster, answers as the
in-process search does, and names the index shard whose holder stopped answering."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from PIL import Image
from typer.testing import CliRunner

from traindex.catalog.store import Catalog
from traindex.cli.main import app as cli
from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.jobs.ray import RayOptions
from traindex.search.fanout import fanout_views
from traindex.search.images import ImageSearch
from traindex.search.placement import deploy_index, placement_path
from traindex.server.running import serve_in_thread

sys.path.insert(0, str(Path(__file__).resolve().parent))
from raycluster import CC3M, PHOTOS, TwoNodes, fresh_driver, kill_holder, two_nodes

pytestmark = [pytest.mark.shared, pytest.mark.slow]
__all__ = ["two_nodes"]  # the session fixture, imported so pytest finds it


def _edited(path: Path) -> bytes:
    """A dataset-style copy: smaller, re-compressed (a different file, same image)."""
    image = Image.open(path).convert("RGB")
    buffer = io.BytesIO()
    image.resize((320, round(320 * image.height / image.width))).save(buffer, "JPEG", quality=50)
    return buffer.getvalue()


def _served_app(home: Path, address: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app ``traindex serve --ray-address`` builds (uvicorn's run is caught)."""
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda asgi, **kw: served.append(asgi))
    result = CliRunner().invoke(cli, ["--home", str(home), "serve", "--ray-address", address])
    assert result.exit_code == 0, result.output
    return served[0]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _ask(url: str, photos: list[tuple[str, bytes]]) -> tuple[dict[str, Any], str]:
    """The JSON API's answer and the web results page for the same upload."""
    files = [("image", (name, data, "image/jpeg")) for name, data in photos]
    with httpx.Client(base_url=url, timeout=120) as client:
        answer = client.post("/api/search", files=files, data={"limit": "100"})
        assert answer.status_code == 200, answer.text
        token = _csrf(client.get("/search").text)
        page = client.post("/search", files=files, data={"csrf_token": token, "limit": "100"})
        assert page.status_code == 200, page.text
    return answer.json(), page.text


def test_served_image_search_uses_the_cluster_and_names_a_lost_shard(
    shared_data: Path, two_nodes: TwoNodes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_driver()
    settings = Settings(home=tmp_path)
    ingest(settings, shared_data / CC3M, dataset="cc3m", release="main")
    fingerprint(settings, "cc3m", workers=1)
    [(release, _)] = Catalog(settings).select("cc3m")
    options = RayOptions(address=two_nodes.address)
    nodes = [two_nodes.cluster.head_node.node_id, two_nodes.worker.node_id]
    holders = deploy_index(
        "pdq", release.dir / "pdq", placement_path(release), options, label="served", nodes=nodes
    )
    assert [h.shards for h in holders] == [["shard-000001"], ["shard-000002"]]
    photos = [(p.name, _edited(p)) for p in sorted((shared_data / PHOTOS).glob("*.jpg"))]
    local = ImageSearch(Catalog(settings)).search(photos, limit=100).to_json()
    fanned = ImageSearch(Catalog(settings), fanout_views(Catalog(settings), options, timeout=60))
    assert fanned.search(photos, limit=100).to_json() == local
    assert len(local["matches"]) >= 9
    assert local["coverage"]["state"] == "searched"

    with serve_in_thread(_served_app(tmp_path, two_nodes.address, monkeypatch)) as url:
        answer, page = _ask(url, photos)
        assert answer == local  # the request's answer is the in-process one
        assert f"{len(local['matches'])} matching row(s) for {len(photos)} image(s)" in page
        assert "partly searched" not in page

        # the holder of the second index shard stops answering: only a fanned-out search
        # can notice, and every surface says so with the shard's name
        kill_holder(holders[1].actor)
        partial, page = _ask(url, photos)
    lost = "cc3m/main:shard-000002"
    assert partial["index_shards_not_searched"] == [lost]
    assert partial["coverage"]["state"] == "partly searched"
    [covered] = partial["coverage"]["releases"]
    assert covered["index_shards_not_searched"] == ["shard-000002"]
    assert partial["not_found"] == []
    assert 0 < len(partial["matches"]) < len(local["matches"])
    assert f"{len(partial['matches'])} matching row(s) for {len(photos)} image(s)" in page
    assert "partly searched" in page
    assert "shard-000002" in page
    assert "traindex place-index --dataset cc3m/main" in page
