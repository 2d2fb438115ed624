"""The download stage: one catalog shard's row URLs -> fingerprints + a status per row.

Same contract as the other fingerprint stages (``jobs/stages.py``), so the local and Ray
distributors run it unchanged: a plain function of a picklable task; tables written
atomically; a shard whose fingerprint table exists is skipped. Per shard it writes, in this
order, ``keypoints/`` and ``faces/`` (when asked), ``downloads/<shard>.parquet`` (exactly
one status row per attempted row: ``ok`` or why not) and last ``fingerprints/<shard>``,
the commit point: a run killed before it redoes the whole shard and replaces every table,
so no row is ever counted twice. Image bytes live only while they are hashed, unless
``keep_images`` names an img2dataset-style folder to write them to.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from traindex.catalog.indexes.coverage import DOWNLOAD_STAGE
from traindex.catalog.indexes.faces import FACE_SCHEMA
from traindex.catalog.indexes.keypoints import KEYPOINT_SCHEMA
from traindex.catalog.store import Release
from traindex.config import Settings
from traindex.download.client import Download, ImageDownloader
from traindex.fingerprint.faces import FaceFingerprinter, FaceOptions
from traindex.fingerprint.keypoints import KeypointOptions
from traindex.fingerprint.locate import ImageRef
from traindex.fingerprint.pdq import PdqFingerprinter
from traindex.jobs.faces import FaceRow, face_records
from traindex.jobs.keypoints import keypoint_record
from traindex.jobs.stages import (
    FINGERPRINT_SCHEMA,
    ShardResult,
    ShardTask,
    fingerprint_record,
    write_table,
)

__all__ = ["DOWNLOAD_SCHEMA", "DownloadOptions", "DownloadTask", "download_shard"]

DOWNLOAD_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64()),
        pa.field("url", pa.string()),
        pa.field("status", pa.string()),
        pa.field("detail", pa.string()),
        pa.field("http_status", pa.int32()),
        pa.field("final_url", pa.string()),
        pa.field("content_type", pa.string()),
        pa.field("sha256", pa.string()),
        pa.field("bytes", pa.int64()),
        pa.field("fetched_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True, slots=True)
class DownloadOptions:
    """What every shard's download does besides SHA-256 and PDQ."""

    settings: Settings
    keypoints: KeypointOptions | None = None
    faces: FaceOptions | None = None
    keep_images: Path | None = None


@dataclass(frozen=True, slots=True)
class DownloadTask:
    """One shard, the options, and which of its rows (catalog positions; ``None``: all)."""

    shard: ShardTask
    options: DownloadOptions
    rows: tuple[int, ...] | None = None


@dataclass
class _Tables:
    downloads: list[dict[str, object]] = field(default_factory=list)
    fingerprints: list[dict[str, object]] = field(default_factory=list)
    keypoints: list[dict[str, object]] = field(default_factory=list)
    faces: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Row:
    row: int
    url: str
    caption: str | None


def _rows(release: Release, shard_id: int, wanted: tuple[int, ...] | None) -> list[_Row]:
    table = pq.read_table(release.shard_path(shard_id), columns=["url", "caption"])
    urls, captions = table.column("url").to_pylist(), table.column("caption").to_pylist()
    positions = range(table.num_rows) if wanted is None else sorted(set(wanted))
    return [
        _Row(p, str(urls[p]), captions[p])
        for p in positions
        if 0 <= p < table.num_rows and urls[p] is not None
    ]


class _Hasher:
    """The per-image CPU work (decode, PDQ, keypoints, faces), run off the event loop."""

    def __init__(self, task: DownloadTask) -> None:
        self.task = task
        self.max_pixels = task.shard.max_pixels
        self.pdq = PdqFingerprinter(max_pixels=self.max_pixels)
        self.faces = FaceFingerprinter(task.options.faces) if task.options.faces else None

    def __call__(self, row: _Row, got: Download, tables: _Tables) -> None:
        key = f"{self.task.shard.shard_id:05d}{row.row:06d}"
        ref = ImageRef(key, got.body, got.url)
        record = fingerprint_record(ref, row.row, self.pdq, self.max_pixels)
        tables.fingerprints.append(record)
        if self.task.options.keypoints is not None:
            options = self.task.options.keypoints
            tables.keypoints.append(keypoint_record(ref, row.row, options, self.max_pixels))
        if self.faces is not None:
            tables.faces.extend(face_records(ref, FaceRow(row.row, None, None), self.faces))
        if self.task.options.keep_images is not None:
            _keep(self.task.options.keep_images, self.task.shard.shard_id, key, row, got, record)


def _keep(
    root: Path, shard_id: int, key: str, row: _Row, got: Download, record: dict[str, object]
) -> None:
    """img2dataset's folder layout: ``<shard>/<key>.<ext>`` with ``.txt`` and ``.json``."""
    folder = root / f"{shard_id:05d}"
    folder.mkdir(parents=True, exist_ok=True)
    ext = {"jpeg": "jpg"}.get(got.detail or "", got.detail or "img")
    (folder / f"{key}.{ext}").write_bytes(got.body)
    (folder / f"{key}.txt").write_text(row.caption or "", encoding="utf-8")
    meta = {
        "key": key, "url": row.url, "caption": row.caption, "status": "success",
        "sha256": record["sha256"], "width": record.get("width"), "height": record.get("height"),
    }  # fmt: skip
    (folder / f"{key}.json").write_text(json.dumps(meta), encoding="utf-8")


def _status(row: _Row, got: Download) -> dict[str, object]:
    return {
        "row": row.row, "url": row.url, "status": got.status, "detail": got.detail,
        "http_status": got.http_status, "final_url": got.final_url,
        "content_type": got.content_type or None,
        "sha256": hashlib.sha256(got.body).hexdigest() if got.ok else None,
        "bytes": len(got.body) if got.ok else None, "fetched_at": got.fetched_at,
    }  # fmt: skip


async def _download_all(task: DownloadTask, rows: Sequence[_Row]) -> _Tables:
    """Fetch with at most ``download_concurrency`` images in flight; hash on 2 threads."""
    settings = task.options.settings
    tables = _Tables()
    hasher = _Hasher(task)
    queue: asyncio.Queue[_Row] = asyncio.Queue()
    for row in rows:
        queue.put_nowait(row)
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(2) as pool:
        async with ImageDownloader(settings) as downloader:

            async def worker() -> None:
                while not queue.empty():
                    row = queue.get_nowait()
                    got = await downloader.get(row.url)
                    tables.downloads.append(_status(row, got))
                    if got.ok:
                        await loop.run_in_executor(pool, hasher, row, got, tables)

            workers = min(settings.download_concurrency, max(1, len(rows)))
            await asyncio.gather(*(worker() for _ in range(workers)))
    return tables


def download_shard(task: DownloadTask) -> ShardResult:
    """Download and fingerprint one shard's (selected) rows, or skip a finished shard."""
    release = Release(task.shard.release_dir)
    sid = task.shard.shard_id
    if release.stage_table("fingerprints", sid).exists():
        return ShardResult(sid, 0, 0, skipped=True)
    rows = _rows(release, sid, task.rows)
    tables = asyncio.run(_download_all(task, rows))
    # every table in row order, whatever order the downloads finished in
    if task.options.keypoints is not None:
        keypoints = sorted(tables.keypoints, key=lambda r: int(str(r["row"])))
        write_table(release.stage_table("keypoints", sid), keypoints, KEYPOINT_SCHEMA)
    if task.options.faces is not None:
        faces = sorted(tables.faces, key=lambda r: (int(str(r["row"])), int(str(r["face"]))))
        write_table(release.stage_table("faces", sid), faces, FACE_SCHEMA)
    statuses = sorted(tables.downloads, key=lambda r: int(str(r["row"])))
    write_table(release.stage_table(DOWNLOAD_STAGE, sid), statuses, DOWNLOAD_SCHEMA)
    prints = sorted(tables.fingerprints, key=lambda r: int(str(r["row"])))
    write_table(release.stage_table("fingerprints", sid), prints, FINGERPRINT_SCHEMA)
    failed = sum(1 for r in statuses if r["status"] != "ok")
    return ShardResult(sid, len(prints), failed, skipped=False)
