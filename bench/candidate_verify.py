"""Candidate verification: seconds per query file for k candidates, and recall of edited
copies hidden among the candidates (PDQ only vs PDQ + keypoints).

Dataset side: a LAION-like release whose rows are the real photos of
``bench/robustness_data.py`` (JPEG q90) and distractor tiles cut from *other* photos,
shuffled, served on loopback over ``--origins`` ports with traindex's default politeness
(8 requests/s and 4 in flight per origin; robots.txt and TDMRep per origin). Candidates are
given rows (a bench ``CandidateSource``), so exactly k are downloaded.

1. Speed: one query file (an original resized to 75 % and re-encoded) against k = 10, 50,
   200 candidates holding its original, cold cache (download + SHA-256 + PDQ + keypoints of
   every candidate, then compare), and again warm (candidates read from the cache).
2. Recall: edited copies of ``--originals`` originals (every edit of the mild and hard AugLy
   families of ``bench/image_robustness.py``) compared in one call with all k = 200
   candidates, with and without keypoints: a copy counts as found when its original is
   proven; any other proven row is a false positive.

    python bench/candidate_verify.py [--originals 8] [--origins 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from bench._common import emit
from bench.robustness_data import FAMILIES, encode, originals, unique_tiles

from traindex.catalog.store import Catalog
from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.search.candidates import Candidate
from traindex.search.images import ImageSearch
from traindex.search.verify import CandidateVerifier
from traindex.search.views import ReleaseView

ROWS = 200
KS = (10, 50, 200)


class GivenRows:
    """Candidates named by row position (shard 0): the bench decides what k holds."""

    def __init__(self, rows: list[int]) -> None:
        self.rows = rows

    def pick(
        self, views: list[ReleaseView], files: Sequence[tuple[str, bytes]], cap: int
    ) -> list[Candidate]:
        [view] = views
        sid = view.shard_ids[0]
        rows = self.rows[:cap]
        records = view.records(sid, rows)
        return [Candidate(view, sid, r, rec) for r, rec in zip(rows, records, strict=True)]

    def describe(self) -> dict[str, Any]:
        return {"source": "bench", "rows": len(self.rows)}


def serve(bodies: list[bytes], origins: int) -> list[int]:
    """Serve ``/c/<i>.jpg`` on ``origins`` loopback ports (daemon threads); the ports."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            stem = self.path[3:-4] if self.path.startswith("/c/") else ""
            ok = stem.isdigit() and int(stem) < len(bodies)
            body = bodies[int(stem)] if ok else b"not found"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "image/jpeg" if ok else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    ports = []
    for _ in range(origins):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        ports.append(server.server_address[1])
        threading.Thread(target=server.serve_forever, daemon=True).start()
    return ports


def release(work: Path, ports: list[int]) -> tuple[Settings, list[bytes], list[int]]:
    """Ingest the rows; returns settings, the original photos' bytes and their row numbers."""
    photos = [encode(image) for _, image in originals()]
    tiles = [encode(tile) for _, tile in unique_tiles(256)][: ROWS - len(photos)]
    order = np.random.default_rng(0).permutation(len(photos) + len(tiles)).tolist()
    bodies = [(photos + tiles)[i] for i in order]
    rows_of = [order.index(i) for i in range(len(photos))]
    urls = [f"http://127.0.0.1:{ports[i % len(ports)]}/c/{i}.jpg" for i in range(len(bodies))]
    (work / "src").mkdir()
    table = pa.table({"URL": urls, "TEXT": [f"row {i}" for i in range(len(urls))]})
    pq.write_table(table, work / "src" / "part-00000.parquet")
    settings = Settings(home=work / "home", signals_allow_loopback=True)
    ingest(settings, work / "src", dataset="cands", release="main", fmt="laion")
    return settings, bodies, rows_of


def speed(settings: Settings, bodies: list[bytes], rows_of: list[int]) -> list[dict[str, Any]]:
    target = rows_of[0]
    query = [("query.jpg", encode(originals()[0][1].resize((340, 225)), quality=80))]
    others = [r for r in range(len(bodies)) if r != target]
    out = []
    for k in KS:
        source = GivenRows([target, *others[: k - 1]])
        shutil.rmtree(settings.home / "cache", ignore_errors=True)
        row: dict[str, Any] = {"k": k}
        for state in ("cold", "warm"):
            verifier = CandidateVerifier(settings, max_candidates=k)
            started = time.perf_counter()
            result = verifier.verify(query, source, dataset="cands")
            row[f"{state}_s_per_query"] = time.perf_counter() - started
        row["verified"] = len(result.matches)
        out.append(row)
    return out


def copies(count: int) -> tuple[list[tuple[str, bytes]], dict[str, tuple[int, str]]]:
    """Every mild/hard edit of ``count`` originals spread over the set: the query files,
    and per file name (original index, tier)."""
    photos = originals()
    picks = np.linspace(0, len(photos) - 1, count).round().astype(int).tolist()
    rng = np.random.default_rng(1)
    files, truth = [], {}
    for index in picks:
        for family in (f for f in FAMILIES if f.tier != "info"):
            for label, edit in family.edits:
                name = f"{index}-{family.name}-{label}-{len(files)}.jpg"
                files.append((name, encode(edit(photos[index][1], rng))))
                truth[name] = (index, family.tier)
    return files, truth


def recall(
    settings: Settings, rows_of: list[int], files: list[tuple[str, bytes]], truth: dict[str, Any]
) -> list[dict[str, Any]]:
    source = GivenRows(list(range(ROWS)))
    out = []
    for keypoints in (False, True):
        search = ImageSearch(Catalog(settings), keypoints=keypoints)
        verifier = CandidateVerifier(settings, max_candidates=ROWS, search=search)
        started = time.perf_counter()
        result = verifier.verify(files, source, dataset="cands")
        seconds = time.perf_counter() - started
        row_by_url = {m.url: int(m.url.rsplit("/", 1)[1][:-4]) for m in result.matches}
        found, false = set(), 0
        for m in result.matches:
            index, _ = truth[m.query]
            if row_by_url[m.url] == rows_of[index]:
                found.add(m.query)
            else:
                false += 1
        tiers = Counter(tier for _, tier in truth.values())
        hits = Counter(truth[name][1] for name in found)
        out.append({
            "signals": "SHA-256 + PDQ + keypoints" if keypoints else "SHA-256 + PDQ",
            "copies": len(files), "candidates": ROWS,
            "recall_mild": hits["mild"] / tiers["mild"],
            "recall_hard": hits["hard"] / tiers["hard"],
            "false_positives": false, "seconds": seconds,
        })  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--originals", type=int, default=8)
    parser.add_argument("--origins", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-candidates-") as tmp:
        work = Path(tmp)
        bodies: list[bytes] = []  # filled once the rows (whose URLs need the ports) exist
        ports = serve(bodies, args.origins)
        settings, served, rows_of = release(work, ports)
        bodies.extend(served)
        timing = speed(settings, bodies, rows_of)
        files, truth = copies(args.originals)
        quality = recall(settings, rows_of, files, truth)
    meta = {"rows": ROWS, "origins": args.origins, "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg()}  # fmt: skip
    emit("candidate_verify_speed", "candidate verification per query file", timing, meta)
    emit("candidate_verify_recall", "edited copies hidden among 200 candidates", quality, meta)


if __name__ == "__main__":
    main()
