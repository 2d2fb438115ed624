"""A catalog row as the row page shows it: user-facing labels, not column names.

The catalog's columns (``source_row``, ``url_raw``, ``extra``...) are names for code; a
photographer reading a row page needs to know what each value is. Derived columns that
only repeat another (``url_raw`` equal to ``url``) are left out; the dataset's own extra
columns (stored as one JSON object in ``extra``) are listed one per line under their
own names, marked as the dataset's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["RowField", "row_fields"]

# column -> label, in the order the page lists them; ``None``: shown elsewhere or merged
_LABELS: dict[str, str | None] = {
    "caption": "Caption",
    "url": "Image URL",
    "url_raw": "URL as the dataset writes it",
    "source_row": "Row in the source file (0-based)",
    "key": "Dataset's id for the image",
    "width": "Size (as the dataset states it)",
    "height": None,
    "license": "Licence",
    "license_raw": "Licence as the dataset writes it",
    "license_url": "Licence URL",
    "author": "Author",
    "flickr_owner": "Flickr account",
    "flickr_photo_id": "Flickr photo id",
    "host": "Website (host)",
    "domain": "Website (domain)",
    "sha256": "SHA-256 of the image (as the dataset records it)",
    "md5": "MD5 of the image (as the dataset records it)",
    "phash": "Perceptual hash (as the dataset records it)",
    "similarity": "Caption-image similarity (the dataset's CLIP score)",
    "punsafe": "Probability of unsafe content (the dataset's classifier)",
    "pwatermark": "Probability of a watermark (the dataset's classifier)",
    "nsfw": "Safety tag (the dataset's)",
    "language": "Caption language",
    "face_bboxes": "Face boxes (the dataset's)",
    "emb_file": "Embedding file",
    "emb_row": "Row in the embedding file",
}
_CODE = {"url", "url_raw", "license_url", "sha256", "md5", "phash", "key"}
_SAME_AS = {"url_raw": "url", "license_raw": "license"}


@dataclass(frozen=True, slots=True)
class RowField:
    label: str
    value: str
    code: bool = False


def _size(record: dict[str, Any]) -> str | None:
    width, height = record.get("width"), record.get("height")
    if width is None and height is None:
        return None
    return f"{width or '?'} x {height or '?'} pixels"


def _extra(raw: object) -> list[RowField]:
    try:
        data = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return [RowField("Other columns of the dataset", str(raw))]
    if not isinstance(data, dict):
        return [RowField("Other columns of the dataset", str(raw))]
    return [
        RowField(f"{name} (a column of the dataset)", str(value))
        for name, value in data.items()
        if value not in (None, "")
    ]


def row_fields(record: dict[str, Any]) -> list[RowField]:
    """The fields worth showing, labelled, in a fixed order; unknown columns last."""
    shown: list[RowField] = []
    for name, label in _LABELS.items():
        value = _size(record) if name == "width" else record.get(name)
        same = _SAME_AS.get(name)
        if label is None or value in (None, "") or (same and value == record.get(same)):
            continue
        shown.append(RowField(label, str(value), name in _CODE))
    unknown = [n for n in record if n not in _LABELS and n != "extra"]
    shown += [RowField(n, str(record[n])) for n in unknown if record[n] not in (None, "")]
    return shown + _extra(record.get("extra"))
