"""``traindex fingerprint``: a thin adapter over ``traindex.jobs.fingerprint``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from traindex.cli.common import console, exit_with, services, settings, user_errors
from traindex.cli.distribution import DistributorOption, RayAddressOption, ray_options
from traindex.cli.watchhook import watch_new_rows
from traindex.download.select import RowSelection, read_rows_file
from traindex.download.stage import DownloadOptions
from traindex.fingerprint.faces import DEFAULT_MIN_FACE, DEFAULT_UPSAMPLE, FaceOptions
from traindex.fingerprint.keypoints import KeypointOptions
from traindex.jobs.fingerprint import Distributor, fingerprint
from traindex.jobs.stages import ShardResult
from traindex.search.queries import Query, QueryKind

__all__ = ["register"]


def fingerprint_command(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="NAME or NAME/RELEASE.")],
    images: Annotated[
        Path | None,
        typer.Option(
            "--images",
            help="Folder with the images, matched to rows by key or file name "
            "(not needed for img2dataset outputs, which carry their images).",
        ),
    ] = None,
    distributor: DistributorOption = "local",
    ray_address: RayAddressOption = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Parallel workers.")] = 2,
    faces: Annotated[
        bool, typer.Option("--faces", help="Also find, embed and index faces (face search).")
    ] = False,
    face_detector: Annotated[
        str, typer.Option("--face-detector", help="hog (fast) or cnn (finds more, ~10x slower).")
    ] = "hog",
    upsample: Annotated[
        int, typer.Option("--upsample", min=0, max=3, help="Upsample for small faces (4x work).")
    ] = DEFAULT_UPSAMPLE,
    min_face: Annotated[
        int, typer.Option("--min-face", min=1, help="Skip faces smaller than this (pixels).")
    ] = DEFAULT_MIN_FACE,
    keypoints: Annotated[
        bool,
        typer.Option(
            "--keypoints",
            help="Also store ORB keypoints (~6 kB per image): finds heavy crops, large "
            "overlays and screenshots of an image, which PDQ alone misses.",
        ),
    ] = False,
    iscc: Annotated[
        bool,
        typer.Option(
            "--iscc",
            help="Also compute ISO 24138 ISCC Image-Codes, so content-bound opt-out "
            "declarations (registry import-declaration) match this release in filter.",
        ),
    ] = False,
    download: Annotated[
        bool,
        typer.Option(
            "--download",
            help="Fetch the rows' images from their URLs (politely: robots.txt for token "
            "'traindex', X-Robots-Tag noai and TDM reservations honoured) and fingerprint "
            "them; only fingerprints and a status per row are kept.",
        ),
    ] = False,
    keep_images: Annotated[
        Path | None,
        typer.Option("--keep-images", help="With --download: also write an img2dataset folder."),
    ] = None,
    domain: Annotated[
        str | None, typer.Option("--domain", help="With --download: only rows on this domain.")
    ] = None,
    url_prefix: Annotated[
        str | None, typer.Option("--url-prefix", help="With --download: only URLs with prefix.")
    ] = None,
    flickr_user: Annotated[
        str | None, typer.Option("--flickr-user", help="With --download: one Flickr account.")
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", help="With --download: rows whose caption matches.")
    ] = None,
    rows: Annotated[
        Path | None,
        typer.Option("--rows", help="With --download: a file of SOURCE_FILE:ROW lines."),
    ] = None,
) -> None:
    """Fingerprint a dataset's images (SHA-256 + PDQ) and index them for image search."""
    if download and images is not None:
        exit_with("give --images (local files) or --download (the rows' URLs), not both")
    selection = _selection(download, keep_images, domain, url_prefix, flickr_user, text, rows)
    ray = ray_options(distributor, ray_address, workers)
    if face_detector not in ("hog", "cnn"):
        raise typer.BadParameter("--face-detector must be hog or cnn")
    face_options = (
        FaceOptions(
            detector="cnn" if face_detector == "cnn" else "hog",
            upsample=upsample,
            min_face=min_face,
        )
        if faces
        else None
    )
    mode: Distributor = "local" if ray is None else "ray"
    with (
        user_errors(),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[images]} images"),
            TextColumn("{task.fields[rate]}/s"),
            TextColumn("{task.fields[failures]} failed"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("shards", total=None, images=0, rate="0", failures=0)
        started = time.perf_counter()

        def on_done(result: ShardResult) -> None:
            fields = progress.tasks[task].fields
            done = fields["images"] + result.images
            rate = f"{done / max(time.perf_counter() - started, 1e-9):,.0f}"
            failures = fields["failures"] + result.errors
            progress.update(task, advance=1, images=done, rate=rate, failures=failures)

        reports = fingerprint(
            settings(ctx),
            dataset,
            images=images,
            distributor=mode,
            workers=workers,
            on_done=on_done,
            faces=face_options,
            keypoints=KeypointOptions() if keypoints else None,
            iscc=iscc,
            download=DownloadOptions(settings(ctx), keep_images=keep_images) if download else None,
            selection=selection,
            ray=ray,
        )
    for r in reports:
        rate = r.images / r.seconds if r.seconds else 0.0
        failed = (
            f"{r.errors:,} not fetched (see downloads/*.parquet 'status')"
            if download
            else f"{r.errors:,} unreadable (see fingerprints/*.parquet 'error')"
        )
        console.print(
            f"[bold]{r.dataset}/{r.release}[/]: {r.images:,} images fingerprinted "
            f"({rate:,.0f}/s), {failed}, "
            f"{r.shards_skipped} of {r.shards} shards already done, "
            f"{r.hashes_indexed:,} hashes indexed"
        )
        if face_options is not None:
            console.print(
                f"  faces: {r.face_images:,} images scanned, {r.faces_indexed:,} faces indexed"
            )
        if keypoints:
            console.print(
                f"  keypoints: {r.keypoint_images:,} images, {r.keypoints_indexed:,} points indexed"
            )
        if iscc:
            console.print(f"  iscc: {r.iscc_images:,} images (see iscc/*.parquet)")
        watch_new_rows(services(ctx), f"{r.dataset}/{r.release}")


def _selection(
    download: bool,
    keep_images: Path | None,
    domain: str | None,
    url_prefix: str | None,
    flickr_user: str | None,
    text: str | None,
    rows: Path | None,
) -> RowSelection | None:
    """The rows ``--download`` fetches; selectors without ``--download`` are an error."""
    queries: dict[QueryKind, str | None] = {
        "domain": domain, "url_prefix": url_prefix, "flickr_user": flickr_user, "text": text,
    }  # fmt: skip
    given = [(kind, value) for kind, value in queries.items() if value is not None]
    if not download:
        if given or rows is not None or keep_images is not None:
            exit_with("--domain, --url-prefix, --flickr-user, --text, --rows and --keep-images "
                      "need --download")  # fmt: skip
        return None
    if len(given) + (rows is not None) > 1:
        exit_with("give at most one of --domain, --url-prefix, --flickr-user, --text, --rows")
    if rows is not None:
        with user_errors():
            return RowSelection(rows=read_rows_file(rows))
    return RowSelection(Query(*given[0])) if given else RowSelection()


def register(app: typer.Typer) -> None:
    app.command("fingerprint")(fingerprint_command)
