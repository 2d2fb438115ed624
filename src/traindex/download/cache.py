"""Downloaded candidates, kept so that a second search does not fetch them again.

One pair of files per URL under ``<home>/cache/candidates/``: ``<sha256(url)>.json`` (the
``Download`` without its body: status, HTTP status, final URL, time) and, for fetched
images, ``<sha256(url)>.bin``. Both are written atomically; a half-written entry is simply
missing, so the URL is fetched again. A cached failure is re-used too (a 404 stays a 404
within one investigation); delete the folder to start afresh.

The RFC 3161 token of a download's proof (``core.proofs``) is kept next to it, in
``<sha256(url)>.stamps.json`` by timestamp authority, with the SHA-256 of the proof it is
about: a later search re-uses the proof of the same fetch with the token taken then,
instead of stamping an old fetch anew.

What a candidate's bytes hash to is kept too, under ``fingerprints/<content sha256>-<pipeline
key>.json`` (``CandidatePrint``): the pipeline key names everything the numbers depend on
(``PIPELINE_VERSION`` of the decode-and-hash path, the pixel limit, the keypoint options),
so a second search neither fetches nor decodes, and a changed pipeline or option is a miss,
never a stale fingerprint. Keypoints are stored at full precision (float32), so a cached
candidate compares exactly as a freshly hashed one.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from traindex.core.files import write_atomic
from traindex.download.client import Download, ImageDownloader
from traindex.fingerprint.hashing import PIPELINE_VERSION
from traindex.fingerprint.keypoints import DESCRIPTOR_BYTES, KeypointOptions, Keypoints

__all__ = ["CandidateCache", "CandidatePrint", "pipeline_key"]


@dataclass(frozen=True, slots=True)
class CandidatePrint:
    """What one candidate's bytes hash to; no PDQ digests: undecodable or flat (it proves
    nothing, and is not hashed again either)."""

    sha256: str
    pdq: tuple[bytes, ...]
    keypoints: Keypoints | None

    def to_json(self) -> dict[str, object]:
        kp = self.keypoints
        return {
            "sha256": self.sha256,
            "pdq": [d.hex() for d in self.pdq],
            "points": None if kp is None else _b64(kp.points.astype(np.float32).tobytes()),
            "descriptors": None if kp is None else _b64(kp.descriptors.tobytes()),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> CandidatePrint:
        points, descriptors = data["points"], data["descriptors"]
        kp = None
        if isinstance(points, str) and isinstance(descriptors, str):
            xy = np.frombuffer(base64.b64decode(points), np.float32).reshape(-1, 2)
            bits = np.frombuffer(base64.b64decode(descriptors), np.uint8)
            kp = Keypoints(xy.copy(), bits.reshape(-1, DESCRIPTOR_BYTES).copy())
        digests = data["pdq"]
        if not isinstance(digests, list):
            raise ValueError(f"pdq is {type(digests).__name__}, not a list of hex digests")
        return cls(str(data["sha256"]), tuple(bytes.fromhex(str(d)) for d in digests), kp)


def pipeline_key(max_pixels: int, keypoints: KeypointOptions | None) -> str:
    """A short name for everything a candidate's fingerprints depend on besides its bytes."""
    said = repr((PIPELINE_VERSION, max_pixels, keypoints))
    return f"v{PIPELINE_VERSION}-{_digest(said.encode())[:16]}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _name(url: str) -> str:
    return _digest(url.encode("utf-8"))


class CandidateCache:
    """Fetch-once storage of candidate downloads."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, url: str) -> Download | None:
        meta = self.folder / f"{_name(url)}.json"
        if not meta.is_file():
            return None
        data = json.loads(meta.read_text(encoding="utf-8"))
        body = b""
        if data["status"] == "ok":
            blob = self.folder / f"{_name(url)}.bin"
            if not blob.is_file():
                return None
            body = blob.read_bytes()
        fetched = data.get("fetched_at")
        return Download(
            url=url, status=data["status"], detail=data.get("detail"),
            http_status=data.get("http_status"), final_url=data.get("final_url"),
            content_type=data.get("content_type") or "",
            fetched_at=datetime.fromisoformat(fetched) if fetched else None, body=body,
        )  # fmt: skip

    def put(self, got: Download) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if got.ok:  # body first: a meta file without its body reads as a miss
            write_atomic(self.folder / f"{_name(got.url)}.bin", got.body)
        meta = {
            "url": got.url, "status": got.status, "detail": got.detail,
            "http_status": got.http_status, "final_url": got.final_url,
            "content_type": got.content_type,
            "fetched_at": got.fetched_at.isoformat() if got.fetched_at else None,
        }  # fmt: skip
        write_atomic(self.folder / f"{_name(got.url)}.json", json.dumps(meta).encode())

    def fingerprints(self, sha256: str, pipeline: str) -> CandidatePrint | None:
        """The kept fingerprints of the content ``sha256`` under ``pipeline``, if any."""
        try:
            data = json.loads(self._print_path(sha256, pipeline).read_text(encoding="utf-8"))
            return CandidatePrint.from_json(data)
        except (OSError, ValueError, KeyError):
            return None  # not kept yet (or damaged): hashed again

    def keep_fingerprints(self, printed: CandidatePrint, pipeline: str) -> None:
        path = self._print_path(printed.sha256, pipeline)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(printed.to_json()).encode())

    def _print_path(self, sha256: str, pipeline: str) -> Path:
        return self.folder / "fingerprints" / f"{sha256}-{pipeline}.json"

    def stamp(self, url: str, tsa_url: str, content: bytes) -> dict[str, str] | None:
        """The token ``tsa_url`` gave for the proof ``content`` of ``url``'s download."""
        kept = self._stamps(url).get(tsa_url)
        if not isinstance(kept, dict) or kept.get("proof_sha256") != _digest(content):
            return None
        timestamp = kept.get("timestamp")
        return dict(timestamp) if isinstance(timestamp, dict) else None

    def keep_stamp(self, url: str, tsa_url: str, content: bytes, timestamp: dict[str, str]) -> None:
        stamps = self._stamps(url)
        stamps[tsa_url] = {"proof_sha256": _digest(content), "timestamp": timestamp}
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.folder / f"{_name(url)}.stamps.json", json.dumps(stamps).encode())

    def _stamps(self, url: str) -> dict[str, object]:
        path = self.folder / f"{_name(url)}.stamps.json"
        try:
            stamps = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # none yet (or a damaged file): the proof is stamped again
        return stamps if isinstance(stamps, dict) else {}

    async def fetch_all(
        self,
        downloader: ImageDownloader,
        urls: Iterable[str],
        on_done: Callable[[], None] = lambda: None,
    ) -> list[Download]:
        """Every URL's download, from the cache where present, else fetched and stored;
        ``on_done`` is called as each one is ready (a progress bar's tick)."""

        async def one(url: str) -> Download:
            got = self.get(url)
            if got is None:
                got = await downloader.get(url)
                self.put(got)
            on_done()
            return got

        return list(await asyncio.gather(*(one(url) for url in urls)))
