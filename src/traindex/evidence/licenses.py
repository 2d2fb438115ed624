"""Licence audit of a dataset release, and the attribution list its CC rows require.

The audit counts rows per normalised licence id (``core.licenses``; the catalog stores the
id at ingest) and says, from each licence's own terms, whether it permits commercial use
and which conditions travel with it. The attribution list is what a builder who keeps
only CC-licensed rows must publish: per row the author, title (the caption), the source
URL, the licence and its URL — the TASL fields Creative Commons asks for.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

import pyarrow.compute as pc
import pyarrow.parquet as pq

from traindex.catalog.manifest import Manifest
from traindex.catalog.store import Catalog, Release
from traindex.core.flickr import parse_flickr_url
from traindex.core.licenses import commercial_use_allowed, license_url
from traindex.errors import InputError
from traindex.evidence.render import template_env

__all__ = [
    "Attribution",
    "AttributionScope",
    "LicenseAudit",
    "LicenseCount",
    "attribution_csv",
    "attribution_html",
    "attribution_list",
    "audit_licenses",
    "license_family",
    "parse_scope",
    "write_attribution",
]

AttributionScope = Literal["attribution", "commercial", "cc"]
_FAMILIES = {
    "CC0-1.0": "CC0",
    "PDM-1.0": "Public Domain Mark",
    "NKCR": "No known copyright restrictions",
    "US-GOV-WORK": "US government work",
    "ARR": "All rights reserved",
}
_CONDITIONS = (
    ("BY", "attribution"),
    ("NC", "non-commercial"),
    ("SA", "share-alike"),
    ("ND", "no derivatives"),
)
_ROW_COLUMNS = [
    "source_row",
    "url",
    "caption",
    "license",
    "author",
    "flickr_owner",
    "flickr_photo_id",
    "extra",
]


def license_family(license_id: str | None) -> str:
    """``CC-BY-NC-SA-4.0`` -> ``CC BY-NC-SA``; ``None`` -> ``unknown``."""
    if license_id is None:
        return "unknown"
    if license_id in _FAMILIES:
        return _FAMILIES[license_id]
    parts = [p for p in license_id.split("-")[1:] if p.isalpha() and p.isupper() and len(p) == 2]
    elements = [p for p in parts if p in {"BY", "NC", "SA", "ND"}]
    return "CC " + "-".join(elements)


def _conditions(license_id: str | None) -> list[str]:
    if license_id is None or not license_id.startswith("CC-"):
        return []
    parts = set(license_id.split("-"))
    return [words for code, words in _CONDITIONS if code in parts]


@dataclass(frozen=True, slots=True)
class LicenseCount:
    """Rows under one licence id and what its terms allow."""

    license: str | None
    family: str
    rows: int
    share: float
    commercial_use: bool | None
    conditions: list[str]
    license_url: str | None


@dataclass(frozen=True, slots=True)
class LicenseAudit:
    """Licence counts of one release; ``commercial_share`` counts only explicit grants."""

    dataset: str
    release: str
    rows: int
    licenses: list[LicenseCount]

    @property
    def commercial_rows(self) -> int:
        return sum(c.rows for c in self.licenses if c.commercial_use is True)

    @property
    def commercial_share(self) -> float:
        return self.commercial_rows / self.rows if self.rows else 0.0

    def by_family(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for c in self.licenses:
            counts[c.family] += c.rows
        return dict(counts.most_common())

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "release": self.release,
            "rows": self.rows,
            "commercial_rows": self.commercial_rows,
            "commercial_share": round(self.commercial_share, 6),
            "by_family": self.by_family(),
            "licenses": [asdict(c) | {"share": round(c.share, 6)} for c in self.licenses],
        }


def _shards(release: Release, manifest: Manifest) -> Iterator[pq.ParquetFile]:
    for source in manifest.sources:
        yield pq.ParquetFile(release.shard_path(source.id))


def _audit(release: Release, manifest: Manifest) -> LicenseAudit:
    counts: Counter[str | None] = Counter()
    for shard in _shards(release, manifest):
        for entry in pc.value_counts(shard.read(columns=["license"]).column("license")):
            counts[entry["values"].as_py()] += entry["counts"].as_py()
    total = sum(counts.values())
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or ""))
    return LicenseAudit(
        manifest.name,
        manifest.release,
        total,
        [
            LicenseCount(
                license=lic,
                family=license_family(lic),
                rows=n,
                share=n / total,
                commercial_use=commercial_use_allowed(lic) if lic else None,
                conditions=_conditions(lic),
                license_url=license_url(lic) if lic else None,
            )
            for lic, n in items
        ],
    )


def audit_licenses(catalog: Catalog, dataset: str) -> list[LicenseAudit]:
    """One audit per release of ``dataset`` (``NAME`` or ``NAME/RELEASE``)."""
    return [_audit(release, manifest) for release, manifest in catalog.select(dataset)]


@dataclass(frozen=True, slots=True)
class Attribution:
    """One attribution line: title, author, source, licence (and where the row is)."""

    author: str
    title: str
    source_url: str
    license: str
    license_url: str | None
    dataset: str
    release: str
    source_file: str
    row: int


_SCOPES: dict[str, Callable[[str], bool]] = {
    "attribution": lambda lic: "attribution" in _conditions(lic),
    "commercial": lambda lic: (
        "attribution" in _conditions(lic) and commercial_use_allowed(lic) is True
    ),
    "cc": lambda lic: lic.startswith("CC"),
}


def _source_url(record: dict[str, Any]) -> str:
    """The photo's page when the dataset names a Flickr owner and photo, else the row URL."""
    photo_id = record["flickr_photo_id"]
    extra = json.loads(record["extra"]) if record["extra"] else {}
    for candidate in (record["url"], extra.get("flickr_url")):
        ref = parse_flickr_url(candidate) if photo_id is None and candidate else None
        photo_id = ref.photo_id if ref is not None else photo_id
    owner = record["flickr_owner"]
    if owner and photo_id:
        return f"https://www.flickr.com/photos/{owner}/{photo_id}"
    return str(record["url"])


def attribution_list(
    catalog: Catalog, dataset: str, scope: AttributionScope = "attribution"
) -> Iterator[Attribution]:
    """Rows of ``dataset`` in ``scope`` (licences needing attribution by default)."""
    keep = _SCOPES[scope]
    for release, manifest in catalog.select(dataset):
        for source, shard in zip(manifest.sources, _shards(release, manifest), strict=True):
            for batch in shard.iter_batches(columns=_ROW_COLUMNS, batch_size=8192):
                for record in batch.to_pylist():
                    lic = record["license"]
                    if lic is None or not keep(lic):
                        continue
                    yield Attribution(
                        author=record["author"] or record["flickr_owner"] or "unknown author",
                        title=record["caption"] or "untitled",
                        source_url=_source_url(record),
                        license=lic,
                        license_url=license_url(lic),
                        dataset=manifest.name,
                        release=manifest.release,
                        source_file=source.relpath,
                        row=int(record["source_row"]),
                    )


def attribution_csv(rows: list[Attribution]) -> str:
    out = io.StringIO()
    names = list(Attribution.__dataclass_fields__)
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(r) for r in rows)
    return out.getvalue()


def attribution_html(rows: list[Attribution], dataset: str) -> str:
    """A self-contained page listing each work as "Title" by Author, source, licence."""
    return template_env().get_template("attribution.html.j2").render(rows=rows, dataset=dataset)


def parse_scope(value: str) -> AttributionScope:
    """Validate a scope name given by a user."""
    for scope in get_args(AttributionScope):
        if value == scope:
            return cast(AttributionScope, scope)
    raise InputError(f"unknown scope {value!r}; choose attribution, commercial or cc")


def write_attribution(rows: list[Attribution], path: Path, dataset: str) -> None:
    """Write the list as CSV or HTML, chosen by the file's extension."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        path.write_text(attribution_csv(rows), encoding="utf-8")
    elif suffix in (".html", ".htm"):
        path.write_text(attribution_html(rows, dataset), encoding="utf-8")
    else:
        raise InputError("attribution lists are written as .csv or .html", path=str(path))
