"""The store: watches survive a round trip through their JSON file; an alert is recorded
once per (watch, row) whatever the order and repetition of the matches recorded."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from traindex.core.matches import Match
from traindex.watch.model import WATCH_KINDS, Watch
from traindex.watch.store import WatchStore

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_watches = st.builds(
    Watch,
    id=st.text("0123456789abcdef", min_size=12, max_size=12),
    kind=st.sampled_from(WATCH_KINDS),
    value=_text,
    created_at=st.just("2026-12-05T07:00:00+00:00"),
    owner_id=st.none() | _text,
    email=st.none() | _text,
    webhook=st.none() | _text,
)


@given(st.lists(_watches, max_size=5, unique_by=lambda w: w.id))
def test_watches_round_trip_through_the_file(
    tmp_path_factory: object, watches: list[Watch]
) -> None:
    home = Path(__import__("tempfile").mkdtemp())
    store = WatchStore(home)
    for watch in watches:
        store.add(watch)
    assert WatchStore(home).watches() == watches
    if watches:
        store.remove(watches[0].id)
        assert WatchStore(home).watches() == watches[1:]


def _match(shard: str, row: int, method: str = "domain") -> Match:
    return Match("cc", "v1", shard, row, f"https://a.example/{row}", None, None, None, None,
                 method, 1.0)  # type: ignore[arg-type]  # fmt: skip


_rows = st.lists(st.tuples(st.sampled_from(["a.csv", "b.csv"]), st.integers(0, 20)), max_size=30)


@settings(max_examples=30)
@given(st.lists(_rows, min_size=1, max_size=4))
def test_each_row_is_recorded_once_per_watch(batches: list[list[tuple[str, int]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _record_once(WatchStore(Path(tmp)), batches)


def _record_once(store: WatchStore, batches: list[list[tuple[str, int]]]) -> None:
    added = 0
    for batch in batches:
        for watch in ("w1", "w2"):
            added += store.add_alerts(watch, [_match(s, r) for s, r in batch])
    distinct = {(s, r) for batch in batches for s, r in batch}
    assert added == 2 * len(distinct)
    rows = [(a.watch_id, a.match["shard"], a.match["row"]) for a in store.alerts()]
    assert len(rows) == len(set(rows)) == 2 * len(distinct)
    # a later match of the same row by another method is still the same alert
    assert store.add_alerts("w1", [_match(s, r, "text") for s, r in distinct]) == 0
