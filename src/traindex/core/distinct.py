"""Apply a Python function once per distinct value of an Arrow column.

Hosts, domains, licences and owners repeat heavily within a batch; computing them per
distinct value keeps per-row Python work off the ingest path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["map_distinct"]


def map_distinct(
    values: pa.Array | pa.ChunkedArray, fn: Callable[[Any], object], typ: pa.DataType
) -> pa.Array:
    """``fn(v)`` for each value (null stays null), calling ``fn`` once per distinct value."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = cast(pa.DictionaryArray, pc.dictionary_encode(values))
    mapped = [None if v is None else fn(v) for v in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(mapped, typ), encoded.indices)
