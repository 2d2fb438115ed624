"""ISCC-bound claims over the registry's HTTP API (real uvicorn on 127.0.0.1).

A creator files a TDM·AI declaration through ``POST /api/registry/declarations`` and gets
it back from ``GET /api/registry/declarations``; a builder on another machine (another
home) checks an image file and an ISCC code with ``registry check --registry URL`` and
filters with ``filter --registry URL --iscc-release``: the same rows go as when the same
declaration is filtered against a local registry.
"""

from __future__ import annotations

import csv
import json
import pickle
from collections.abc import Callable
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from traindex.cli.main import app
from traindex.config import Settings
from traindex.filtering.deciders import Columns, open_decider
from traindex.fingerprint.iscc import image_code, iscc_from_body
from traindex.jobs.fingerprint import FingerprintReport

pytestmark = pytest.mark.shared
PHOTOS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"
DECLARED, PLAIN, OTHER = "0006400c1c224e19", "000adef7197e3118", "001ad258e358b14a"
runner = CliRunner()


@pytest.fixture
def builder(
    tmp_path: Path,
    shared_data: Path,
    shrunk_jpeg: Callable[[Path, int, int], bytes],
    iscc_credits: Callable[[Path, dict[str, bytes]], tuple[Settings, FingerprintReport]],
) -> Settings:
    """The builder's home: the credits release with ISCC codes of three images (one of
    them a resized copy of the declared photo)."""
    photos = shared_data / PHOTOS
    images = {key: (photos / f"{key}.jpg").read_bytes() for key in (PLAIN, OTHER)}
    images[DECLARED] = shrunk_jpeg(photos / f"{DECLARED}.jpg", 2, 60)
    return iscc_credits(tmp_path / "builder", images)[0]


def _kept(path: Path) -> set[str]:
    return {row["ImageID"] for row in csv.DictReader(path.open())}


def test_declarations_over_the_api_and_remote_check_and_filter(
    server: str, builder: Settings, shared_data: Path, tmp_path: Path
) -> None:
    photos = shared_data / PHOTOS
    declaration = {"iscc": image_code((photos / f"{DECLARED}.jpg").read_bytes()),
                   "train-ai": "false", "signature": {"proof": "z3x"}}  # fmt: skip
    token = httpx.post(f"{server}/api/registry/owners", json={"name": "studio"}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    filed = httpx.post(f"{server}/api/registry/declarations", json=declaration, headers=auth)
    assert filed.status_code == 201, filed.text
    [claim] = filed.json()["claims"]
    assert (claim["selector"]["kind"], claim["status"]) == ("image", "unverified")
    exported = httpx.get(f"{server}/api/registry/declarations", headers=auth).json()
    assert exported == {"declarations": [declaration]}  # as given, signature included
    bad = httpx.post(f"{server}/api/registry/declarations", json={"all": "false"}, headers=auth)
    assert bad.status_code == 422
    assert "'iscc' is required" in bad.json()["error"]["message"]

    base = ["--home", str(builder.home)]
    done = runner.invoke(app, [*base, "registry", "check", str(photos / f"{DECLARED}.jpg"),
                               declaration["iscc"], str(photos / f"{OTHER}.jpg"), "--registry",
                               server, "--include-unverified", "--json"])  # fmt: skip
    assert done.exit_code == 0, done.output
    decisions = json.loads(done.stdout)["decisions"]
    assert [(d["decision"], d["claim_ids"]) for d in decisions] == [
        ("do_not_train", [claim["id"]]), ("do_not_train", [claim["id"]]), ("unknown", []),
    ]  # fmt: skip

    source = photos / "credits.csv"
    remote_out, local_out = tmp_path / "remote.csv", tmp_path / "local.csv"
    done = runner.invoke(app, [*base, "filter", str(source), "--out", str(remote_out),
                               "--registry", server, "--iscc-release", "credits",
                               "--include-unverified"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert _kept(source) - _kept(remote_out) == {DECLARED}
    # the same declaration in the builder's own registry removes the same rows
    file = tmp_path / "decl.json"
    file.write_text(json.dumps(declaration))
    done = runner.invoke(app, [*base, "registry", "import-declaration", str(file), "--owner", "x"])
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, [*base, "filter", str(source), "--out", str(local_out),
                               "--iscc-release", "credits", "--include-unverified"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert _kept(local_out) == _kept(remote_out)
    # unverified claims do not count unless asked: nothing goes
    strict = tmp_path / "strict.csv"
    done = runner.invoke(app, [*base, "filter", str(source), "--out", str(strict),
                               "--registry", server, "--iscc-release", "credits"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert _kept(strict) == _kept(source)


def test_the_remote_decider_travels_to_workers_with_its_iscc_rows(
    server: str, builder: Settings, shared_data: Path
) -> None:
    """Ray filter tasks get the decider pickled: the ISCC-matched URLs must come along."""
    code = image_code((shared_data / PHOTOS / f"{DECLARED}.jpg").read_bytes())
    token = httpx.post(f"{server}/api/registry/owners", json={"name": "s"}).json()["token"]
    httpx.post(f"{server}/api/registry/declarations", json={"iscc": code, "all": "false"},
               headers={"Authorization": f"Bearer {token}"}).raise_for_status()  # fmt: skip
    decider, registry_id = open_decider(
        builder, server, count_unverified=True, iscc_release="credits"
    )
    assert ":iscc=credits:3:1:" in registry_id  # 3 rows with a code, 1 URL matched
    copy = pickle.loads(pickle.dumps(decider))
    rows = {r["ImageID"]: r for r in csv.DictReader((shared_data / PHOTOS / "credits.csv").open())}
    urls = pa.array([rows[k]["OriginalURL"] for k in (DECLARED, PLAIN)], pa.string())
    removals = copy.decide(Columns(urls))
    assert removals[1] is None
    assert removals[0] is not None
    assert (removals[0].reason, removals[0].decision) == ("claim", "do_not_train")


def test_claims_and_checks_carry_the_iscc_over_http(server: str) -> None:
    """A claim filed with a bare ISCC body, and checked by ``iscc:`` and by the code."""
    token = httpx.post(f"{server}/api/registry/owners", json={"name": "a"}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    body = "c3a1f00d5e6b7a29"
    selector = {"kind": "image", "value": "", "iscc": body}
    filed = httpx.post(f"{server}/api/registry/claims", json={"selector": selector}, headers=auth)
    assert filed.status_code == 201, filed.text
    assert (filed.json()["selector"]["iscc"], filed.json()["selector"]["value"]) == (
        body, f"iscc:{body}",
    )  # fmt: skip
    near = f"{int(body, 16) ^ 0b111:016x}"  # 3 bits away: within the radius
    items = [f"iscc:{near}", iscc_from_body(body), "iscc:" + "0" * 16, "ISCC:1234"]
    answer = httpx.post(f"{server}/api/registry/check",
                        json={"items": items, "count_unverified": True}).json()  # fmt: skip
    decisions = answer["decisions"]
    assert [d["decision"] for d in decisions] == ["do_not_train", "do_not_train", "unknown",
                                                  "unknown"]  # fmt: skip
    assert decisions[0]["claim_ids"] == [filed.json()["id"]]
    assert "ISCC:1234" in decisions[3]["error"]
