"""The one decode-and-hash path shared by the dataset side and the query side.

PDQ distances are only meaningful if both sides turn bytes into pixels identically: the
same JPEG draft scale, the same luma conversion, the same working-copy resize. A
fingerprint job and a query therefore both call ``decode_for_hashing`` and
``query_variants``; the dataset side just uses a plan with fewer variants
(``DATASET_PLAN``: the image and its border-trimmed version).
"""

from __future__ import annotations

from traindex.fingerprint.images import DecodedImage, decode_image
from traindex.fingerprint.variants import DEFAULT_PLAN, VariantPlan

__all__ = ["DATASET_PLAN", "PIPELINE_VERSION", "decode_for_hashing"]

# Bump when a change here (or in the decoding and variants it calls) changes any output:
# fingerprints kept under the old number (the candidate cache) are then computed anew.
PIPELINE_VERSION = 1

DATASET_PLAN = VariantPlan(
    dihedral=False,
    aspects=(),
    crop_scales=(),
    crop_positions=(),
    rotations=(),
    rotation_crop=False,
    trim=True,
    working_side=DEFAULT_PLAN.working_side,
)


def decode_for_hashing(data: bytes, name: str, max_pixels: int) -> DecodedImage:
    """Luma pixels at the smallest JPEG scale that keeps the working side (both sides)."""
    return decode_image(
        data, name=name, max_pixels=max_pixels, min_side=DEFAULT_PLAN.working_side, grayscale=True
    )
