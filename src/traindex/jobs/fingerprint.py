"""``traindex fingerprint``: fingerprint a release's images, then index them.

Builds one ``ShardTask`` per catalog shard, hands them to a distributor (local processes
or Ray; both run ``stages.fingerprint_shard``), and adds the finished shards to the
release's PDQ and SHA-256 indexes. Shards already fingerprinted are skipped, so a re-run
resumes; bad images are recorded per image and never stop the job. With ``faces`` a second
pass (``faces.face_shard``, same distributors) finds and embeds faces and adds them to the
release's face index; with ``keypoints`` another (``keypoints.keypoint_shard``) stores ORB
points for crop- and overlay-tolerant image search; with ``iscc`` another
(``iscc.iscc_shard``) stores ISO 24138 Image-Codes for content-bound declarations.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from traindex.catalog.manifest import Manifest
from traindex.catalog.store import Catalog, Release
from traindex.config import Settings
from traindex.fingerprint.catalog_index import index_fingerprints
from traindex.fingerprint.face_index import index_faces
from traindex.fingerprint.faces import FaceOptions
from traindex.fingerprint.keypoint_index import index_keypoints
from traindex.fingerprint.keypoints import KeypointOptions
from traindex.fingerprint.locate import FolderImages
from traindex.jobs.faces import face_shard
from traindex.jobs.iscc import IsccOptions, iscc_shard
from traindex.jobs.keypoints import keypoint_shard
from traindex.jobs.local import run_local
from traindex.jobs.stages import ShardResult, ShardTask, fingerprint_shard, stage_tasks

__all__ = ["Distributor", "FingerprintReport", "fingerprint"]

Distributor = Literal["local", "ray"]
Task = TypeVar("Task")


@dataclass
class FingerprintReport:
    """What one release's fingerprint run did."""

    dataset: str
    release: str
    shards: int
    shards_skipped: int
    images: int
    errors: int
    hashes_indexed: int
    seconds: float
    face_images: int = 0
    faces_indexed: int = 0
    keypoint_images: int = 0
    keypoints_indexed: int = 0
    iscc_images: int = 0


def _tasks(release: Release, manifest: Manifest, folder: FolderImages | None) -> list[ShardTask]:
    root = Path(manifest.root)
    return [
        ShardTask(
            release_dir=release.dir,
            shard_id=s.id,
            format=manifest.format,
            source=root if root.is_file() else root / s.relpath,
            folder=folder,
        )
        for s in manifest.sources
    ]


def _distribute(
    tasks: list[Task],
    stage: Callable[[Task], ShardResult],
    distributor: Distributor,
    workers: int,
    on_done: Callable[[ShardResult], None],
) -> list[ShardResult]:
    if distributor == "ray":
        from traindex.jobs.ray import run_ray

        return run_ray(tasks, on_done, stage=stage, num_cpus=workers)
    return run_local(tasks, workers, on_done, stage=stage)


def fingerprint(
    settings: Settings,
    dataset: str,
    *,
    images: Path | None = None,
    distributor: Distributor = "local",
    workers: int = 2,
    on_done: Callable[[ShardResult], None] = lambda result: None,
    faces: FaceOptions | None = None,
    keypoints: KeypointOptions | None = None,
    iscc: bool = False,
) -> list[FingerprintReport]:
    """Fingerprint every release of ``dataset`` (``NAME`` or ``NAME/RELEASE``); with
    ``faces``, also find, embed and index the faces in its images; with ``keypoints``,
    their ORB points; with ``iscc``, their ISCC Image-Codes."""
    folder = FolderImages(images) if images is not None else None
    reports = []
    for release, manifest in Catalog(settings).select(dataset):
        started = time.perf_counter()
        tasks = _tasks(release, manifest, folder)
        results = _distribute(tasks, fingerprint_shard, distributor, workers, on_done)
        added = index_fingerprints(release)
        face_results = []
        if faces is not None:
            face_jobs = stage_tasks(tasks, faces)
            face_results = _distribute(face_jobs, face_shard, distributor, workers, on_done)
        point_results = []
        if keypoints is not None:
            point_jobs = stage_tasks(tasks, keypoints)
            point_results = _distribute(point_jobs, keypoint_shard, distributor, workers, on_done)
        iscc_results = []
        if iscc:
            iscc_jobs = stage_tasks(tasks, IsccOptions())
            iscc_results = _distribute(iscc_jobs, iscc_shard, distributor, workers, on_done)
        reports.append(
            FingerprintReport(
                dataset=manifest.name,
                release=manifest.release,
                shards=len(tasks),
                shards_skipped=sum(r.skipped for r in results),
                images=sum(r.images for r in results),
                errors=sum(r.errors for r in results),
                hashes_indexed=added,
                seconds=time.perf_counter() - started,
                face_images=sum(r.images for r in face_results),
                faces_indexed=index_faces(release) if faces is not None else 0,
                keypoint_images=sum(r.images for r in point_results),
                keypoints_indexed=index_keypoints(release) if keypoints is not None else 0,
                iscc_images=sum(r.images for r in iscc_results),
            )
        )
    return reports
