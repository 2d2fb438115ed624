"""Reading the list of targets for a bulk check (``traindex check --urls FILE``).

``.txt``: one URL or path per line; blank lines and ``#`` comments are skipped. ``.parquet``:
the ``url`` column (any case), else the first string column - dataset releases (LAION,
DataComp) ship their URLs that way.
"""

from __future__ import annotations

from pathlib import Path

from traindex.errors import InputError

__all__ = ["read_targets_file"]


def _parquet_urls(path: Path) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read Parquet: {exc}", path=str(path)) from exc
    names = [f.name for f in schema if f.name.lower() == "url"]
    names = names or [f.name for f in schema if pa.types.is_string(f.type)]
    names = names or [f.name for f in schema if pa.types.is_large_string(f.type)]
    if not names:
        raise InputError("no 'url' or string column", path=str(path))
    column = pq.read_table(path, columns=[names[0]]).column(0)
    return [str(value) for value in column.to_pylist() if value]


def read_targets_file(path: Path) -> list[str]:
    """Targets listed in ``path`` (``.txt`` or ``.parquet``), in file order."""
    if not path.is_file():
        raise InputError("no such file", path=str(path))
    if path.suffix.lower() == ".parquet":
        return _parquet_urls(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read as UTF-8 text: {exc}", path=str(path)) from exc
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]
