"""The catalog on disk: one folder per dataset release under ``<home>/datasets``.

Layout of a release folder::

    manifest.json          commit record (see ``manifest``)
    samples/<id>.parquet   one zstd Parquet shard per source file, SAMPLE_SCHEMA
    keys/<field>/<id>.{h,r}.npy   sorted key hashes and their rows, per shard
    text/                  Tantivy caption index for the whole release
    rejected/<id>.parquet  bad rows logged by --skip-bad-rows (the CLI default)
    .tmp/                  work in progress; never read by searches

Why one shard per source: ingest resumes and commits per source file, and a row's
provenance (source file, row) maps to exactly one shard.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from traindex.catalog.manifest import Manifest, utc_now
from traindex.config import Settings
from traindex.core.files import write_atomic
from traindex.errors import DatasetNotFoundError, InputError

__all__ = ["Catalog", "Release"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_name(value: str, what: str) -> str:
    """Dataset and release names become folder names: keep them boring."""
    if not _NAME.match(value) or value in {".", ".."}:
        raise InputError(
            f"{what} name {value!r} must be 1-128 characters of letters, digits, '.', '_', '-'"
        )
    return value


@dataclass(frozen=True, slots=True)
class Release:
    """Paths of one release folder and access to its manifest."""

    dir: Path

    @property
    def manifest_path(self) -> Path:
        return self.dir / "manifest.json"

    @property
    def samples_dir(self) -> Path:
        return self.dir / "samples"

    @property
    def keys_dir(self) -> Path:
        return self.dir / "keys"

    @property
    def text_dir(self) -> Path:
        return self.dir / "text"

    @property
    def rejected_dir(self) -> Path:
        return self.dir / "rejected"

    @property
    def tmp_dir(self) -> Path:
        return self.dir / ".tmp"

    def shard_path(self, source_id: int) -> Path:
        return self.samples_dir / f"{source_id:05d}.parquet"

    def stage_table(self, stage: str, shard_id: int) -> Path:
        """One catalog shard's output table of a fingerprint stage (``fingerprints``,
        ``faces``, ``keypoints``): one file per shard, so every stage resumes per shard."""
        return self.dir / stage / f"{shard_id:05d}.parquet"

    def _indexed_path(self, stage: str) -> Path:
        return self.dir / stage / "indexed.json"

    def indexed(self, stage: str) -> list[int]:
        """Shards already added to ``stage``'s index: every indexer records its progress in
        ``<stage>/indexed.json`` after each shard, so indexing resumes."""
        path = self._indexed_path(stage)
        return [int(i) for i in json.loads(path.read_text())["shards"]] if path.exists() else []

    def mark_indexed(self, stage: str, shards: list[int]) -> None:
        write_atomic(self._indexed_path(stage), json.dumps({"shards": shards}).encode())

    def indexed_stamp(self, stage: str) -> float:
        """Changes whenever ``stage`` adds to its index (a cache key for readers)."""
        path = self._indexed_path(stage)
        return path.stat().st_mtime if path.exists() else 0.0

    def stage_tables(self, stage: str) -> list[int]:
        """Catalog shards whose ``stage`` table is written."""
        folder = self.dir / stage
        return sorted(int(p.stem) for p in folder.glob("*.parquet")) if folder.is_dir() else []

    def manifest(self) -> Manifest:
        return Manifest.load(self.manifest_path)

    def exists(self) -> bool:
        return self.manifest_path.is_file()


class Catalog:
    """All ingested releases under one home directory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.datasets_dir
        # manifest.json -> (its stat, parsed): a 1,000-source manifest takes ~25 ms to
        # parse, more than a key lookup; it is replaced atomically, so a new stat = new file
        self._manifests: dict[Path, tuple[tuple[int, int, int], Manifest]] = {}

    def release(self, name: str, release: str) -> Release:
        return Release(self.root / check_name(name, "dataset") / check_name(release, "release"))

    def releases(self) -> Iterator[tuple[Release, Manifest]]:
        """Every committed release, sorted by dataset then release name."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("*/*/manifest.json")):
            rel = Release(path.parent)
            yield rel, self._manifest(rel)

    def _manifest(self, release: Release) -> Manifest:
        """The release's manifest, parsed again only when the file was replaced (callers
        must not modify it: searches share it)."""
        stat = release.manifest_path.stat()
        key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        cached = self._manifests.get(release.manifest_path)
        if cached is None or cached[0] != key:
            cached = self._manifests[release.manifest_path] = (key, release.manifest())
        return cached[1]

    def select(self, dataset: str | None = None) -> list[tuple[Release, Manifest]]:
        """Releases to search: all, or those of one dataset (``name`` or ``name/release``)."""
        found = list(self.releases())
        if dataset is None:
            return found
        name, _, release = dataset.partition("/")
        chosen = [
            (r, m) for r, m in found if m.name == name and (not release or m.release == release)
        ]
        if not chosen:
            known = ", ".join(f"{m.name}/{m.release}" for _, m in found) or "(none ingested)"
            raise DatasetNotFoundError(f"no dataset {dataset!r}; known: {known}")
        return chosen

    def open_release(
        self, name: str, release: str, fmt: str, root: Path
    ) -> tuple[Release, Manifest]:
        """The release's manifest, created (not yet saved) if this is its first ingest."""
        rel = self.release(name, release)
        if rel.exists():
            manifest = rel.manifest()
            if manifest.format != fmt:
                raise InputError(
                    f"{name}/{release} was ingested as format {manifest.format!r}, not {fmt!r}; "
                    "choose another --release or --format"
                )
            return rel, manifest
        for sub in (rel.samples_dir, rel.keys_dir, rel.tmp_dir):
            sub.mkdir(parents=True, exist_ok=True)
        now = utc_now()
        return rel, Manifest(
            name=name,
            release=release,
            format=fmt,
            root=str(root.resolve()),
            created_at=now,
            updated_at=now,
            row_group_rows=self.settings.row_group_rows,
        )

    def remove(self, name: str, release: str) -> None:
        rel = self.release(name, release)
        if not rel.dir.is_dir():
            raise DatasetNotFoundError(f"no dataset {name}/{release}")
        shutil.rmtree(rel.dir)
