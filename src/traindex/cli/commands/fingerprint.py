"""``traindex fingerprint``: a thin adapter over ``traindex.jobs.fingerprint``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from traindex.cli.common import console, settings, user_errors
from traindex.fingerprint.faces import DEFAULT_MIN_FACE, DEFAULT_UPSAMPLE, FaceOptions
from traindex.fingerprint.keypoints import KeypointOptions
from traindex.jobs.fingerprint import Distributor, fingerprint
from traindex.jobs.stages import ShardResult

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
    distributor: Annotated[
        str, typer.Option("--distributor", help="local (processes) or ray.")
    ] = "local",
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
) -> None:
    """Fingerprint a dataset's images (SHA-256 + PDQ) and index them for image search."""
    if distributor not in ("local", "ray"):
        raise typer.BadParameter("--distributor must be local or ray")
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
    mode: Distributor = "ray" if distributor == "ray" else "local"
    with (
        user_errors(),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[images]} images"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("shards", total=None, images=0)

        def on_done(result: ShardResult) -> None:
            done = progress.tasks[task].fields["images"] + result.images
            progress.update(task, advance=1, images=done)

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
        )
    for r in reports:
        rate = r.images / r.seconds if r.seconds else 0.0
        console.print(
            f"[bold]{r.dataset}/{r.release}[/]: {r.images:,} images fingerprinted "
            f"({rate:,.0f}/s), {r.errors:,} unreadable (see fingerprints/*.parquet 'error'), "
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


def register(app: typer.Typer) -> None:
    app.command("fingerprint")(fingerprint_command)
