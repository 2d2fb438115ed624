"""Issue 9 benchmark (quality): does the near-copy check call copies copies and novel novel?

On the evaluation set of ``_nearcopy_set`` (simulated outputs of 14 real training photos,
9 edit families, plus novel photos and random views of them), in one run:
- the near-copy check (whole-image PDQ with query variants + 3 x 3 grid tiles + the region
  index): recall of ``copy``+``near_copy`` per family, and precision over all outputs;
- the baseline: plain image search (``search --image``: whole-image PDQ with the same query
  variants, no regions), counting any ``same_image`` match as positive.

    python bench/nearcopy_quality.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit
from _nearcopy_set import evaluation_set, training_release
from traindex.catalog.store import Catalog
from traindex.nearcopy.check import NearCopyChecker
from traindex.search.images import ImageSearch

POSITIVE = ("copy", "near_copy")
UNSEEN = "pasted_anywhere"  # a copy at a random place and scale: what PDQ cannot see


def _rows(
    families: list[str], full: dict[str, str], base: dict[str, bool], names: list[str]
) -> list[dict[str, Any]]:
    rows = []
    for family in dict.fromkeys(families):
        chosen = [n for n, f in zip(names, families, strict=True) if f == family]
        verdicts = Counter(full[n] for n in chosen)
        found = sum(full[n] in POSITIVE for n in chosen)
        found_base = sum(base[n] for n in chosen)
        what = "false positives" if family == "novel" else "recall"
        rows.append(
            {
                "family": family,
                "outputs": len(chosen),
                "measure": what,
                "near-copy check": f"{found / len(chosen):.2f}",
                "baseline (search --image)": f"{found_base / len(chosen):.2f}",
                "verdicts": ", ".join(f"{v} {c}" for v, c in verdicts.most_common()),
            }
        )
    return rows


def _precision(families: list[str], names: list[str], positive: dict[str, bool]) -> float:
    flagged = [f for n, f in zip(names, families, strict=True) if positive[n]]
    return sum(f != "novel" for f in flagged) / max(1, len(flagged))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nearcopy-bench-") as work:
        settings, training, others = training_release(Path(work))
        data = evaluation_set(training, others, args.seeds)
        files = [(name, blob) for _, name, blob in data]
        families = [family for family, _, _ in data]
        names = [name for _, name, _ in data]
        report = NearCopyChecker.from_settings(settings).check(files)
        full = {r.image: r.verdict for r in report.results}
        found = ImageSearch(Catalog(settings)).search(files)
        hit = {m.extra["query"] for m in found.matches}
    base = {n: n in hit for n in names}
    rows = _rows(families, full, base, names)
    copies = [n for n, f in zip(names, families, strict=True) if f != "novel"]
    precision = _precision(families, names, {n: full[n] in POSITIVE for n in names})
    precision_base = _precision(families, names, base)
    rows.append(
        {
            "family": "ALL copied outputs",
            "outputs": len(copies),
            "measure": "recall",
            "near-copy check": f"{sum(full[n] in POSITIVE for n in copies) / len(copies):.2f}",
            "baseline (search --image)": f"{sum(base[n] for n in copies) / len(copies):.2f}",
        }
    )
    aimed = [n for n, f in zip(names, families, strict=True) if f not in ("novel", UNSEEN)]
    rows.append(
        {
            "family": f"ALL but {UNSEEN} (the documented limit)",
            "outputs": len(aimed),
            "measure": "recall",
            "near-copy check": f"{sum(full[n] in POSITIVE for n in aimed) / len(aimed):.2f}",
            "baseline (search --image)": f"{sum(base[n] for n in aimed) / len(aimed):.2f}",
        }
    )
    rows.append(
        {
            "family": "ALL outputs",
            "outputs": len(names),
            "measure": "precision",
            "near-copy check": f"{precision:.3f}",
            "baseline (search --image)": f"{precision_base:.3f}",
        }
    )
    meta = {"seeds": args.seeds, "training_photos": len(training), "novel_photos": len(others)}
    emit("nearcopy_quality", "near-copy check: copy+near_copy vs novel", rows, meta)


if __name__ == "__main__":
    main()
