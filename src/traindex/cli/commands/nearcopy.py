"""``traindex nearcopy`` / ``nearcopy-index``, and the CLIP half of ``traindex search``.

Thin adapters: ``nearcopy.check`` judges, ``catalog.indexes.tiles`` indexes regions,
``nearcopy.report`` renders, ``search.similar`` finds CLIP neighbours.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from traindex.bootstrap import Services
from traindex.cli.commands.image_search import portfolio_files
from traindex.cli.common import (
    console,
    emit_json,
    print_table,
    services,
    settings,
    user_errors,
)
from traindex.cli.distribution import DistributorOption, RayAddressOption, ray_options
from traindex.cli.extras import needs
from traindex.core.match_evidence import NearCopyEvidence
from traindex.core.matches import Match, SearchResult
from traindex.errors import InputError
from traindex.search.queries import SimilarQuery, SimilarTextQuery

if TYPE_CHECKING:
    from traindex.nearcopy.check import NearCopyReport

__all__ = ["register", "similar_result", "with_clip"]

_CLIP_HELP = "CLIP ONNX folder with clip.json (default: TRAINDEX_CLIP_MODEL_DIR)."


def with_clip(run: Services, clip_model: Path | None) -> Services:
    """``run``'s services with ``--clip-model`` (when given) as their CLIP model folder."""
    return run if clip_model is None else run.with_settings(clip_model_dir=clip_model)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def similar_result(
    run: Services,
    image: Path | None,
    text: str | None,
    *,
    clip_model: Path | None,
    dataset: str | None,
    limit: int,
) -> SearchResult:
    """``search --similar FILE`` / ``--similar-text "..."``: CLIP neighbours (``similar``)."""
    if image is not None and text is not None:
        raise InputError("give one of --similar FILE and --similar-text, not both")
    query: SimilarQuery | SimilarTextQuery = SimilarTextQuery(text or "")
    if image is not None:
        try:
            data = image.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror or exc}", path=str(image)) from None
        query = SimilarQuery([(str(image), data)])
    with needs("clip"):
        return with_clip(run, clip_model).search.search(query, dataset=dataset, limit=limit)


def _outputs(images: list[Path]) -> list[Path]:
    paths: list[Path] = []
    for item in images:
        paths.extend(portfolio_files(item) if item.is_dir() else [item])
    return paths


def _watermark(pwatermark: float | None, flagged: bool) -> str:
    shown = f"{pwatermark:.2f}" if pwatermark is not None else ""
    return f"{shown} FLAG".strip() if flagged else shown


def _closeness(match: Match) -> str:
    """PDQ distance, or the agreeing keypoints and where the copy sits (x,y wxh)."""
    evidence = match.evidence_as(NearCopyEvidence)
    if evidence.distance is not None:
        return str(evidence.distance)
    region = evidence.region
    where = " at {},{} {}x{}".format(*region["box"]) if region else ""
    points = evidence.keypoint_inliers
    return f"{points} points{where}" if points is not None else ""


def _table(report: NearCopyReport) -> None:
    table = Table(
        "output", "verdict", "training row", "url", "distance", "tiles", "pwatermark",
        title="near-copy check",
    )  # fmt: skip
    for result in report.results:
        best = result.matches[0] if result.matches else None
        table.add_row(
            Path(result.image).name,
            "unreadable" if result.error else result.verdict,
            f"{best.dataset}/{best.release} {best.shard}:{best.row}" if best else "",
            (best.url or "") if best else (result.error or ""),
            _closeness(best) if best else "",
            str(best.evidence_as(NearCopyEvidence).tiles_matched) if best else "",
            _watermark(best.extra.get("pwatermark") if best else None, result.watermark_flag),
        )
    print_table(table)
    counts = ", ".join(f"{n:,} {v}" for v, n in report.counts().items() if n)
    console.print(f"{len(report.results):,} output(s): {counts or 'none'}")
    for name, coverage in report.coverage.items():
        for why in coverage.missing.values():
            console.print(f"  [yellow]{name}[/]: {why}")
        if coverage.index_shards_not_searched:
            shards = ", ".join(coverage.index_shards_not_searched)
            console.print(f"  [red]{name}[/]: index shard(s) {shards} not reached, not compared")


def nearcopy_command(
    ctx: typer.Context,
    images: Annotated[list[Path], typer.Argument(help="Generated images (files or folders).")],
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="NAME or NAME/RELEASE (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON answer.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a side-by-side HTML report here.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the JSON here.")] = None,
    clip: Annotated[bool, typer.Option("--clip", help="Add CLIP neighbours (similar).")] = False,
    clip_model: Annotated[Path | None, typer.Option("--clip-model", help=_CLIP_HELP)] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Threads (hashing, search).")
    ] = 2,
) -> None:
    """Is each generated image a copy of a training image? copy / near_copy / similar / novel."""
    with user_errors():
        with needs("images"):
            from traindex.nearcopy.check import NearCopyChecker
        run = with_clip(services(ctx), clip_model)
        config = run.settings
        neighbours = run.search.similar if clip else None
        checker = NearCopyChecker.from_settings(
            config, catalog=run.catalog, clip=neighbours, workers=workers
        )
        paths = _outputs(images)
        with _progress() as progress:
            task = progress.add_task("outputs", total=len(paths))
            result = checker.check_paths(
                paths, dataset=dataset, on_progress=lambda n: progress.advance(task, n)
            )
        if report is not None:
            with needs("evidence"):
                from traindex.nearcopy.report import render_report
            html = render_report(result, run.catalog, unsafe=config.evidence_unsafe_threshold)
            report.write_text(html, encoding="utf-8")
    if not emit_json(result.to_json(), out, as_json):
        _table(result)


def nearcopy_index_command(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="NAME or NAME/RELEASE.")],
    images: Annotated[
        Path | None,
        typer.Option("--images", help="Image folder (not needed for img2dataset outputs)."),
    ] = None,
    distributor: DistributorOption = "local",
    ray_address: RayAddressOption = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Parallel workers.")] = 2,
) -> None:
    """Index training images' regions (3 x 3 tiles, centre crops) for the near-copy check."""
    ray = ray_options(distributor, ray_address, workers)
    with user_errors():
        with needs("images"):
            from traindex.catalog.indexes.tiles import index_tiles
        with _progress() as progress:
            task = progress.add_task("shards", total=None)
            reports = index_tiles(
                settings(ctx), dataset, images=images,
                on_shard=lambda n: progress.advance(task),
                distributor="local" if ray is None else "ray", workers=workers, ray=ray,
            )  # fmt: skip
    for r in reports:
        console.print(
            f"[bold]{r.dataset}/{r.release}[/]: {r.images:,} images, {r.errors:,} unreadable, "
            f"{r.hashes_indexed:,} region hashes indexed, "
            f"{r.shards_skipped} of {r.shards} shards already done"
        )


def register(app: typer.Typer) -> None:
    app.command("nearcopy")(nearcopy_command)
    app.command("nearcopy-index")(nearcopy_index_command)
