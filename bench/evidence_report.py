"""Issue 7 benchmark: an evidence report for a 1,000-image portfolio with 5,000 matches.

Synthetic matches (LAION-like URLs and captions, same-image/same-file methods with query
and dataset digests, 20 % of the images without a match) go through the real builder,
signer and renderers. Each stage runs in its own process so its peak RSS is its own:
- build + sign + canonical JSON + CSV;
- HTML (the report template, self-contained);
- PDF through WeasyPrint from the same HTML, with its page count;
- baseline: WeasyPrint on a bare HTML table of the same rows (no template, no digests),
  to show what the report's layout costs on top of the PDF engine itself.

    python bench/evidence_report.py [--images 1000] [--matches 5000]
"""

from __future__ import annotations

import argparse
import hashlib
import html
import io
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, run_child
from ingest_lookup import _peak_rss

_WORDS = ("sunset", "beach", "portrait", "stock", "city", "night", "dog", "cat", "bride", "market")


def _hex(rng: random.Random, n: int) -> str:
    return rng.randbytes(n).hex()


def _match(i: int, rng: random.Random, query: str, digests: Any) -> Any:
    """One LAION-like same-image match of ``query`` (row ``i`` of the synthetic result)."""
    from traindex.core.match_evidence import ImageEvidence
    from traindex.core.matches import Match

    distance = rng.randint(0, 31)
    caption = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 14)))
    slug = caption[:40].replace(" ", "-")
    evidence = ImageEvidence(
        query=query,
        query_sha256=digests.sha256,
        query_pdq=digests.pdq,
        threshold=31,
        distance=distance,
        confidence="certain" if distance <= 10 else "likely",
        explanation=f"{distance} of 256 fingerprint bits differ.",
    )
    return Match(
        dataset="laion2B-en",
        release="2022-03",
        shard=f"part-{i % 32:05d}-5114fd87-297e-42b0.snappy.parquet",
        row=rng.randint(0, 10**6),
        url=f"https://cdn.example-{i % 97}.com/images/{_hex(rng, 8)}/{slug}.jpg",
        caption=caption,
        license=rng.choice(["CC-BY-4.0", None, "CC-BY-NC-SA-4.0"]),
        width=640,
        height=480,
        method="same_image",
        score=1 - distance / 256,
        key=f"{i:09d}",
        evidence=evidence,
    )


def _runs(images: int, matches: int) -> tuple[list[Any], dict[Any, Any]]:
    """Image-search runs: ``matches`` rows over the 80 % of ``images`` that were found."""
    from traindex.evidence.build import SearchRun
    from traindex.evidence.model import ImageDigests
    from traindex.evidence.rowimages import RowImage, row_ref

    rng = random.Random(7)
    names = [f"portfolio/IMG_{i:04d}.jpg" for i in range(images)]
    found = names[: int(images * 0.8)]
    run = SearchRun("image", None, names, [])
    run.images = {n: ImageDigests(sha256=_hex(rng, 32), pdq=_hex(rng, 32)) for n in names}
    run.matches = [
        _match(i, rng, found[i % len(found)], run.images[found[i % len(found)]])
        for i in range(matches)
    ]
    run.totals = dict(Counter(m.query for m in run.matches))
    digests = {row_ref(m): RowImage(_hex(rng, 32), _hex(rng, 32), "synthetic") for m in run.matches}
    return [run], digests


def _sealed(images: int, matches: int) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from traindex.catalog.store import Catalog
    from traindex.config import Settings
    from traindex.core.signing import Signer
    from traindex.evidence.build import build_report
    from traindex.evidence.seal import seal

    runs, digests = _runs(images, matches)
    catalog = Catalog(Settings(home=Path("/nonexistent-traindex-bench-home")))
    body = build_report(runs, catalog, requested_by="Bench Photographer", digests=digests)
    return seal(body, Signer(Ed25519PrivateKey.generate(), None))


def _bare_table(sealed: Any) -> str:
    cells = "".join(
        f"<tr><td>{m.source_file}:{m.row}</td><td>{html.escape(m.url)}</td>"
        f"<td>{html.escape(m.caption or '')}</td><td>{m.measure}</td></tr>"
        for m in sealed.report.matches
    )
    return f"<html><body><table>{cells}</table></body></html>"


def stage(name: str, images: int, matches: int) -> None:
    from pypdf import PdfReader

    from traindex.evidence.render import html_to_pdf, render_csv, render_html

    started = time.perf_counter()
    sealed = _sealed(images, matches)
    out: dict[str, Any] = {"build_s": time.perf_counter() - started}
    started, cpu = time.perf_counter(), time.process_time()
    if name == "build":
        data = sealed.to_bytes() + render_csv(sealed).encode()
    elif name == "html":
        data = render_html(sealed).encode()
    else:
        page = _bare_table(sealed) if name == "baseline" else render_html(sealed)
        data = html_to_pdf(page)
        out["pages"] = len(PdfReader(io.BytesIO(data)).pages)
    out.update(
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu,
        bytes=len(data),
        sha=hashlib.sha256(data).hexdigest()[:12],
        peak_rss_bytes=_peak_rss(),
    )
    print(json.dumps(out))


def _table(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One table row per stage, then the PDF-to-baseline ratios."""
    rows = []
    for name, what in (
        ("build", "build + sign + JSON + CSV"),
        ("html", "HTML report"),
        ("pdf", "PDF report (WeasyPrint)"),
        ("baseline", "baseline: bare table, WeasyPrint"),
    ):
        r = results[name]
        rows.append(
            {
                "stage": what,
                "synthetic build + sign s": r["build_s"],
                "render s": r["seconds"],
                "render CPU s": r["cpu_seconds"],
                "peak RSS MB": r["peak_rss_bytes"] / 2**20,
                "output MB": r["bytes"] / 2**20,
                "pages": r.get("pages", ""),
            }
        )
    rows.append(
        {
            "stage": "PDF report / bare-table PDF (time ratio)",
            "render s": results["pdf"]["seconds"] / results["baseline"]["seconds"],
            "render CPU s": results["pdf"]["cpu_seconds"] / results["baseline"]["cpu_seconds"],
        }
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--matches", type=int, default=5000)
    parser.add_argument("--stage", choices=["build", "html", "pdf", "baseline"])
    args = parser.parse_args()
    if args.stage:
        return stage(args.stage, args.images, args.matches)
    me = [__file__, "--images", str(args.images), "--matches", str(args.matches)]
    results = {
        s: json.loads(run_child([*me, "--stage", s])[1])
        for s in ("build", "html", "pdf", "baseline")
    }
    rows = _table(results)
    emit(
        "evidence_report",
        f"Evidence report: {args.images:,} images, {args.matches:,} matches",
        rows,
        {"images": args.images, "matches": args.matches, "stages": results},
    )


if __name__ == "__main__":
    main()
