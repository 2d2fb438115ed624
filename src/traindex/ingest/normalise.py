"""Turn a reader's ``RAW_SCHEMA`` batch into catalog rows (``SAMPLE_SCHEMA``).

Every format goes through this one step, so a URL, domain, Flickr id or licence means the
same thing whichever dataset it came from. Rows whose URL cannot be canonicalised are bad
rows (reported with file, row and reason); rows that img2dataset marked as failed
(``status`` other than ``success``) are split off: they are counted, not searched.
"""

from __future__ import annotations

import base64
import binascii
import string
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from traindex.core.distinct import map_distinct
from traindex.core.flickr import flickr_owner, parse_flickr_url
from traindex.core.licenses import normalise_license
from traindex.core.urlbatch import UrlBatch, canonicalise_urls
from traindex.errors import BadRowError
from traindex.ingest.base import RAW_SCHEMA, ReaderOptions

__all__ = ["DICTIONARY_COLUMNS", "SAMPLE_SCHEMA", "NormalisedBatch", "normalise_batch"]

_DERIVED = [
    ("url_raw", pa.string()),
    ("host", pa.string()),
    ("domain", pa.string()),
    ("license_raw", pa.string()),
]
SAMPLE_SCHEMA = pa.schema(
    [f for f in RAW_SCHEMA if f.name not in ("status", "error_message")]
    + [pa.field(name, typ) for name, typ in _DERIVED]
)

DICTIONARY_COLUMNS = (
    "license",
    "license_raw",
    "license_url",
    "nsfw",
    "language",
    "emb_file",
    "host",
    "domain",
)


@dataclass(frozen=True, slots=True)
class NormalisedBatch:
    """Searchable rows, plus how many rows were failures and why (status -> count)."""

    rows: pa.RecordBatch
    failed: dict[str, int]


def _digest(raw: str, size: int) -> str | None:
    """Lower-case hex of a digest given as hex or base64 (Open Images writes base64 MD5)."""
    text = raw.strip()
    if len(text) == 2 * size and all(c in string.hexdigits for c in text):
        return text.lower()
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded.hex() if len(decoded) == size else None


def _sha256(raw: str) -> str | None:
    return _digest(raw, 32)


def _md5(raw: str) -> str | None:
    return _digest(raw, 16)


def _license(raw: str) -> str | None:
    return normalise_license(raw)


def _owner(raw: str) -> str | None:
    return flickr_owner(raw, bare_alias=True)


def _photo_ids(batch: pa.RecordBatch, hosts: pa.Array, urls: pa.Array) -> pa.Array:
    """The dataset's own Flickr photo id, else one parsed from a Flickr URL."""
    given = batch.column("flickr_photo_id")
    flickr = pc.fill_null(pc.match_substring(hosts, "flic"), False)
    if not pc.any(flickr).as_py():
        return given
    ids = given.to_pylist()
    for i in pc.indices_nonzero(flickr).to_pylist():
        if ids[i] is None:
            ref = parse_flickr_url(urls[i].as_py())
            ids[i] = ref.photo_id if ref else None
    return pa.array(ids, pa.int64())


def _split_failed(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, dict[str, int]]:
    status = batch.column("status")
    if status.null_count == len(status):
        return batch, {}
    ok = pc.or_(pc.is_null(status), pc.equal(status, pa.scalar("success")))
    failed = batch.filter(pc.invert(ok))
    counts: dict[str, int] = {}
    for st, msg in zip(
        failed.column("status").to_pylist(), failed.column("error_message").to_pylist(), strict=True
    ):
        reason = f"{st}: {msg}" if msg else str(st)
        counts[reason] = counts.get(reason, 0) + 1
    return batch.filter(ok), counts


def normalise_batch(
    batch: pa.RecordBatch,
    options: ReaderOptions,
    *,
    path: str,
    max_url_chars: int,
    url_required: bool = True,
) -> NormalisedBatch:
    """Canonicalise URLs and derive host, domain, Flickr id/owner and licence id.

    A row without a URL is a bad row unless ``url_required`` is False (it then stays,
    findable by key or image but not by URL).
    """
    batch, failed = _split_failed(batch)
    raw = batch.column("url")
    canon = canonicalise_urls(raw, max_chars=max_url_chars)
    if canon.errors:
        rows = batch.column("source_row")
        for i, exc in canon.errors:
            if url_required or raw[i].is_valid:
                row = rows[i].as_py()
                options.bad_row(BadRowError(str(exc), path=path, row=row, column="url"))
        keep = (
            pc.or_(pc.is_valid(canon.url), pc.is_null(raw))
            if not url_required
            else pc.is_valid(canon.url)
        )
        batch = batch.filter(keep)
        canon = UrlBatch(
            pc.filter(canon.url, keep),
            pc.filter(canon.host, keep),
            pc.filter(canon.domain, keep),
            [],
        )
    derived = {
        "url": canon.url,
        "url_raw": batch.column("url"),
        "host": canon.host,
        "domain": canon.domain,
        "flickr_photo_id": _photo_ids(batch, canon.host, canon.url),
        "flickr_owner": map_distinct(batch.column("flickr_owner"), _owner, pa.string()),
        "license": map_distinct(batch.column("license"), _license, pa.string()),
        "license_raw": batch.column("license"),
        "sha256": map_distinct(batch.column("sha256"), _sha256, pa.string()),
        "md5": map_distinct(batch.column("md5"), _md5, pa.string()),
    }
    arrays = [derived[f.name] if f.name in derived else batch.column(f.name) for f in SAMPLE_SCHEMA]
    return NormalisedBatch(pa.RecordBatch.from_arrays(arrays, schema=SAMPLE_SCHEMA), failed)
