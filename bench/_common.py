"""Shared bench helpers: percentiles, child-process runs with peak RSS, table + JSON output."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

__all__ = ["OUT", "emit", "percentiles", "run_child"]

OUT = Path(__file__).resolve().parent / "out"


def percentiles(samples_s: Sequence[float]) -> dict[str, float]:
    arr = np.asarray(samples_s) * 1000.0
    return {
        "p50_ms": float(np.percentile(arr, 50)),
        "p95_ms": float(np.percentile(arr, 95)),
        "n": len(arr),
    }


def run_child(args: Sequence[str]) -> tuple[float, str]:
    """Run ``python args...``; return (wall seconds, stdout). Fails loudly on a non-zero exit."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, *args], stdout=subprocess.PIPE, text=True, check=True)
    return time.perf_counter() - started, proc.stdout


def emit(name: str, title: str, rows: list[dict[str, Any]], meta: dict[str, Any]) -> Path:
    """Print ``rows`` as a table and write them with ``meta`` to ``bench/out/<name>.json``."""
    table = Table(title=title)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(
            *(
                f"{v:,.2f}" if isinstance(v, float) else str(v)
                for v in (row.get(c, "") for c in columns)
            )
        )
    Console().print(table)
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2, default=str))
    return path
