"""Map a dataset's own column names onto traindex's canonical field names.

Datasets disagree on names (``URL``/``url``/``image_url``, ``TEXT``/``caption``/``text``)
and sometimes on meaning (raw laion2B files swap WIDTH and HEIGHT). Names are resolved
case-insensitively from an alias table, and a user mapping (``--columns url=URL,...``)
wins over the table. Unmapped columns are kept as JSON in ``extra``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from traindex.errors import InputError

__all__ = ["ALIASES", "CANONICAL_FIELDS", "ColumnMap", "parse_column_spec", "resolve_columns"]

ColumnMap = dict[str, str]

# canonical field -> accepted source names, most preferred first (compared case-insensitively)
ALIASES: Mapping[str, tuple[str, ...]] = {
    "url": ("url", "image_url", "image_urls", "originalurl", "photo_url", "download_url"),
    "caption": ("caption", "text", "captions", "alt", "title", "top_caption"),
    "key": ("key", "sample_id", "uid", "id", "hash", "image_path", "imageid", "photo_id"),
    "width": ("original_width", "width"),
    "height": ("original_height", "height"),
    "license": ("license", "licence", "license_name"),
    "license_url": ("license_url", "licence_url"),
    "nsfw": ("nsfw",),
    "punsafe": ("punsafe", "nsfw_score_opennsfw2"),
    "pwatermark": ("pwatermark", "watermark_score"),
    "similarity": ("similarity", "clip_b32_similarity_score", "clip_similarity_vitb32"),
    "sha256": ("sha256",),
    "md5": ("md5", "originalmd5"),
    "phash": ("image_phash", "phash"),
    "flickr_owner": (
        "user_nsid",
        "nsid",
        "owner",
        "flickr_owner",
        "authorprofileurl",
        "flickr_page",
        "originallandingurl",
    ),
    "flickr_photo_id": ("flickr_photo_id",),
    "author": ("author", "user_nickname", "photographer"),
    "status": ("status",),
    "error_message": ("error_message",),
    "face_bboxes": ("face_bboxes",),
    "language": ("language",),
}

CANONICAL_FIELDS: tuple[str, ...] = tuple(ALIASES)


def parse_column_spec(spec: str | None) -> ColumnMap:
    """Parse ``url=URL,caption=TEXT`` into ``{"url": "URL", "caption": "TEXT"}``."""
    if not spec:
        return {}
    mapping: ColumnMap = {}
    for part in spec.split(","):
        field, sep, source = part.partition("=")
        field, source = field.strip().lower(), source.strip()
        if not sep or not field or not source:
            raise InputError(f"--columns entry {part!r} is not FIELD=COLUMN")
        if field not in ALIASES:
            raise InputError(
                f"--columns names unknown field {field!r}; known: {', '.join(CANONICAL_FIELDS)}"
            )
        mapping[field] = source
    return mapping


def resolve_columns(
    available: Iterable[str],
    *,
    path: str,
    overrides: Mapping[str, str] | None = None,
    required: Iterable[str] = ("url",),
) -> ColumnMap:
    """Return canonical field -> source column for the columns present in a file.

    Raises ``InputError`` naming the file, the missing field and the columns that exist,
    so a user can answer with ``--columns``.
    """
    names = list(available)
    by_lower = {name.lower(): name for name in names}
    resolved: ColumnMap = {}
    for field, source in (overrides or {}).items():
        if source not in names and source.lower() not in by_lower:
            raise InputError(
                f"--columns maps {field} to {source!r}, which is not a column; "
                f"columns are: {', '.join(names)}",
                path=path,
            )
        resolved[field] = source if source in names else by_lower[source.lower()]
    taken = set(resolved.values())
    for field, aliases in ALIASES.items():
        if field in resolved:
            continue
        for alias in aliases:
            found = by_lower.get(alias)
            if found is not None and found not in taken:
                resolved[field] = found
                taken.add(found)
                break
    for field in required:
        if field not in resolved:
            raise InputError(
                f"no {field} column found; columns are: {', '.join(names) or '(none)'}; "
                f"name it with --columns {field}=COLUMN",
                path=path,
                column=field,
            )
    return resolved
