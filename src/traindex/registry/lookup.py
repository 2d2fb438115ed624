"""What ``registry check`` asks about an image file, and one answer for several items.

An image is checked by every digest a claim can be keyed by: SHA-256 and MD5 of its bytes
(same file), PDQ (same image; left out for a flat image, as claims leave it out) and the
ISCC Image-Code body (what content-bound TDM·AI declarations name). The digests are made
on the caller's side, so a remote registry never receives the image. The image's decision
is then the most restrictive of its digests' decisions, with every deciding claim named,
as if all its claims had matched one item (``DecisionIndex.resolve`` gives the same).
"""

from __future__ import annotations

from collections.abc import Sequence

from traindex.registry.models import RESTRICTIVENESS, Decision, Selector

__all__ = ["image_items", "merge_decisions"]


def image_items(data: bytes, *, name: str | None = None) -> list[str]:
    """``sha256:``, ``md5:``, ``pdq:`` and ``iscc:`` items of an image's bytes
    (``ClaimRejected`` if it cannot be decoded)."""
    selector = Selector.for_image(data, name=name)
    digests = (("sha256", selector.sha256), ("md5", selector.md5), ("pdq", selector.pdq),
               ("iscc", selector.iscc))  # fmt: skip
    return [f"{kind}:{value}" for kind, value in digests if value]


def merge_decisions(item: str, decisions: Sequence[Decision]) -> Decision:
    """One decision for ``item`` from the decisions of its digests: the most restrictive,
    naming every claim at that level; unreadable digests' errors are kept."""
    top = max((RESTRICTIVENESS[d.decision] for d in decisions), default=0)
    deciding = [d for d in decisions if RESTRICTIVENESS[d.decision] == top and d.claim_ids]
    claim_ids = tuple(dict.fromkeys(i for d in deciding for i in d.claim_ids))
    ignored = tuple(dict.fromkeys(i for d in decisions for i in d.unverified_claim_ids))
    errors = "; ".join(d.error for d in decisions if d.error) or None
    if not deciding:
        return Decision(item, "unknown", (), False, ignored, errors)
    verified = all(d.verified for d in deciding)
    return Decision(item, deciding[0].decision, claim_ids, verified, ignored, errors)
