"""Row pages label catalog columns for people, and never show raw JSON."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from traindex.ingest.normalise import SAMPLE_SCHEMA
from traindex.server.rowfields import row_fields


def test_every_catalog_column_has_a_label() -> None:
    record = {f.name: "1" for f in SAMPLE_SCHEMA} | {"extra": '{"aesthetic": 6.5}'}
    labels = [f.label for f in row_fields(record)]
    assert not {f.name for f in SAMPLE_SCHEMA} & set(labels)
    assert "aesthetic (a column of the dataset)" in labels
    assert "Size (as the dataset states it)" in labels


def test_derived_copies_are_shown_only_when_they_differ() -> None:
    same = {"url": "http://a.example/x.jpg", "url_raw": "http://a.example/x.jpg"}
    assert [f.label for f in row_fields(same)] == ["Image URL"]
    differs = {"url": "http://a.example/x.jpg", "url_raw": "HTTP://A.example/x.jpg"}
    assert [f.label for f in row_fields(differs)] == ["Image URL", "URL as the dataset writes it"]


@given(st.text(max_size=40))
def test_any_extra_value_is_shown_without_a_crash(raw: str) -> None:
    fields = row_fields({"extra": raw})
    assert all(f.label != "extra" for f in fields)
