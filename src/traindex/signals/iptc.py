"""IPTC Photo Metadata / PLUS ``plus:DataMining`` and ``plus:OtherConstraints`` in XMP.

The raw XMP packet is taken from Pillow (JPEG APP1, PNG iTXt, WebP ``XMP `` chunk, TIFF tag
700) and parsed with ``defusedxml`` - XMP is attacker-supplied XML, so entity expansion and
external entities must be refused. Pillow's own ``getxmp()`` drops namespaces, which would
let any ``DataMining`` element count; here only the PLUS namespace does, under any prefix and
in all three RDF encodings (attribute, element text, ``rdf:resource``). When Pillow cannot
open the bytes (truncated download, unknown container) the packet is searched for directly.

Values map per the PLUS vocabulary: ``DMI-ALLOWED`` allowed, ``DMI-PROHIBITED*`` reserved
(unknown ``DMI-PROHIBITED-...`` terms too), ``DMI-UNSPECIFIED`` or no field = no statement.
IPTC display labels written literally by tools are mapped as well; anything else is a
statement traindex cannot read, hence ``unknown`` with ``Basis.ERROR``.
Not supported: JPEG Extended XMP split over several APP1 segments (rare).
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from PIL import Image, UnidentifiedImageError

from traindex.signals.base import Basis, CheckContext, CheckResult, Resource, Verdict

__all__ = ["IptcChecker", "XmpRights", "classify", "extract_xmp", "read_rights"]

PLUS = "http://ns.useplus.org/ldf/xmp/1.0/"
VOCAB = "http://ns.useplus.org/ldf/vocab/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_PACKET = re.compile(rb"<x:xmpmeta\b.*?</x:xmpmeta>", re.DOTALL)
_LABELS = {
    "unspecified - no prohibition defined": "DMI-UNSPECIFIED",
    "allowed": "DMI-ALLOWED",
    "prohibited for ai/ml training": "DMI-PROHIBITED-AIMLTRAINING",
    "prohibited for generative ai/ml training": "DMI-PROHIBITED-GENAIMLTRAINING",
    "prohibited except for search engine indexing": "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING",
    "prohibited": "DMI-PROHIBITED",
}


class XmpError(ValueError):
    """The XMP packet is not well-formed or tries entity tricks."""


@dataclass(frozen=True, slots=True)
class XmpRights:
    """What the XMP says: the DataMining value (full URI or term) and OtherConstraints text."""

    data_mining: str | None
    other_constraints: str | None


def extract_xmp(data: bytes) -> bytes | None:
    """The raw XMP packet of a JPEG/PNG/WebP/TIFF, or ``None`` if there is none."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                packet = image.info.get("xmp")
                if packet is None and hasattr(image, "tag_v2"):
                    packet = image.tag_v2.get(700)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        match = _PACKET.search(data)
        return match.group(0) if match else None
    if isinstance(packet, str):
        return packet.encode("utf-8")
    return bytes(packet) if isinstance(packet, bytes | bytearray) else None


def _text_of(element: Element) -> str | None:
    items = [li.text.strip() for li in element.iter(f"{{{RDF}}}li") if li.text and li.text.strip()]
    if items:
        return items[0]
    return element.text.strip() if element.text and element.text.strip() else None


def _field(root: Element, name: str) -> str | None:
    tag = f"{{{PLUS}}}{name}"
    for element in root.iter():
        if tag in element.attrib:
            return element.attrib[tag].strip()
        if element.tag == tag:
            resource = element.attrib.get(f"{{{RDF}}}resource")
            return resource.strip() if resource else _text_of(element)
    return None


def read_rights(packet: bytes) -> XmpRights:
    """Parse ``packet`` (XXE-safe); raise ``XmpError`` for malformed or hostile XML."""
    start = packet.find(b"<x:xmpmeta")
    end = packet.rfind(b"</x:xmpmeta>")
    body = packet[start : end + len(b"</x:xmpmeta>")] if 0 <= start < end else packet
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise XmpError(f"XMP packet is not well-formed XML: {exc}") from exc
    return XmpRights(_field(root, "DataMining"), _field(root, "OtherConstraints"))


def classify(value: str | None) -> tuple[Verdict, Basis]:
    """Verdict for a ``plus:DataMining`` value (full URI, bare term or IPTC label)."""
    if value is None:
        return Verdict.UNKNOWN, Basis.ABSENT
    term = value.removeprefix(VOCAB).strip()
    term = _LABELS.get(term.lower(), term).upper()
    if term == "DMI-ALLOWED":
        return Verdict.ALLOWED, Basis.STATEMENT
    if term == "DMI-UNSPECIFIED":
        return Verdict.UNKNOWN, Basis.ABSENT
    if term.startswith("DMI-PROHIBITED"):
        return Verdict.RESERVED, Basis.STATEMENT
    return Verdict.UNKNOWN, Basis.ERROR


def _result(resource: Resource, rights: XmpRights) -> CheckResult:
    verdict, basis = classify(rights.data_mining)
    source = f"{resource.source} XMP plus:DataMining"
    raw = rights.data_mining
    if rights.other_constraints:
        raw = f"{raw}; OtherConstraints: {rights.other_constraints}"
    reasons = {
        (Verdict.RESERVED, Basis.STATEMENT): "IPTC Data Mining prohibits this use",
        (Verdict.ALLOWED, Basis.STATEMENT): "IPTC Data Mining allows it",
        (Verdict.UNKNOWN, Basis.ABSENT): "no IPTC Data Mining statement (absent or unspecified)",
        (Verdict.UNKNOWN, Basis.ERROR): "unrecognised plus:DataMining value",
    }
    return CheckResult(
        "iptc", verdict, basis, source, raw, reasons[(verdict, basis)], resource.fetched_at
    )


class IptcChecker:
    """``plus:DataMining`` in the image's XMP; ``None`` for HTML and other non-images."""

    signal = "iptc"

    async def check(self, resource: Resource, context: CheckContext) -> CheckResult | None:
        """Read the XMP of an image resource (fetched or local)."""
        if resource.error is not None or not _looks_like_image(resource):
            return None
        at = resource.fetched_at
        packet = extract_xmp(resource.body)
        if packet is None:
            why = "no XMP packet" + ("" if resource.complete else " in the part read (body cut)")
            basis = Basis.ABSENT if resource.complete else Basis.ERROR
            return CheckResult(self.signal, Verdict.UNKNOWN, basis, resource.source, None, why, at)
        try:
            rights = read_rights(packet)
        except XmpError as exc:
            return CheckResult(
                self.signal, Verdict.UNKNOWN, Basis.ERROR, resource.source, None, str(exc), at
            )
        return _result(resource, rights)


_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"GIF8")


def _looks_like_image(resource: Resource) -> bool:
    body = resource.body
    if body.startswith(_MAGIC) or (body[:4] == b"RIFF" and body[8:12] == b"WEBP"):
        return True
    return resource.content_type.startswith("image/")
