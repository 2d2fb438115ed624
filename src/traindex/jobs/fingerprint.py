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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from traindex.catalog.indexes.faces import index_faces
from traindex.catalog.indexes.keypoints import index_keypoints
from traindex.catalog.indexes.pdq import index_fingerprints
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.download.select import RowSelection
from traindex.download.stage import DownloadOptions, DownloadTask, download_shard
from traindex.errors import InputError
from traindex.fingerprint.faces import FaceOptions
from traindex.fingerprint.keypoints import KeypointOptions
from traindex.fingerprint.locate import FolderImages
from traindex.jobs.distribute import Distributor, distribute, shard_tasks
from traindex.jobs.faces import face_shard
from traindex.jobs.iscc import IsccOptions, iscc_shard
from traindex.jobs.keypoints import keypoint_shard
from traindex.jobs.ray import RayOptions
from traindex.jobs.stages import ShardResult, ShardTask, fingerprint_shard, stage_tasks
from traindex.search.service import SearchService
from traindex.search.views import ViewCache

__all__ = ["Distributor", "FingerprintReport", "fingerprint"]

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


def _download_tasks(
    tasks: list[ShardTask], options: DownloadOptions, picked: dict[int, tuple[int, ...]] | None
) -> list[DownloadTask]:
    """One download task per shard holding selected rows (``picked is None``: all rows)."""
    return [
        DownloadTask(t, options, None if picked is None else picked[t.shard_id])
        for t in tasks
        if picked is None or picked.get(t.shard_id)
    ]


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
    download: DownloadOptions | None = None,
    selection: RowSelection | None = None,
    ray: RayOptions | None = None,
    iscc: bool = False,
) -> list[FingerprintReport]:
    """Fingerprint every release of ``dataset`` (``NAME`` or ``NAME/RELEASE``); with
    ``faces``, also find, embed and index the faces in its images; with ``keypoints``,
    their ORB points; with ``iscc``, their ISCC Image-Codes (not with ``download``: the
    downloaded bytes are not kept for a second pass). With ``download``, the images come
    from the rows' URLs (only the rows ``selection`` picks), and faces and keypoints are
    computed in the same pass. ``ray`` says where Ray runs the shards (default: a local
    runtime with ``workers`` CPUs)."""
    if iscc and download is not None:
        raise InputError("--iscc needs the images on disk (--images or the dataset's own)")
    folder = FolderImages(images) if images is not None else None
    catalog = Catalog(settings)
    search, views = SearchService(catalog), ViewCache(catalog)

    def run(tasks: list[Task], stage: Callable[[Task], ShardResult]) -> list[ShardResult]:
        return distribute(
            tasks, stage, distributor=distributor, workers=workers, on_done=on_done, ray=ray
        )

    reports = []
    for release, manifest in catalog.select(dataset):
        started = time.perf_counter()
        tasks = shard_tasks(release, manifest, folder)
        if download is not None:
            view = views.select(f"{manifest.name}/{manifest.release}")[0]
            picked = (selection or RowSelection()).positions(view, search)
            options = replace(download, faces=faces, keypoints=keypoints)
            results = run(_download_tasks(tasks, options, picked), download_shard)
            face_results = results if faces is not None else []
            point_results = results if keypoints is not None else []
        else:
            results = run(tasks, fingerprint_shard)
            face_results = run(stage_tasks(tasks, faces), face_shard) if faces else []
            point_results = run(stage_tasks(tasks, keypoints), keypoint_shard) if keypoints else []
        iscc_results = run(stage_tasks(tasks, IsccOptions()), iscc_shard) if iscc else []
        added = index_fingerprints(release)
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
