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
import json
import multiprocessing as mp
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
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
from traindex.jobs.lifeline import Lifeline, die_with_parent
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

    def add(self, row: _Row, got: Download, key: str, hashed: _Hashed, keep: Path | None) -> None:
        """One fetched image's rows (and its files, when the images are kept)."""
        self.downloads.append(_status(row, got, hashed.fingerprint["sha256"]))
        self.fingerprints.append(hashed.fingerprint)
        if hashed.keypoints is not None:
            self.keypoints.append(hashed.keypoints)
        self.faces.extend(hashed.faces)
        if keep is not None:
            _keep(keep, key, row, got, hashed.fingerprint)


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


@dataclass(frozen=True, slots=True)
class _Hashed:
    """One image's rows for the fingerprint, keypoint and face tables."""

    fingerprint: dict[str, object]
    keypoints: dict[str, object] | None
    faces: list[dict[str, object]]


class _Hasher:
    """The per-image CPU work (decode, PDQ, keypoints, faces)."""

    def __init__(self, task: DownloadTask) -> None:
        self.task = task
        self.max_pixels = task.shard.max_pixels
        self.pdq = PdqFingerprinter(max_pixels=self.max_pixels)
        self.faces = FaceFingerprinter(task.options.faces) if task.options.faces else None

    def __call__(self, row: int, key: str, body: bytes, url: str) -> _Hashed:
        ref = ImageRef(key, body, url)
        options = self.task.options.keypoints
        return _Hashed(
            fingerprint_record(ref, row, self.pdq, self.max_pixels),
            keypoint_record(ref, row, options, self.max_pixels) if options else None,
            face_records(ref, FaceRow(row, None, None), self.faces) if self.faces else [],
        )


_HASHERS: list[_Hasher] = []  # the hashing process's one hasher, built by _start_hasher


def _start_hasher(task: DownloadTask, lifeline: Lifeline) -> None:
    die_with_parent(lifeline)
    _HASHERS.append(_Hasher(task))


_Job = tuple[int, str, bytes, str]  # row, key, body, URL


def _hash_all(jobs: list[_Job]) -> list[_Hashed]:
    return [_HASHERS[0](*job) for job in jobs]


def _keep(root: Path, key: str, row: _Row, got: Download, record: dict[str, object]) -> None:
    """img2dataset's folder layout: ``<shard>/<key>.<ext>`` with ``.txt`` and ``.json``."""
    folder = root / key[:5]  # a key is the shard's 5 digits, then the row's 6
    folder.mkdir(parents=True, exist_ok=True)
    ext = {"jpeg": "jpg"}.get(got.detail or "", got.detail or "img")
    (folder / f"{key}.{ext}").write_bytes(got.body)
    (folder / f"{key}.txt").write_text(row.caption or "", encoding="utf-8")
    meta = {
        "key": key, "url": row.url, "caption": row.caption, "status": "success",
        "sha256": record["sha256"], "width": record.get("width"), "height": record.get("height"),
    }  # fmt: skip
    (folder / f"{key}.json").write_text(json.dumps(meta), encoding="utf-8")


def _status(row: _Row, got: Download, sha256: object = None) -> dict[str, object]:
    return {
        "row": row.row, "url": row.url, "status": got.status, "detail": got.detail,
        "http_status": got.http_status, "final_url": got.final_url,
        "content_type": got.content_type or None, "sha256": sha256,
        "bytes": len(got.body) if got.ok else None, "fetched_at": got.fetched_at,
    }  # fmt: skip


_BATCH = 16  # images per trip to the hashing process
_TRIPS = 2  # batches under way at once: one is hashed while the next one is sent


async def _download_all(task: DownloadTask, rows: Sequence[_Row]) -> _Tables:
    """Fetch with at most ``download_concurrency`` requests in flight and hash in a process
    of its own, at most as many fetched bodies again waiting for it (memory stays bounded).

    Why a process: the event loop's many small socket calls each give up the GIL, and with
    hashing threads in the same process every one of them waited for a thread's switch
    interval to get it back. Why fetches do not wait for their hash: a request slot is
    then never idle while the CPU catches up. Why batches: each trip to the process costs
    wake-ups of the executor's threads, which compete with the event loop for the GIL."""
    settings = task.options.settings
    tables = _Tables()
    queue: asyncio.Queue[_Row] = asyncio.Queue()
    for row in rows:
        queue.put_nowait(row)
    fetched: asyncio.Queue[tuple[_Row, Download] | None] = asyncio.Queue()  # None: stop
    waiting = asyncio.Semaphore(settings.download_concurrency)
    loop = asyncio.get_running_loop()
    spawn = mp.get_context("spawn")
    with ProcessPoolExecutor(1, spawn, _start_hasher, (task, Lifeline.here())) as pool:

        async def hash_batches() -> None:
            stop = False
            while not stop:
                batch: list[tuple[_Row, Download]] = []
                while not stop and (not batch or (len(batch) < _BATCH and not fetched.empty())):
                    item = await fetched.get()
                    stop = item is None  # each trip's task takes exactly one stop mark
                    batch.extend([item] if item is not None else [])
                keys = [f"{task.shard.shard_id:05d}{row.row:06d}" for row, _ in batch]
                jobs = [(r.row, k, g.body, g.url) for (r, g), k in zip(batch, keys, strict=True)]
                hashed = await loop.run_in_executor(pool, _hash_all, jobs) if jobs else []
                for (row, got), key, done in zip(batch, keys, hashed, strict=True):
                    tables.add(row, got, key, done, task.options.keep_images)
                    waiting.release()

        async def fetch(downloader: ImageDownloader) -> None:
            while not queue.empty():
                row = queue.get_nowait()
                got = await downloader.get(row.url)
                if not got.ok:
                    tables.downloads.append(_status(row, got))
                    continue
                await waiting.acquire()
                fetched.put_nowait((row, got))

        async with asyncio.TaskGroup() as hashing:
            for _ in range(_TRIPS):
                hashing.create_task(hash_batches())
            async with ImageDownloader(settings) as downloader, asyncio.TaskGroup() as fetching:
                for _ in range(min(settings.download_concurrency, max(1, len(rows)))):
                    fetching.create_task(fetch(downloader))
            for _ in range(_TRIPS):
                fetched.put_nowait(None)
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
