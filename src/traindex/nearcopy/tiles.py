"""Region hashes: a 3 x 3 tile grid and centre crops, identical on both sides.

Why: a generated image that copies a training image *partly* (a region regenerated, the
borders cut, a copied region placed on a new background) is far from it as a whole PDQ
hash (measured on 56 real photos: a fifth of the frame replaced moves it 48-64 bits, median;
unrelated photos sit at 92+). Its unchanged regions are not. Both sides therefore hash the
same regions of the same working copy:

* ``tile:R,C`` - the 9 cells of a 3 x 3 grid (row R, column C). A copy at another size or
  colour keeps its framing, so tile k of the output lines up with tile k of the training
  image; tiles far from the regenerated region still agree (a 0.6x, recoloured, JPEG q60
  copy's tiles: median 14 bits, p90 26; unrelated photos' tiles at the same position: 68+).
* ``crop:S@c`` - centred crops (dataset side only, ``DATASET_CROPS``): an output whose
  borders were cut matches the training image's centre crop as a whole.

A tile hit only counts against the *same* tile position (or a whole image, see
``nearcopy.evidence``): position consistency is what keeps unrelated texture from matching.
Index ids pack the catalog location and the region number: ``loc << 4 | region``.
"""

from __future__ import annotations

from PIL import Image

from traindex.fingerprint.base import Fingerprint
from traindex.fingerprint.images import decode_image
from traindex.fingerprint.pdq import PdqFingerprinter
from traindex.fingerprint.variants import crop_variants, trim_uniform_border, working_copy

__all__ = [
    "DATASET_CROPS",
    "GRID",
    "REGION_BITS",
    "TILE_SIDE",
    "dataset_regions",
    "decode_for_tiles",
    "grid_tiles",
    "pack_region_id",
    "query_tiles",
    "region_name",
    "unpack_region_id",
]

GRID = 3
"""Tiles per side: 3 x 3 keeps each tile big enough for PDQ (10% are still too flat)."""
TILE_SIDE = 192
"""Tiles are cut from a luma copy whose shorter side is this: a cell is then 64 pixels, the
size PDQ hashes, so a cell holding a pasted training image is not blurred by upscaling."""
DATASET_CROPS: tuple[float, ...] = (0.9, 0.8, 0.7)
"""Centre crops stored per training image: an output with its borders cut this far."""
REGION_BITS = 4
_REGIONS = [f"tile:{r},{c}" for r in range(GRID) for c in range(GRID)]
_REGIONS += [f"crop:{s:g}@c" for s in DATASET_CROPS]


def decode_for_tiles(data: bytes, name: str, max_pixels: int) -> Image.Image:
    """Luma pixels for region hashing, decoded alike on both sides (at least ``TILE_SIDE``
    on the shorter side, JPEG draft-scaled like ``search.hashing``)."""
    return decode_image(
        data, name=name, max_pixels=max_pixels, min_side=TILE_SIDE, grayscale=True
    ).image


def region_name(number: int) -> str:
    """``tile:R,C`` or ``crop:S@c`` for a region number stored in an index id."""
    return _REGIONS[number]


def pack_region_id(loc: int, number: int) -> int:
    """Index id of region ``number`` of catalog location ``loc``."""
    return (loc << REGION_BITS) | number


def unpack_region_id(region_id: int) -> tuple[int, int]:
    """``(catalog location, region number)`` of a tile-index id."""
    return region_id >> REGION_BITS, region_id & ((1 << REGION_BITS) - 1)


def _working(image: Image.Image) -> Image.Image:
    # the query variants' working copy (luma, BOX-resized), at the tile side
    return working_copy(image, TILE_SIDE)


def grid_tiles(image: Image.Image, hasher: PdqFingerprinter, prefix: str = "") -> list[Fingerprint]:
    """PDQ of the 9 grid cells, named ``<prefix>tile:R,C`` in row-major order."""
    work = _working(image)
    width, height = work.size
    hashes = []
    for number in range(GRID * GRID):
        row, col = divmod(number, GRID)
        box = (
            round(col * width / GRID),
            round(row * height / GRID),
            round((col + 1) * width / GRID),
            round((row + 1) * height / GRID),
        )
        hashes.append(hasher.hash_image(work.crop(box), variant=prefix + _REGIONS[number]))
    return hashes


def dataset_regions(image: Image.Image, hasher: PdqFingerprinter) -> list[Fingerprint]:
    """The 12 region hashes stored per training image (grid tiles, then centre crops)."""
    crops = crop_variants(_working(image), DATASET_CROPS, ("c",))
    return grid_tiles(image, hasher) + [hasher.hash_image(im, variant=n) for n, im in crops]


def query_tiles(image: Image.Image, hasher: PdqFingerprinter) -> list[Fingerprint]:
    """Grid tiles of the output and, when it has a uniform border, of the trimmed output
    (named ``trim/tile:R,C``): a frame or padding would shift every cell otherwise."""
    tiles = grid_tiles(image, hasher)
    trimmed = trim_uniform_border(_working(image))
    if trimmed is not None:
        tiles += grid_tiles(trimmed, hasher, prefix="trim/")
    return tiles
