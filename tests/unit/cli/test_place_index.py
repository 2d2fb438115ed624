"""What ``place-index`` prints for each holder: every shard of a short list, and a count
with a few names for a long one (a LAION release has ~1,000 catalog shards)."""

from __future__ import annotations

from traindex.cli.commands.place_index import _shard_list


def test_short_lists_are_printed_whole_and_long_ones_counted() -> None:
    few = [f"catalog/{i:05d}" for i in range(0, 12, 2)]
    assert _shard_list(few) == ", ".join(few)
    many = [f"catalog/{i:05d}" for i in range(1, 1000, 2)]
    assert _shard_list(many) == (
        "500 shards (catalog/00001, catalog/00003, catalog/00005, ..., catalog/00999)"
    )
