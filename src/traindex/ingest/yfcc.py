"""YFCC100M-style Flickr metadata TSV (``yfcc100m_dataset``, plain or ``.bz2``).

Format ``yfcc100m``: headerless, tab-separated, one photo or video per line, in either
official layout:

* 25 columns (2016): line number, photo id, photo hash, then the 22 columns below;
* 23 columns (2014): photo id, then the 22 columns below;

user NSID, user nickname, date taken, date uploaded, capture device, title, description,
user tags, machine tags, longitude, latitude, accuracy, page URL, download URL, licence
name, licence URL, server id, farm id, secret, original secret, original extension,
marker (0 photo, 1 video).

Mapping: photo id -> ``flickr_photo_id`` (and ``key``), NSID -> ``flickr_owner``,
nickname -> ``author``, title -> ``caption``, download URL -> ``url``, licence name/URL
-> ``license``/``license_url``; page URL, description, tags, dates, coordinates, the
photo hash and line number go to ``extra``. Videos are skipped (not rows). YFCC stores
its free-text fields URL-encoded (``+`` for spaces); they are decoded here because that
is the file format's encoding, not a normalisation. This is the owner link that static
Flickr URLs lack, which is why the NSID is kept per row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote_plus

from traindex.errors import BadRowError
from traindex.ingest._lines import LineReader, first_line
from traindex.ingest.base import SourceFile

__all__ = ["YfccReader"]

_COLUMNS = (
    "nsid",
    "nickname",
    "date_taken",
    "date_uploaded",
    "device",
    "title",
    "description",
    "user_tags",
    "machine_tags",
    "longitude",
    "latitude",
    "accuracy",
    "page_url",
    "download_url",
    "license_name",
    "license_url",
    "server",
    "farm",
    "secret",
    "original_secret",
    "original_ext",
    "marker",
)
_ENCODED = ("nickname", "device", "title", "description", "user_tags", "machine_tags")
_EXTRA = (
    "page_url",
    "description",
    "user_tags",
    "date_taken",
    "date_uploaded",
    "longitude",
    "latitude",
    "device",
)


def _split(cells: list[str]) -> dict[str, str]:
    if len(cells) == 25:
        head = {"line_number": cells[0], "photo_id": cells[1], "photo_hash": cells[2]}
        return head | dict(zip(_COLUMNS, cells[3:], strict=True))
    return {"photo_id": cells[0]} | dict(zip(_COLUMNS, cells[1:], strict=True))


class YfccReader(LineReader):
    format = "yfcc100m"
    description = "YFCC100M Flickr metadata TSV (23 or 25 columns; photos only)"
    widths: ClassVar[frozenset[int]] = frozenset({23, 25})

    def sources(self, root: Path) -> list[SourceFile]:
        """As other line formats, plus the official suffix-less ``yfcc100m_dataset*``."""
        listed = super().sources(root)
        official = [] if root.is_file() else sorted(root.glob("yfcc100m_dataset*"))
        known = {s.path for s in listed}
        listed += [SourceFile.of(p, root) for p in official if p.is_file() and p not in known]
        return sorted(listed, key=lambda s: s.relpath)

    @classmethod
    def sniff(cls, root: Path) -> float:
        line = first_line(root)
        cells = [] if line is None else line.split("\t")
        if len(cells) not in cls.widths:
            return 0.0
        fields = _split(cells)
        plausible = fields["photo_id"].isdigit() and fields["marker"] in {"0", "1"}
        return 0.9 if plausible and "flickr" in fields["page_url"] else 0.0

    def parse(self, cells: list[str], row: int, path: str) -> dict[str, Any] | None:
        fields = _split(cells)
        if fields["marker"].strip() == "1":
            return None
        if not fields["photo_id"].strip().isdigit():
            raise BadRowError("photo id is not a number", path=path, row=row, column="photo id")
        for name in _ENCODED:
            fields[name] = unquote_plus(fields[name])
        record: dict[str, Any] = {
            "url": fields["download_url"],
            "caption": fields["title"],
            "key": fields["photo_id"].strip(),
            "flickr_photo_id": int(fields["photo_id"]),
            "flickr_owner": fields["nsid"],
            "author": fields["nickname"],
            "license": fields["license_name"],
            "license_url": fields["license_url"],
        }
        extras = ("line_number", "photo_hash", *_EXTRA)
        record |= {name: fields[name] for name in extras if name in fields}
        return {k: (v if v != "" else None) for k, v in record.items()}
