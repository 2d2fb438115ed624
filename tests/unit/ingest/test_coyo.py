"""COYO-700M on the 7 real README preview rows, as parquet (``coyo``) and as CSV (``table``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from traindex.ingest.coyo import CoyoReader
from traindex.ingest.table import TableReader

pytestmark = pytest.mark.shared
ReadRows = Callable[..., list[dict[str, Any]]]


def _check(rows: list[dict[str, Any]]) -> None:
    assert len(rows) == 7
    first = rows[0]
    assert first["key"] == "4896263451343"
    assert first["url"].startswith("https://cdn.shopify.com/s/files/1/0190/8574/products/")
    assert first["caption"].startswith("Fishing Fleet (Monterey)")
    assert (first["width"], first["height"]) == (600, 447)
    assert first["phash"] == "bac58374982e0fc7"
    assert first["punsafe"] == pytest.approx(2.54512e-05)
    assert first["pwatermark"] == pytest.approx(0.0406009)
    assert first["similarity"] == pytest.approx(0.319336)
    extra = json.loads(first["extra"])
    assert float(extra["aesthetic_score_laion_v2"]) == pytest.approx(7.04812)
    assert rows[1]["caption"] == "The Gate by Pete2453"


def test_preview_parquet(generated: Path, read_rows: ReadRows) -> None:
    path = generated / "coyo-700m-readme-preview/coyo700m_readme_preview.parquet"
    assert CoyoReader.sniff(path) == pytest.approx(0.9)
    _check(read_rows(CoyoReader(), path))


def test_preview_csv_same_rows(generated: Path, read_rows: ReadRows) -> None:
    folder = generated / "coyo-700m-readme-preview"
    csv_rows = read_rows(TableReader(), folder / "coyo700m_readme_preview.csv")
    _check(csv_rows)
    parquet_rows = read_rows(CoyoReader(), folder / "coyo700m_readme_preview.parquet")
    fields = ("url", "caption", "key", "width", "height", "phash", "source_row")
    assert [[r[f] for f in fields] for r in csv_rows] == [
        [r[f] for f in fields] for r in parquet_rows
    ]
