"""Issue 9 benchmark (speed): outputs/s of the near-copy check against a 1M-row release.

The real 14-photo training release of ``_nearcopy_set`` is grown to ``--rows`` rows: its
PDQ index gets ``rows`` synthetic hashes and its region index ``rows x 11`` (what 1M real
images give: 12 regions minus the flat ones), both realistic (random bits plus clusters of
near duplicates, ``pdq_index_speed.realistic_hashes``), then compacted as a long-lived
index would be. On ``--outputs`` simulated outputs, in one run:
- the near-copy check with 1 and 2 search threads;
- the baseline: plain image search (``search --image``, whole-image variants only);
- hashing alone (decode + ~45 variants + 18 tiles), to show where the time goes;
- that the verdicts at 1M rows equal those on the bare 14-photo release.
A warm-up check first pages the memory-mapped indexes in, so the timed runs are warm.

    python bench/nearcopy_throughput.py [--rows 1000000] [--outputs 240]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit
from _nearcopy_set import evaluation_set, training_release
from pdq_index_speed import realistic_hashes
from traindex.catalog.locations import loc_of
from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.index.binary import MultiIndexHashIndex
from traindex.nearcopy.check import NearCopyChecker
from traindex.nearcopy.tiles import pack_region_id
from traindex.search.images import ImageSearch

REGIONS = 11
SYNTHETIC_SHARD = 1  # the real rows live in catalog shard 0; synthetic ids never collide


def grow(settings: Settings, rows: int) -> dict[str, float]:
    """Add synthetic hashes to the release's two indexes and compact them; seconds taken."""
    release = settings.datasets_dir / "train" / "r1"
    rng = np.random.default_rng(9)
    locs = np.asarray([loc_of(SYNTHETIC_SHARD, r) for r in range(rows)], dtype=np.int64)
    started = time.perf_counter()
    pdq = MultiIndexHashIndex(release / "pdq")
    pdq.add(realistic_hashes(rows, rng), locs)
    pdq.merge()
    built_pdq = time.perf_counter() - started
    tiles = MultiIndexHashIndex(release / "nearcopy" / "tiles")
    region_ids = (locs[:, None] << 4 | np.arange(REGIONS)[None, :]).reshape(-1)
    assert region_ids[1] == pack_region_id(int(locs[0]), 1)
    tiles.add(realistic_hashes(rows * REGIONS, rng), region_ids)
    tiles.merge()
    return {"pdq": built_pdq, "regions": time.perf_counter() - started - built_pdq}


def timed(run: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--outputs", type=int, default=240)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nearcopy-speed-") as work:
        settings, training, others = training_release(Path(work))
        data = evaluation_set(training, others, seeds=3)
        pick = np.random.default_rng(1).choice(len(data), args.outputs, replace=False)
        files = [(data[i][1], data[i][2]) for i in sorted(pick.tolist())]
        small = NearCopyChecker.from_settings(settings).check(files)
        build = grow(settings, args.rows)
        NearCopyChecker.from_settings(settings).check(files[:40])  # warm: page in the indexes
        rows = []
        verdicts: dict[int, list[str]] = {}
        for workers in (1, 2):
            checker = NearCopyChecker.from_settings(settings, workers=workers)
            seconds, report = timed(lambda c=checker: c.check(files))
            verdicts[workers] = [r.verdict for r in report.results]
            rows.append(_row(f"near-copy check, {workers} thread(s)", seconds, len(files)))
        checker = NearCopyChecker.from_settings(settings)
        seconds, _ = timed(lambda: [checker._describe(n, d, points=False) for n, d in files])
        rows.append(_row("hashing only (decode, variants, tiles)", seconds, len(files)))
        seconds, _ = timed(lambda: ImageSearch(Catalog(settings)).search(files))
        rows.append(_row("baseline: search --image (whole image only)", seconds, len(files)))
    same = verdicts[1] == [r.verdict for r in small.results] == verdicts[2]
    meta = {"rows": args.rows, "region_hashes": args.rows * REGIONS, "outputs": len(files),
            "index_build_s": build, "verdicts_equal_small_release": same}  # fmt: skip
    emit("nearcopy_throughput", f"near-copy check vs {args.rows:,} rows", rows, meta)
    print(f"index build: {build}; verdicts at {args.rows:,} rows equal the small release: {same}")


def _row(what: str, seconds: float, outputs: int) -> dict[str, Any]:
    return {"run": what, "outputs": outputs, "seconds": seconds, "outputs/s": outputs / seconds}


if __name__ == "__main__":
    main()
