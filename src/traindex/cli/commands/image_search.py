"""The image half of ``traindex search`` (``--image FILE`` / ``--images DIR``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from traindex.catalog.store import Catalog
from traindex.cli.common import console, emit_json, print_table
from traindex.cli.extras import needs
from traindex.config import Settings
from traindex.errors import InputError
from traindex.fingerprint.locate import IMAGE_SUFFIXES

if TYPE_CHECKING:
    from traindex.search.images import ImageSearchResult

__all__ = ["portfolio_files", "run_image_search"]


def portfolio_files(folder: Path) -> list[Path]:
    """Every file with an image suffix below ``folder`` (contents are checked per file)."""
    if not folder.is_dir():
        raise InputError("not a folder", path=str(folder))
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def _summary(result: ImageSearchResult) -> None:
    data = result.to_json()
    found = {m.extra["query"] for m in result.matches}
    per_dataset = Counter(f"{m.dataset}/{m.release}" for m in result.matches)
    console.print(
        f"{len(result.queries):,} image(s) searched: {len(found):,} found, "
        f"{len(data['not_found']):,} not found, {len(data['errors']):,} unreadable"
    )
    for name, count in per_dataset.most_common():
        console.print(f"  {name}: {count:,} matching row(s)")
    for error in data["errors"]:
        console.print(f"  [red]{error['query']}[/]: {error['error']}", highlight=False)


def _measure(extra: dict[str, Any]) -> str:
    """PDQ distance, or the agreeing points of a keypoint match."""
    if "distance" in extra:
        return str(extra["distance"])
    return f"{extra['inliers']} points" if "inliers" in extra else ""


def _table(result: ImageSearchResult) -> None:
    if not result.matches:
        return  # the summary below says "0 found"
    table = Table(
        "query", "dataset/release", "file:row", "url", "method", "distance", "confidence",
        title="image matches",
    )  # fmt: skip
    for m in result.matches:
        table.add_row(
            Path(m.extra["query"]).name,
            f"{m.dataset}/{m.release}",
            f"{m.shard}:{m.row}",
            m.url or "",
            m.method,
            _measure(m.extra),
            m.extra.get("confidence") or "",
        )
    print_table(table)


def run_image_search(
    settings: Settings,
    paths: list[Path],
    *,
    dataset: str | None,
    limit: int,
    as_json: bool,
    out: Path | None,
) -> None:
    """Search ``paths``; print a table (or JSON) and optionally write the JSON to ``out``."""
    with needs("images"):  # the rest of `search` runs without Pillow, PDQ and faiss
        from traindex.search.images import ImageSearch

    search = ImageSearch(Catalog(settings))
    with Progress(
        TextColumn("images"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as progress:
        task = progress.add_task("images", total=len(paths))
        result = search.search_paths(
            paths, dataset=dataset, limit=limit, on_progress=lambda n: progress.advance(task, n)
        )
    if not emit_json(result.to_json(), out, as_json):
        _table(result)
        _summary(result)
    errors = result.to_json()["errors"]
    if errors and len(errors) == len(result.queries):
        raise InputError(f"no image could be read ({errors[0]['query']}: {errors[0]['error']})")
