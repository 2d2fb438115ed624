"""Content-bound claims in the filter: which dataset URLs carry an image whose ISCC
Image-Code lies within the registry's radius of a declared ISCC.

The filter reads a dataset's own files, which hold URLs, not pixels; the pixels were read
when the catalog release was fingerprinted with ``--iscc``. So the match is made once, up
front, over that release's ISCC tables (every fingerprinted row's code against the claims,
in the home index, a snapshot's, or a registry server's bulk check API), and the result is
a map from the row's URL (as the catalog holds it, i.e. as the dataset file spells it) to
what the codes matched; the filter then removes input rows with those URLs. Rows whose
image was never fingerprinted cannot match: they are not "checked and clean", and the
summary says how many rows had an ISCC.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import pyarrow.compute as pc
import pyarrow.parquet as pq

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.errors import InputError
from traindex.jobs.iscc import read_iscc

__all__ = ["ContentMatches", "iscc_matches"]

Found = TypeVar("Found")
"""What a code matched: claim ids (in-process index) or a server's decision. Falsy: none."""


@dataclass(frozen=True, slots=True)
class ContentMatches(Generic[Found]):
    """URL -> what the rows' codes matched, and how many rows had an ISCC at all."""

    by_url: dict[str, list[Found]]
    rows_with_iscc: int


def iscc_matches(
    settings: Settings, dataset: str, match: Callable[[Sequence[str]], Sequence[Found]]
) -> ContentMatches[Found]:
    """Match every ISCC of ``dataset``'s releases (``NAME`` or ``NAME/RELEASE``) with
    ``match`` (Image-Code bodies in, one result per body out)."""
    releases = Catalog(settings).select(dataset)  # raises naming the known datasets
    by_url: dict[str, list[Found]] = {}
    counted = 0
    for release, _ in releases:
        table = read_iscc(release)
        if not len(table):
            raise InputError(
                f"release {release.dir.name} of {dataset!r} has no ISCC codes; "
                "run `traindex fingerprint --iscc` first"
            )
        counted += len(table)
        hits = match(table.column("iscc").to_pylist())
        for shard_id in sorted(set(table.column("shard").to_pylist())):
            in_shard = pc.equal(table.column("shard"), shard_id)
            rows = table.filter(in_shard).column("row").to_pylist()
            found = [h for h, keep in zip(hits, in_shard.to_pylist(), strict=True) if keep]
            if not any(found):
                continue
            urls = pq.read_table(release.shard_path(shard_id), columns=["url"]).column("url")
            for row, matched in zip(rows, found, strict=True):
                url = urls[row].as_py()
                if matched and url:
                    by_url.setdefault(url, []).append(matched)
    return ContentMatches(by_url, counted)
