"""Search by ISCC code or TDM·AI declaration (``traindex search --iscc / --declaration``).

The release holds edited copies (resized, re-compressed) of a few of the shared Flickr
photos, and no image for the other rows: a code made from an original photo must find its
copy within the ISCC radius, the answer must equal a brute-force comparison of every
fingerprinted row, and rows without an ISCC are "not searched", never "not found".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from typer.testing import CliRunner

from traindex.catalog.store import Catalog, Release
from traindex.cli.main import app
from traindex.config import Settings
from traindex.core.match_evidence import IsccEvidence
from traindex.errors import InputError
from traindex.fingerprint.iscc import (
    DEFAULT_ISCC_RADIUS,
    image_code,
    image_code_body,
    iscc_distance,
    iscc_from_body,
)
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import FingerprintReport
from traindex.jobs.iscc import ISCC_SCHEMA, read_iscc
from traindex.search.iscc import IsccCodes, IsccSearch, code_queries, declaration_queries
from traindex.server.app import create_app

PHOTOS = "conceptual-captions/competition/skeleton/conceptual-captions/test_images"
COPIED = ("0006400c1c224e19", "000adef7197e3118", "001ad258e358b14a")
runner = CliRunner()


MakeRelease = Callable[[Path, dict[str, bytes]], tuple[Settings, FingerprintReport]]


@pytest.fixture(scope="module")
def home(
    iscc_credits: MakeRelease, shrunk_jpeg: Callable[[Path, int, int], bytes],
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory,
) -> Settings:  # fmt: skip
    """Copies of three photos (same size, 1/2, 1/3; JPEG q50) in ``credits``; the
    release ``plain`` has the same rows and no ISCC at all."""
    photos = shared_data / PHOTOS
    copies = {
        key: shrunk_jpeg(photos / f"{key}.jpg", scale, 50)
        for scale, key in enumerate(COPIED, start=1)
    }
    settings, report = iscc_credits(tmp_path_factory.mktemp("iscc-search"), copies)
    assert report.iscc_images == len(COPIED)
    ingest(settings, photos / "credits.csv", dataset="plain", release="main")
    return settings


def _original_code(shared_data: Path, key: str) -> str:
    return image_code((shared_data / PHOTOS / f"{key}.jpg").read_bytes())


def test_a_code_finds_its_edited_copy_as_brute_force_does(
    home: Settings, shared_data: Path
) -> None:
    codes = [_original_code(shared_data, k) for k in COPIED]
    result = IsccSearch(Catalog(home)).search(
        code_queries(codes), query={"kind": "iscc", "value": ""}, dataset="credits", limit=100
    )
    [release] = Catalog(home).select("credits")
    table = read_iscc(release[0]).to_pylist()
    expected = sorted(
        (qi, iscc_distance(image_code_body(code), r["iscc"]), r["shard"], r["row"])
        for qi, code in enumerate(codes)
        for r in table
        if iscc_distance(image_code_body(code), r["iscc"]) <= DEFAULT_ISCC_RADIUS
    )
    got = [
        (codes.index(m.query), m.evidence_as(IsccEvidence).distance, 0, m.row)
        for m in result.matches
    ]
    assert got == expected
    assert {m.key for m in result.matches} == set(COPIED)  # each copy, nothing unrelated
    first = result.matches[0]
    iscc = first.evidence_as(IsccEvidence)
    assert (first.method, iscc.variant, iscc.threshold) == (
        "same_image", "iscc", DEFAULT_ISCC_RADIUS,
    )  # fmt: skip
    assert iscc.iscc.startswith("ISCC:")
    assert set(result.query["outcomes"].values()) == {"found"}


def test_coverage_counts_only_rows_with_an_iscc(home: Settings) -> None:
    unrelated = iscc_from_body("0" * 16)
    result = IsccSearch(Catalog(home)).search(
        code_queries([unrelated]), query={"kind": "iscc", "value": unrelated}
    )
    assert result.coverage is not None
    by_name = {r.name: r for r in result.coverage.releases}
    credits, plain = by_name["credits/main"], by_name["plain/main"]
    assert credits.rows_searched(("iscc",)) == len(COPIED) < credits.rows
    assert credits.state(("iscc",)) == "partly searched"
    assert plain.state(("iscc",)) == "not searched"
    # nothing matched, but most rows were never compared: not "not found"
    assert result.query["outcomes"] == {unrelated: "partly searched"}
    assert result.to_json()["coverage"]["releases"][1]["state"] == "not searched"


def test_declaration_file_and_cli(home: Settings, shared_data: Path, tmp_path: Path) -> None:
    declared = [_original_code(shared_data, COPIED[1])]
    source = tmp_path / "decl.json"
    both = [{"iscc": declared[0], "train-ai": "false"}, {"iscc": declared[0], "all": "true"}]
    source.write_text(json.dumps(both))
    queries = declaration_queries(source.read_text(), str(source))
    assert [q.name for q in queries] == [f"{source}: declaration 0", f"{source}: declaration 1"]
    base = ["--home", str(home.home), "search"]
    done = runner.invoke(app, [*base, "--declaration", str(source), "--json"])
    assert done.exit_code == 0, done.output
    answer = json.loads(done.output)
    assert answer["total"] == 2  # each declaration finds the one copy
    assert {m["key"] for m in answer["matches"]} == {COPIED[1]}
    assert answer["coverage"]["signals"] == ["iscc"]
    done = runner.invoke(app, [*base, "--iscc", declared[0], "--dataset", "credits"])
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    assert f"{declared[0]}: found" in text
    assert f"searched {len(COPIED)} of 18 rows (iscc)" in text  # the coverage line
    assert "--iscc" in text  # and what would cover the rest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--iscc", "ISCC:1234"], "not a valid ISCC code"),
        (["--iscc", "ISCC:AAAWN77F727NXSUS"], "no Image-Code unit"),  # a Meta-Code
        (["--declaration", "missing.json"], "cannot read the declaration"),
    ],
)
def test_bad_codes_are_named(home: Settings, args: list[str], message: str) -> None:
    done = runner.invoke(app, ["--home", str(home.home), "search", *args])
    assert done.exit_code == 2
    assert message in " ".join(done.output.split())


def test_declaration_without_iscc_names_the_position(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="declaration 1: field 'iscc' is required"):
        declaration_queries(json.dumps([{"iscc": iscc_from_body("1" * 16)}, {}]), "d.json")


_bodies = st.integers(min_value=0, max_value=2**64 - 1).map(lambda n: f"{n:016x}")


@hsettings(max_examples=50, deadline=None)
@given(st.lists(_bodies, min_size=1, max_size=40), _bodies, st.integers(0, 64))
def test_scan_equals_pairwise_distance(rows: list[str], query: str, radius: int) -> None:
    """The vectorised scan against ``iscc_distance`` row by row (the oracle)."""
    codes = IsccCodes(
        np.zeros(len(rows), np.int32),
        np.arange(len(rows), dtype=np.int64),
        np.frombuffer(bytes.fromhex("".join(rows)), dtype=">u8").astype(np.uint64),
    )
    found, distances = codes.within(query, radius)
    expected = [(i, iscc_distance(query, r)) for i, r in enumerate(rows)]
    assert list(zip(found.tolist(), distances.tolist(), strict=True)) == [
        (i, d) for i, d in expected if d <= radius
    ]
    assert [codes.body(i) for i in range(len(rows))] == rows


def test_read_handles_a_release_with_an_empty_stage(tmp_path: Path) -> None:
    release = Release(tmp_path / "r")
    out = release.stage_table("iscc", 0)
    out.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([], schema=ISCC_SCHEMA), out)
    codes = IsccCodes.read(release)
    assert len(codes.words) == 0
    assert codes.within("0" * 16, 8)[0].size == 0


def test_the_json_api_answers_as_the_cli(home: Settings, shared_data: Path) -> None:
    code = _original_code(shared_data, COPIED[0])
    done = runner.invoke(app, ["--home", str(home.home), "search", "--iscc", code, "--json"])
    assert done.exit_code == 0, done.output
    client = TestClient(create_app(home))
    answer = client.post("/api/search", json={"iscc": code})
    assert answer.status_code == 200, answer.text
    assert answer.json()["matches"] == json.loads(done.stdout)["matches"]
    assert answer.json()["coverage"]["signals"] == ["iscc"]
    both = client.post("/api/search", json={"iscc": code, "domain": "example.com"})
    assert both.status_code == 400
    bad = client.post("/api/search", json={"iscc": "ISCC:1234"})
    assert (bad.status_code, "not a valid ISCC code" in bad.json()["detail"]) == (400, True)


def test_a_malformed_stage_table_is_named(tmp_path: Path) -> None:
    release = Release(tmp_path / "r")
    out = release.stage_table("iscc", 0)
    out.parent.mkdir(parents=True)
    rows = [{"row": 0, "iscc": "0" * 16}, {"row": 1, "iscc": "abc"}]
    pq.write_table(pa.Table.from_pylist(rows, schema=ISCC_SCHEMA), out)
    with pytest.raises(InputError, match="not 16 hex characters"):
        IsccCodes.read(release)


@pytest.mark.parametrize("code", ["EA2A", "ISCC:EA2A"])
def test_a_code_of_an_unknown_unit_type_is_bad_input(code: str) -> None:
    """Found by schemathesis: iscc_core decodes a unit's type lazily and raised KeyError."""
    with pytest.raises(InputError, match="not a valid ISCC code"):
        image_code_body(code)
