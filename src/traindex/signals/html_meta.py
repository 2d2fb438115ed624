"""``<meta name=... content=...>`` pairs from the start of an HTML document.

Used by meta robots (``noai``) and TDMRep (``tdm-reservation``). The standard library's
tolerant ``html.parser`` is enough: only ``<meta>`` start tags matter, malformed markup must
never raise, and only the first ``max_bytes`` are parsed (meta tags belong in ``<head>``).
"""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["HTML_TYPES", "meta_tags"]

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class _MetaCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        values = {key.lower(): value for key, value in attrs if value is not None}
        name = values.get("name")
        content = values.get("content")
        if name is not None and content is not None:
            self.pairs.append((name.strip().lower(), content.strip()))


def meta_tags(body: bytes, max_bytes: int = 1_000_000) -> list[tuple[str, str]]:
    """``(lower-cased name, content)`` for every named ``<meta>`` tag, in document order."""
    text = body[:max_bytes].decode("utf-8", errors="replace")
    collector = _MetaCollector()
    collector.feed(text)
    collector.close()
    return collector.pairs
