"""The downloader's small parsers: ``--rows`` files and the image magic check."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traindex.download.politeness import image_kind
from traindex.download.select import read_rows_file
from traindex.errors import InputError

# source paths as datasets name them (letters, digits, ``._-/:``; a colon may appear)
_SOURCES = st.text(
    alphabet=string.ascii_letters + string.digits + "._-/: ", min_size=1, max_size=20
).filter(lambda s: s.strip() == s)


@given(st.dictionaries(_SOURCES, st.sets(st.integers(0, 10**9), min_size=1), max_size=5))
def test_rows_file_round_trips(
    tmp_path_factory: pytest.TempPathFactory, wanted: dict[str, set[int]]
) -> None:
    path = tmp_path_factory.mktemp("rows") / "rows.txt"
    lines = ["# picked rows", ""] + [f"{src}:{row}" for src, rows in wanted.items() for row in rows]
    path.write_text("\n".join(lines), encoding="utf-8")
    assert read_rows_file(path) == wanted


def test_rows_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "rows.txt"
    path.write_text("a.parquet:1\na.parquet:x\n")
    with pytest.raises(InputError) as caught:
        read_rows_file(path)
    assert caught.value.row == 2
    assert "SOURCE_FILE:ROW" in str(caught.value)


@given(st.binary(max_size=64))
def test_html_is_never_an_image(body: bytes) -> None:
    assert image_kind("text/html", b"\xff\xd8\xff" + body) is None


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        ("image/jpeg", b"\xff\xd8\xff\xe0rest", "jpeg"),
        ("", b"\x89PNG\r\n\x1a\nrest", "png"),
        ("application/octet-stream", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        ("image/jpeg", b"<html>oops</html>", None),
        ("image/gif", b"GIF89a...", "gif"),
    ],
)
def test_magic_decides(kind: str, body: bytes, expected: str | None) -> None:
    assert image_kind(kind, body) == expected
