"""Property tests for the headerless TSV parser (``_lines`` via ``cc3m-tsv``): on any bytes
it raises nothing but ``InputError``/``BadRowError``, is deterministic, and yields exactly
one row per good line."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traindex.errors import BadRowError, InputError
from traindex.ingest.base import ReaderOptions
from traindex.ingest.tsv import Cc3mReader

PIECES = [b"a", b" ", b"\t", b"\r", b"\xff", b"\xc3\xa9", b"caption", b"url", b"http://x.example/"]
lines_strategy = st.lists(
    st.lists(st.sampled_from(PIECES), max_size=6).map(b"".join), min_size=0, max_size=12
)


def _good(index: int, line: bytes) -> bool:
    try:
        text = line.removesuffix(b"\r").decode("utf-8")
    except UnicodeDecodeError:
        return False
    cells = text.split("\t")
    header = index == 0 and tuple(c.strip().lower() for c in cells) == ("caption", "url")
    return bool(text.strip()) and len(cells) == 2 and not header


def _read(path: Path, options: ReaderOptions) -> list[dict[str, Any]]:
    reader = Cc3mReader(options)
    return [
        row for s in reader.sources(path) for b in reader.batches(s, 4) for row in b.to_pylist()
    ]


@settings(max_examples=200, deadline=None)
@given(lines=lines_strategy, final_newline=st.booleans())
def test_tsv_parser_properties(lines: list[bytes], final_newline: bool) -> None:
    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cc3m.tsv"
        path.write_bytes(data)
        rejected: list[BadRowError] = []
        skipping = ReaderOptions(on_bad_row=rejected.append)
        if not data:
            with pytest.raises(InputError, match="empty file"):
                _read(path, skipping)
            return
        first = _read(path, skipping)
        assert _read(path, ReaderOptions(on_bad_row=lambda e: None)) == first
        expected = [i for i, line in enumerate(data.split(b"\n")) if _good(i, line)]
        assert [row["source_row"] for row in first] == expected
        assert all(e.path == str(path) and e.row is not None for e in rejected)
        try:
            strict = _read(path, ReaderOptions())
        except BadRowError:
            assert rejected
        else:
            assert not rejected
            assert strict == first
