"""What a watch is, and what it found: alerts (rows) and gaps (rows it could not compare).

A watch is a saved search: a key or caption query (``domain``, ``url_prefix``,
``flickr_user``, ``text``) or a folder of the creator's images or one photo of their face.
Image and face watches keep the *path* on the creator's machine, never a copy of a photo
or its embedding (DESIGN.md's safety rule: a query image is kept no longer than the
search), so each run reads the files again.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypedDict, cast
from urllib.parse import urlencode

from traindex.core.coverage import ReleaseCoverage
from traindex.errors import InputError
from traindex.fingerprint.locate import IMAGE_SUFFIXES
from traindex.search.queries import Query, QueryKind, resolve

__all__ = [
    "KEY_KINDS",
    "WATCH_KINDS",
    "Alert",
    "Contacts",
    "Gap",
    "Watch",
    "WatchKind",
    "new_watch",
    "portfolio",
    "with_contacts",
]

WatchKind = Literal["images", "domain", "url_prefix", "flickr_user", "text", "face"]
KEY_KINDS: tuple[WatchKind, ...] = ("domain", "url_prefix", "flickr_user", "text")
WATCH_KINDS: tuple[WatchKind, ...] = (*KEY_KINDS, "images", "face")

# What makes a release's rows "new" for a watch: a catalog shard appears in one of these
# lists. "samples" are ingested shards (key and caption lookups see every ingested row);
# the others are the shards a fingerprint stage added to its index.
_STAGES: dict[WatchKind, tuple[str, ...]] = {
    "images": ("samples", "fingerprints", "keypoints"),  # dataset digests, PDQ, keypoints
    "face": ("faces",),
}
_SIGNALS: dict[WatchKind, tuple[str, ...]] = {
    "images": ("sha256", "pdq", "keypoints"),
    "face": ("faces",),
}


def portfolio(folder: Path) -> list[Path]:
    """The image files below ``folder`` (by suffix; contents are checked per file)."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


@dataclass(frozen=True, slots=True)
class Watch:
    """One saved search and where to tell its owner."""

    id: str
    kind: WatchKind
    value: str
    created_at: str
    owner_id: str | None = None
    email: str | None = None
    webhook: str | None = None

    @property
    def stages(self) -> tuple[str, ...]:
        return _STAGES.get(self.kind, ("samples",))

    @property
    def signals(self) -> tuple[str, ...]:
        """The fingerprint signals an image or face watch depends on (none for key ones)."""
        return _SIGNALS.get(self.kind, ())

    @property
    def query(self) -> Query:
        assert self.kind in KEY_KINDS
        return Query(cast(QueryKind, self.kind), self.value)

    def describe(self) -> str:
        what = {"images": "images in", "face": "the face in", "url_prefix": "URLs under",
                "flickr_user": "Flickr account", "text": "captions mentioning"}  # fmt: skip
        return f"{what.get(self.kind, self.kind)} {self.value}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Watch:
        if data.get("kind") not in WATCH_KINDS:
            raise InputError(f"unknown watch kind {data.get('kind')!r}")
        return cls(**{k: data.get(k) for k in cls.__slots__})  # type: ignore[arg-type]


def new_watch(
    kind: WatchKind,
    value: str,
    *,
    owner_id: str | None = None,
    email: str | None = None,
    webhook: str | None = None,
) -> Watch:
    """A checked watch: a query that resolves, an image folder with images, a photo file.

    (A face photo's one-face rule is checked by ``finder.check_face``: it needs dlib.)"""
    if kind not in WATCH_KINDS:
        raise InputError(f"a watch is one of {', '.join(WATCH_KINDS)}, not {kind!r}")
    value = value.strip()
    if kind in KEY_KINDS:
        resolve(Query(cast(QueryKind, kind), value))  # InputError says why it cannot search
    elif kind == "images":
        folder = Path(value).expanduser()
        if not folder.is_dir():
            raise InputError("not a folder", path=value)
        if not portfolio(folder):
            raise InputError(f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))})", path=value)
        value = str(folder.resolve())
    else:
        photo = Path(value).expanduser()
        if not photo.is_file():
            raise InputError("not a file", path=value)
        value = str(photo.resolve())
    when = datetime.now(UTC).isoformat(timespec="seconds")
    watch = Watch(secrets.token_hex(6), kind, value, when)
    return with_contacts(watch, Contacts(owner_id=owner_id, email=email, webhook=webhook))


class Contacts(TypedDict, total=False):
    """Who a watch tells; a key left out stays as it was, ``None`` or empty means none."""

    owner_id: str | None
    email: str | None
    webhook: str | None


def with_contacts(watch: Watch, contacts: Contacts) -> Watch:
    """``watch`` telling whom ``contacts`` name. Its search, id and history stay: rows
    already alerted are not alerted again, and each alert reaches each channel (e-mail, webhook)
    once: a new address gets what is found from now on, a newly added channel also what
    it has not had yet."""
    email = contacts.get("email")
    if email and "@" not in email.strip(" <>"):
        raise InputError(f"{email!r} is not an e-mail address")

    def given(key: Literal["owner_id", "email", "webhook"], now: str | None) -> str | None:
        return (contacts[key] or None) if key in contacts else now

    return replace(
        watch,
        owner_id=given("owner_id", watch.owner_id),
        email=given("email", watch.email),
        webhook=given("webhook", watch.webhook),
    )


@dataclass(frozen=True, slots=True)
class Alert:
    """One dataset row a watch found, recorded once (the match as ``search --json`` has it)."""

    id: int
    watch_id: str
    match: dict[str, Any]
    found_at: str

    @property
    def row_path(self) -> str:
        """The row's page in the web app (relative to its base URL)."""
        m = self.match
        query = urlencode({"shard": m["shard"], "row": m["row"]})
        return f"/rows/{m['dataset']}/{m['release']}?{query}"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "watch": self.watch_id, "found_at": self.found_at,
                "row_page": self.row_path, "match": self.match}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Gap:
    """Rows of a release an image or face watch could not compare (not fingerprinted)."""

    watch_id: str
    coverage: ReleaseCoverage
    signals: tuple[str, ...]
    updated_at: str

    @property
    def state(self) -> str:
        return self.coverage.state(self.signals)

    def to_json(self) -> dict[str, Any]:
        return {"watch": self.watch_id, "updated_at": self.updated_at,
                **self.coverage.to_json(self.signals)}  # fmt: skip
