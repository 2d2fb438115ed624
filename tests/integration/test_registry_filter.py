"""``traindex filter`` round trips on real dataset files, with the expected rows computed
independently (DuckDB on the raw URLs), plus snapshots, hashes, owners and resume."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from traindex.config import Settings
from traindex.core.signing import SignatureError
from traindex.errors import TraindexError
from traindex.filtering.deciders import Columns, Decider, IndexDecider, Removal, open_decider
from traindex.filtering.run import FilterOptions, filter_inputs
from traindex.registry.models import Selector
from traindex.registry.service import RegistryService

pytestmark = pytest.mark.shared

CLAIMED_DOMAINS = ("dreamstime.com", "pinimg.com", "fineartamerica.com")
# A host is claimed if it is the domain or below it; DuckDB reads the host off the raw URL.
HOST = "lower(regexp_extract(url, '^[A-Za-z]+://([^/:?#]+)', 1))"
REMOVED_SQL = " OR ".join(f"({HOST} = '{d}' OR {HOST} LIKE '%.{d}')" for d in CLAIMED_DOMAINS)


def _test_files(shared_data: Path) -> Path:
    return shared_data / "img2dataset" / "tests" / "test_files"


@pytest.fixture
def registry(settings: Settings) -> RegistryService:
    service = RegistryService.open(settings)
    owner, _ = service.register_owner("stock agency")
    for domain in CLAIMED_DOMAINS:
        service.add_claim(owner, Selector("domain", domain), verified=True)
    # unverified and non-do_not_train claims must not remove anything by default
    service.add_claim(owner, Selector("domain", "shopify.com"))
    service.add_claim(owner, Selector("domain", "wp.com"), "allow", verified=True)
    return service


def _run(settings: Settings, src: Path, out: Path, **kwargs: object) -> list[object]:
    decider, registry_id = open_decider(settings, None)
    options = FilterOptions(registry_id, **kwargs)  # type: ignore[arg-type]
    return list(filter_inputs(src, out, decider, options))


def test_parquet_round_trip_equals_input_minus_claimed_rows(
    registry: RegistryService, settings: Settings, shared_data: Path, tmp_path: Path
) -> None:
    src = _test_files(shared_data) / "test_10000.parquet"
    out, log = tmp_path / "out.parquet", tmp_path / "removed.parquet"
    _run(settings, src, out, log=log)
    table = pq.read_table(src)
    # DuckDB names are case-insensitive: ``url`` in REMOVED_SQL is the file's URL column
    expected = duckdb.sql(
        f"SELECT * FROM read_parquet('{src}') WHERE NOT ({REMOVED_SQL})"
    ).to_arrow_table()
    result = pq.read_table(out)
    assert result.schema.equals(table.schema, check_metadata=True)
    assert result.equals(expected.cast(table.schema))
    removed = table.num_rows - expected.num_rows
    assert 0 < removed < table.num_rows
    logged = pq.read_table(log)
    assert logged.num_rows == removed
    assert set(logged.column("decision").to_pylist()) == {"do_not_train"}
    assert all(logged.column("verified").to_pylist())
    rows = logged.column("row").to_pylist()
    assert sorted(table.column("URL").take(rows).to_pylist()) == sorted(
        logged.column("url").to_pylist()
    )


def test_url_list_round_trip_is_byte_identical_for_kept_lines(
    registry: RegistryService, settings: Settings, shared_data: Path, tmp_path: Path
) -> None:
    src = _test_files(shared_data) / "test_10000.txt"
    out = tmp_path / "out.txt"
    _run(settings, src, out)
    lines = src.read_bytes().splitlines(keepends=True)
    con = duckdb.connect()
    con.register("urls", pa.table({"url": [line.decode().strip() for line in lines]}))
    keep = con.sql(f"SELECT NOT ({REMOVED_SQL}) AS keep FROM urls").to_arrow_table().column(0)
    assert out.read_bytes() == b"".join(
        line for line, kept in zip(lines, keep.to_pylist(), strict=True) if kept
    )


def test_csv_with_quoted_newlines_and_gzip_tsv(
    registry: RegistryService, settings: Settings, tmp_path: Path
) -> None:
    del registry
    csv_text = (
        "url,caption\n"
        'https://www.dreamstime.com/a.jpg,"two\nlines"\n'
        "\n"
        'https://example.org/b.jpg,"keep, me"\n'
        "https://x.pinimg.com/c.jpg,plain\n"
        'https://example.org/d.jpg,"multi\nline\nkept"\n'
    )
    src = tmp_path / "in" / "table.csv"
    src.parent.mkdir()
    src.write_text(csv_text)
    import gzip

    with gzip.open(src.parent / "cc12m.tsv.gz", "wt") as handle:
        handle.write("https://i.pinimg.com/1.jpg\tgone\nhttps://example.org/2.jpg\tkept\n")
    summaries = _run(settings, src.parent, tmp_path / "out", fmt=None)
    assert (tmp_path / "out" / "table.csv").read_text() == (
        'url,caption\n\nhttps://example.org/b.jpg,"keep, me"\n'
        'https://example.org/d.jpg,"multi\nline\nkept"\n'
    )
    with gzip.open(tmp_path / "out" / "cc12m.tsv.gz", "rt") as handle:
        assert handle.read() == "https://example.org/2.jpg\tkept\n"
    assert [s.result.kept for s in summaries] == [1, 2]  # type: ignore[attr-defined]


def test_snapshot_filter_matches_home_registry_and_tamper_is_refused(
    registry: RegistryService, settings: Settings, shared_data: Path, tmp_path: Path
) -> None:
    src = _test_files(shared_data) / "test_1000.parquet"
    info = registry.snapshot(tmp_path / "snap")
    assert info.claim_count == 5
    pubkey = info.manifest["public_key"]
    home_out, snap_out = tmp_path / "home.parquet", tmp_path / "snap.parquet"
    _run(settings, src, home_out)
    decider, registry_id = open_decider(settings, str(tmp_path / "snap"), pubkey=pubkey)
    filter_inputs(src, snap_out, decider, FilterOptions(registry_id))
    assert pq.read_table(home_out).equals(pq.read_table(snap_out))
    with (tmp_path / "snap" / "claims.jsonl").open("a") as handle:
        handle.write("{}\n")
    with pytest.raises(SignatureError, match=r"claims\.jsonl"):
        open_decider(settings, str(tmp_path / "snap"), pubkey=pubkey)


def test_hash_and_flickr_owner_claims_remove_rows(
    settings: Settings, shared_data: Path, tmp_path: Path
) -> None:
    folder = shared_data / "_generated" / "img2dataset-1.47.0-output-cc3m-test-images" / "parquet"
    src = folder / "00000.parquet"
    table = pq.read_table(src)
    first = table.slice(0, 1).to_pylist()[0]
    service = RegistryService.open(settings)
    owner, _ = service.register_owner("photographer")
    # img2dataset's sha256 is of the original download: the file the photographer holds
    digest = first["sha256"]
    service.add_claim(owner, Selector("image", digest, sha256=digest), verified=True)
    service.add_claim(owner, Selector("flickr_owner", "ChrisCruises"), verified=True)
    out = tmp_path / "out.parquet"
    _run(settings, src, out)
    result = pq.read_table(out)
    assert result.schema.equals(table.schema)
    gone = [
        row["key"]
        for row in table.to_pylist()
        if row["sha256"] == digest or "/photos/chriscruises/" in (row["flickr_page"] or "")
    ]
    assert gone == [first["key"]]
    assert result.column("key").to_pylist() == [
        k for k in table.column("key").to_pylist() if k not in gone
    ]


def _split(shared_data: Path, tmp_path: Path, parts: int, rows: int) -> tuple[pa.Table, Path]:
    """test_10000.parquet cut into ``parts`` files of ``rows`` rows in ``tmp_path/in``."""
    table = pq.read_table(_test_files(shared_data) / "test_10000.parquet")
    inputs = tmp_path / "in"
    inputs.mkdir()
    for part in range(parts):
        pq.write_table(table.slice(part * rows, rows), inputs / f"part-{part}.parquet")
    return table, inputs


def test_folder_run_resumes_after_a_crash(
    registry: RegistryService, settings: Settings, shared_data: Path, tmp_path: Path
) -> None:
    table, inputs = _split(shared_data, tmp_path, parts=3, rows=3000)
    index = registry.decision_index()
    crashing = _Crashing(IndexDecider(index), crash_at_call=2)
    options = FilterOptions("test-registry", log=tmp_path / "removed.parquet")
    with pytest.raises(TraindexError, match="simulated"):
        filter_inputs(inputs, tmp_path / "out", crashing, options)
    assert (tmp_path / "out" / "part-0.parquet").is_file()
    assert not (tmp_path / "out" / "part-1.parquet").exists()
    again = filter_inputs(inputs, tmp_path / "out", IndexDecider(index), options)
    assert [s.resumed for s in again] == [True, False, False]
    full = tmp_path / "full.parquet"
    pq.write_table(table.slice(0, 9000), tmp_path / "whole.parquet")
    filter_inputs(tmp_path / "whole.parquet", full, IndexDecider(index), FilterOptions("x"))
    parts = pa.concat_tables(pq.read_table(p) for p in sorted((tmp_path / "out").glob("*.parquet")))
    assert parts.equals(pq.read_table(full))
    assert pq.read_table(tmp_path / "removed.parquet").num_rows == 9000 - parts.num_rows


def test_a_log_part_from_before_the_match_column_still_merges(
    registry: RegistryService, settings: Settings, shared_data: Path, tmp_path: Path
) -> None:
    """A run resumed across the upgrade that added ``match``: the finished file's log
    part lacks it, and the merged log carries it as nulls."""
    _, inputs = _split(shared_data, tmp_path, parts=2, rows=3000)
    options = FilterOptions("test-registry", log=tmp_path / "removed.parquet")
    filter_inputs(inputs, tmp_path / "out", IndexDecider(registry.decision_index()), options)
    [part, *_] = sorted((tmp_path / "out" / ".traindex-filter").glob("*.removed.parquet"))
    old = pq.read_table(part).drop_columns(["match"])
    assert old.num_rows > 0
    pq.write_table(old, part)
    (tmp_path / "out" / "part-1.parquet").unlink()  # the second file is redone
    again = filter_inputs(
        inputs, tmp_path / "out", IndexDecider(registry.decision_index()), options
    )
    assert [s.resumed for s in again] == [True, False]
    merged = pq.read_table(tmp_path / "removed.parquet")
    assert merged.column("match").null_count == merged.num_rows
    assert merged.num_rows == sum(s.result.rows - s.result.kept for s in again)


class _Crashing(Decider):
    """Raises on its ``crash_at_call``-th batch (1-based): a crash in the middle of a run."""

    def __init__(self, inner: Decider, crash_at_call: int) -> None:
        self.inner = inner
        self.crash_at_call = crash_at_call
        self.calls = 0

    def decide(self, columns: Columns) -> list[Removal | None]:
        self.calls += 1
        if self.calls == self.crash_at_call:
            raise TraindexError("simulated crash")
        return self.inner.decide(columns)


def test_parallel_workers_give_the_same_outputs(
    registry: RegistryService, shared_data: Path, tmp_path: Path
) -> None:
    _, inputs = _split(shared_data, tmp_path, parts=4, rows=2500)
    decider = IndexDecider(registry.decision_index())
    serial = filter_inputs(inputs, tmp_path / "one", decider, FilterOptions("r"))
    parallel = filter_inputs(
        inputs,
        tmp_path / "two",
        decider,
        FilterOptions("r", log=tmp_path / "log.parquet"),
        workers=2,
    )
    assert [s.result for s in serial] == [s.result for s in parallel]
    for summary in serial:
        assert pq.read_table(summary.output).equals(pq.read_table(tmp_path / "two" / summary.input))
    removed = sum(s.result.rows - s.result.kept for s in parallel)
    assert pq.read_table(tmp_path / "log.parquet").num_rows == removed > 0
