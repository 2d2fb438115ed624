"""Licence strings from dataset columns, reduced to one SPDX-like id.

Datasets spell the same licence many ways: LAION's ``LICENSE`` holds whatever CC link a
crawler found on the page (``http://creativecommons.org/licenses/by-nc-sa/3.0/deed.en_US``),
YFCC100M and the Flickr API use Flickr's names ("Attribution-NonCommercial-ShareAlike
License"), Open Images/CC3M credits use URLs, dataset cards use "CC BY 4.0". Evidence
reports and the builder's filter need one id per licence to compare and count, so:

- Creative Commons licences become SPDX ids: ``CC-BY-2.0``, ``CC-BY-NC-SA-4.0``, ported
  licences with their jurisdiction (``CC-BY-2.0-DE``); ``CC0-1.0``; ``PDM-1.0`` for the
  Public Domain Mark. A name without a version keeps none (``CC-BY-SA``), except Flickr's
  own versionless names, which Flickr documents as the 2.0 licences.
- Flickr's non-CC values get short ids: ``NKCR`` ("No known copyright restrictions",
  Flickr Commons), ``US-GOV-WORK`` ("United States Government Work"), ``ARR`` ("All
  Rights Reserved").
- Anything unrecognised, empty or ``?`` gives None: a wrong guess about a licence is worse
  than admitting that it is unknown.

``normalise_license`` is idempotent, so ids can be stored and re-normalised safely.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["commercial_use_allowed", "license_url", "normalise_license"]

_CC_VERSIONS = frozenset({"1.0", "2.0", "2.1", "2.5", "3.0", "4.0"})
_CC_TYPES = {
    "by": "BY",
    "by-sa": "BY-SA",
    "by-nd": "BY-ND",
    "by-nc": "BY-NC",
    "by-nc-sa": "BY-NC-SA",
    "by-nc-nd": "BY-NC-ND",
    "by-nd-nc": "BY-NC-ND",  # the 1.0 licence's URL spelling
}
_FLICKR_NAMES = {
    "attribution license": "CC-BY-2.0",
    "attribution-sharealike license": "CC-BY-SA-2.0",
    "attribution-noderivs license": "CC-BY-ND-2.0",
    "attribution-noncommercial license": "CC-BY-NC-2.0",
    "attribution-noncommercial-sharealike license": "CC-BY-NC-SA-2.0",
    "attribution-noncommercial-noderivs license": "CC-BY-NC-ND-2.0",
    "no known copyright restrictions": "NKCR",
    "united states government work": "US-GOV-WORK",
    "all rights reserved": "ARR",
    "public domain dedication (cc0)": "CC0-1.0",
    "public domain mark": "PDM-1.0",
}
_OTHER_IDS = {"nkcr": "NKCR", "arr": "ARR", "us-gov-work": "US-GOV-WORK"}
_OTHER_URLS = {"flickr.com/commons/usage": "NKCR", "usa.gov/copyright.shtml": "US-GOV-WORK"}
_UNKNOWN = frozenset({"", "?", "unknown", "none", "null", "nan", "n/a"})
# Words that decorate licence names without changing which licence is meant.
_FILLER = frozenset(
    {"creative", "commons", "cc", "license", "licence", "international", "generic"}
    | {"unported", "universal", "version", "public", "domain", "dedication", "zero"}
)
_ELEMENT_WORDS = (
    (re.compile(r"non[\s-]*commercial"), " nc "),
    (re.compile(r"no[\s-]*deriv(?:ative)?s"), " nd "),
    (re.compile(r"share[\s-]*alike"), " sa "),
    (re.compile(r"attribution"), " by "),
    (re.compile(r"public domain mark"), " pdm "),
)
_TOKEN_SPLIT = re.compile(r"[^a-z0-9.]+")
_VERSION = re.compile(r"v?(\d)(?:\.(\d))?")
_JURISDICTION = re.compile(r"[a-z]{2}|igo")
_CC_ID = re.compile(r"CC-((?:BY)(?:-NC)?(?:-SA|-ND)?)-(\d\.\d)(?:-([A-Z]{2,3}))?")
_CC_HOST = "creativecommons.org/"


def normalise_license(raw: str | None) -> str | None:
    """Return the SPDX-like id for a licence URL, name or id, or None if unrecognised."""
    if raw is None or not isinstance(raw, str):
        return None
    return _normalise(raw)


def license_url(spdx_id: str) -> str | None:
    """Canonical https creativecommons.org URL of a versioned CC licence id, else None.

    Any spelling ``normalise_license`` understands is accepted.
    """
    license_id = normalise_license(spdx_id)
    if license_id == "CC0-1.0":
        return "https://creativecommons.org/publicdomain/zero/1.0/"
    if license_id == "PDM-1.0":
        return "https://creativecommons.org/publicdomain/mark/1.0/"
    match = None if license_id is None else _CC_ID.fullmatch(license_id)
    if match is None:
        return None
    kind, version, jurisdiction = match.groups()
    ported = f"{jurisdiction.lower()}/" if jurisdiction else ""
    return f"https://creativecommons.org/licenses/{kind.lower()}/{version}/{ported}"


def commercial_use_allowed(spdx_id: str) -> bool | None:
    """Whether the licence itself permits commercial use; None when nobody can say.

    NC licences and "All Rights Reserved" say no; other CC licences, CC0, the Public Domain
    Mark and US government works say yes. "No known copyright restrictions" is an
    institution's belief, not a grant, so it gives None, as do unknown values.
    """
    license_id = normalise_license(spdx_id)
    if license_id is None or license_id == "NKCR":
        return None
    if license_id == "ARR":
        return False
    if license_id.startswith("CC-"):
        return "-NC" not in license_id
    return True


@lru_cache(maxsize=4096)
def _normalise(raw: str) -> str | None:
    # Datasets repeat a handful of licence strings millions of times, hence the cache.
    text = " ".join(raw.strip().lower().split())
    if text in _UNKNOWN:
        return None
    if text in _FLICKR_NAMES:
        return _FLICKR_NAMES[text]
    if text in _OTHER_IDS:
        return _OTHER_IDS[text]
    if _CC_HOST in text:
        return _from_cc_url(text.partition(_CC_HOST)[2])
    for suffix, license_id in _OTHER_URLS.items():
        if suffix in text and "://" in text:
            return license_id
    return _from_name(text)


def _from_cc_url(path: str) -> str | None:
    """Id from the path after ``creativecommons.org/``, e.g. ``licenses/by/2.0/de/deed.en``."""
    path = re.split(r"[?#\s]", path, maxsplit=1)[0]
    segments = [segment for segment in path.split("/") if segment]
    if len(segments) < 3:
        return None
    family, kind, version = segments[:3]
    if family == "publicdomain":
        known = {"zero": "CC0", "mark": "PDM"}
        return f"{known[kind]}-1.0" if kind in known and version == "1.0" else None
    if family not in ("licenses", "licences") or kind not in _CC_TYPES:
        return None
    if version not in _CC_VERSIONS:
        return None
    license_id = f"CC-{_CC_TYPES[kind]}-{version}"
    if len(segments) > 3 and _JURISDICTION.fullmatch(segments[3]):
        license_id += "-" + segments[3].upper()
    return license_id


def _from_name(text: str) -> str | None:
    """Id from a name such as "CC BY-NC 4.0", "Creative Commons Attribution 4.0 International"."""
    for pattern, replacement in _ELEMENT_WORDS:
        text = pattern.sub(replacement, text)
    elements: set[str] = set()
    versions: set[str] = set()
    jurisdictions: set[str] = set()
    for token in _TOKEN_SPLIT.split(text):
        if not token or token in _FILLER:
            continue
        version = _VERSION.fullmatch(token)
        if token in ("by", "nc", "nd", "sa", "cc0", "pdm"):
            elements.add(token)
        elif version is not None:
            versions.add(f"{version.group(1)}.{version.group(2) or '0'}")
        elif _JURISDICTION.fullmatch(token):
            jurisdictions.add(token.upper())
        else:
            return None
    if len(versions) > 1 or len(jurisdictions) > 1:
        return None
    return _assemble(elements, next(iter(versions), None), next(iter(jurisdictions), None))


def _assemble(elements: set[str], version: str | None, jurisdiction: str | None) -> str | None:
    if elements in ({"cc0"}, {"pdm"}):
        return (
            f"{elements.pop().upper()}-1.0"
            if version in (None, "1.0") and not jurisdiction
            else None
        )
    if "by" not in elements or elements - {"by", "nc", "nd", "sa"} or {"nd", "sa"} <= elements:
        return None
    if version is not None and version not in _CC_VERSIONS:
        return None
    parts = ["CC", "BY"] + [
        element.upper() for element in ("nc", "sa", "nd") if element in elements
    ]
    if version is not None:
        parts.append(version)
        if jurisdiction is not None:
            parts.append(jurisdiction)
    elif jurisdiction is not None:
        return None
    return "-".join(parts)
