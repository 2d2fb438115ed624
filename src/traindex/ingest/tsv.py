"""Conceptual Captions TSVs and plain URL lists: headerless, one sample per line.

Formats (parsing rules in ``_lines``):

* ``cc3m-tsv`` -- ``Train_GCC-training.tsv`` / validation: ``caption \\t url``; the
  ``caption\\turl`` header img2dataset prepends is skipped.
* ``cc12m-tsv`` -- ``cc12m.tsv``: ``url \\t caption`` (the other order), header
  ``url\\tcaption`` skipped.
* ``urls-txt`` -- an img2dataset input list (``test_10000.txt``): one URL per line.

The two CC layouts differ only in column order, so sniffing looks at which cell of the
first line is a URL. A line's number is the dataset's own id for these sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from traindex.ingest._lines import LineReader, first_line

__all__ = ["Cc3mReader", "Cc12mReader", "UrlListReader"]

_SCHEMES = ("http://", "https://")


def _cells(root: Path) -> list[str]:
    line = first_line(root)
    return [] if line is None else line.split("\t")


def _is_url(cell: str) -> bool:
    return cell.strip().lower().startswith(_SCHEMES)


class _TwoColumnReader(LineReader):
    widths: ClassVar[frozenset[int]] = frozenset({2})
    order: ClassVar[tuple[str, str]]

    @classmethod
    def sniff(cls, root: Path) -> float:
        cells = _cells(root)
        if len(cells) != 2:
            return 0.0
        if tuple(c.strip().lower() for c in cells) == cls.header:
            return 0.9
        return 0.8 if _is_url(cells[cls.order.index("url")]) else 0.0

    def parse(self, cells: list[str], row: int, path: str) -> dict[str, Any] | None:
        del row, path
        record = dict(zip(self.order, cells, strict=True))
        record["url"] = record["url"].strip()
        return record


class Cc3mReader(_TwoColumnReader):
    format = "cc3m-tsv"
    description = "Conceptual Captions 3M TSV, headerless: caption<TAB>url"
    order = ("caption", "url")
    header = ("caption", "url")


class Cc12mReader(_TwoColumnReader):
    format = "cc12m-tsv"
    description = "Conceptual 12M TSV, headerless: url<TAB>caption"
    order = ("url", "caption")
    header = ("url", "caption")


class UrlListReader(LineReader):
    format = "urls-txt"
    description = "img2dataset input list: one URL per line (.txt)"
    widths: ClassVar[frozenset[int]] = frozenset({1})
    header = ("url",)

    @classmethod
    def sniff(cls, root: Path) -> float:
        cells = _cells(root)
        return 0.8 if len(cells) == 1 and _is_url(cells[0]) else 0.0

    def parse(self, cells: list[str], row: int, path: str) -> dict[str, Any] | None:
        del row, path
        return {"url": cells[0].strip()}
