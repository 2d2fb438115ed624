"""The merged key index (compaction) answers exactly what per-shard lookups answer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traindex.catalog.keys import KeyIndex, KeySpiller
from traindex.catalog.merged_keys import compact_keys
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.ingest import pipeline
from traindex.search.queries import Query
from traindex.search.service import SearchService

FIELDS = ("url", "domain")


def _write_shards(keys_dir: Path, work: Path, shards: list[list[str | None]]) -> None:
    """Key arrays for ``shards`` (per shard, per row: a value or None), the ingest way."""
    for sid, values in enumerate(shards):
        if (keys_dir / "url" / f"{sid:05d}.h.npy").is_file():
            continue
        spiller = KeySpiller(work / f"{sid}", fields=FIELDS)
        column = pa.array(values, pa.string())
        spiller.add(pa.record_batch([column, column], names=list(FIELDS)), 0)
        spiller.finish(keys_dir, sid)


def _brute(shards: list[list[str | None]], *wanted: str) -> dict[int, list[int]]:
    found = {
        sid: [row for row, v in enumerate(values) if v in wanted]
        for sid, values in enumerate(shards)
    }
    return {sid: rows for sid, rows in found.items() if rows}


def _lookup(keys_dir: Path, values: list[str], shard_ids: list[int]) -> dict[int, list[int]]:
    found = KeyIndex(keys_dir).rows("url", values, shard_ids)
    return {sid: rows.tolist() for sid, rows in found.found.items()}


values = st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "é", "x" * 40])))


@settings(max_examples=40)
@given(shards=st.lists(values, min_size=1, max_size=6), compacted=st.integers(0, 6))
def test_partly_compacted_lookups_equal_brute_force(
    tmp_path_factory: pytest.TempPathFactory, shards: list[list[str | None]], compacted: int
) -> None:
    root = tmp_path_factory.mktemp("keys")
    keys_dir = root / "keys"
    _write_shards(keys_dir, root / "work", shards)
    ids = list(range(len(shards)))
    compact_keys(keys_dir, ids[:compacted])  # shards after these are probed one by one
    for value in ("a", "b", "c", "d", "é", "x" * 40, "missing"):
        assert _lookup(keys_dir, [value], ids) == _brute(shards, value)
        assert _lookup(keys_dir, [value], ids[1:]) == {
            s: r for s, r in _brute(shards, value).items() if s != 0
        }
    # several values in one look-up (a URL in both schemes): the union, rows sorted
    for pair in (["a", "b"], ["c", "missing"], ["é", "é"]):
        assert _lookup(keys_dir, pair, ids) == _brute(shards, *pair)


def test_recompaction_covers_new_shards_and_removes_old_arrays(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    shards = [[f"v{int(v)}" for v in rng.integers(0, 50, 200)] for _ in range(4)]
    keys_dir = tmp_path / "keys"
    _write_shards(keys_dir, tmp_path / "work", shards[:2])
    compact_keys(keys_dir, [0, 1])
    _write_shards(keys_dir, tmp_path / "work", shards)
    compact_keys(keys_dir, [0, 1, 2, 3])
    record = json.loads((keys_dir / "url" / "merged.json").read_text())
    assert record == {"seq": 2, "shards": [0, 1, 2, 3]}
    assert sorted(p.name for p in (keys_dir / "url").glob("merged-*")) == [
        "merged-2.h.npy",
        "merged-2.r.npy",
        "merged-2.s.npy",
    ]
    for value in ("v0", "v7", "v49"):
        assert _lookup(keys_dir, [value], [0, 1, 2, 3]) == _brute(shards, value)


def test_a_set_in_the_older_packed_layout_is_not_read_and_the_next_compaction_replaces_it(
    tmp_path: Path,
) -> None:
    """Sets written before shard and row were separate arrays (``merged-N.loc.npy``,
    shard << 40 | row): read as such they would answer wrongly, so lookups probe the
    shards until a compaction writes the current layout and removes the old files."""
    shards = [["a", "b", "a"], ["b", "a"]]
    keys_dir = tmp_path / "keys"
    _write_shards(keys_dir, tmp_path / "work", shards)
    field = keys_dir / "url"
    np.save(field / "merged-1.h.npy", np.zeros(5, np.uint64))
    np.save(field / "merged-1.loc.npy", np.zeros(5, np.int64))
    (field / "merged.json").write_text(json.dumps({"seq": 1, "shards": [0, 1]}))
    assert _lookup(keys_dir, ["a"], [0, 1]) == _brute(shards, "a")
    compact_keys(keys_dir, [0, 1])
    assert sorted(p.name for p in field.glob("merged-*")) == [
        "merged-2.h.npy",
        "merged-2.r.npy",
        "merged-2.s.npy",
    ]
    assert _lookup(keys_dir, ["a"], [0, 1]) == _brute(shards, "a")


def test_a_key_held_by_many_rows_of_many_shards_answers_per_wanted_shard(tmp_path: Path) -> None:
    """A popular domain: most rows of every shard; asked for some shards only."""
    rng = np.random.default_rng(2)
    shards = [["pop" if v < 8 else f"v{v}" for v in rng.integers(0, 10, 500)] for _ in range(9)]
    keys_dir = tmp_path / "keys"
    _write_shards(keys_dir, tmp_path / "work", shards)
    compact_keys(keys_dir, list(range(9)))
    for wanted in ([0, 1, 2, 3, 4, 5, 6, 7, 8], [8, 3], [4], []):
        brute = {s: r for s, r in _brute(shards, "pop").items() if s in wanted}
        assert _lookup(keys_dir, ["pop"], wanted) == brute


@pytest.mark.shared
def test_ingest_compacts_many_shards_and_searches_answer_the_same(
    tmp_path: Path, laion_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = []
    for threshold in (1_000, 3):  # per-shard arrays only, then compacted
        monkeypatch.setattr(pipeline, "COMPACT_AFTER_SHARDS", threshold)
        home = Settings(home=tmp_path / str(threshold), batch_rows=300, row_group_rows=128)
        pipeline.ingest(home, laion_folder, dataset="l", release="r", skip_bad_rows=True)
        service = SearchService(Catalog(home))
        queries = [Query("domain", "dreamstime.com"), Query("domain", "pinimg.com")]
        queries += [Query("url", m.url) for m in service.search(queries[0], limit=5).matches]
        answers.append([service.search(q, limit=50).to_json() for q in queries])
    merged = tmp_path / "3" / "datasets" / "l" / "r" / "keys" / "url" / "merged.json"
    assert json.loads(merged.read_text())["shards"] == [0, 1, 2]
    assert not (
        tmp_path / "1000" / "datasets" / "l" / "r" / "keys" / "url" / "merged.json"
    ).exists()
    assert answers[0] == answers[1]
    assert all(a["total"] > 0 for a in answers[1])
