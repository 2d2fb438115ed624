"""Download + fingerprint throughput vs img2dataset, and candidate verification per query.

A loopback server process serves real-photo JPEGs (the shared CC3M / Conceptual Captions /
clip-retrieval samples, cycled) on ``--origins`` ports; the same URL list is fetched by

* ``traindex fingerprint --download`` (asyncio + httpx, SHA-256 + PDQ per image, robots.txt
  and TDMRep per origin, X-Robots-Tag per image; nothing written but the tables), and
* ``img2dataset`` 1.47 (its urllib thread pools; ``--output_format files``,
  ``--resize_mode no``), installed in a throwaway venv given by ``--img2dataset``
  (never a project dependency: its pins, e.g. opencv<5 and pandas<3, do not fit),

with the same processes x concurrency, in one run. Peak RSS is the sum over the process
tree, polled every 50 ms; CPU per image from the children's rusage. Candidate verification
has its own bench (``bench/candidate_verify.py``).

    python bench/download_fingerprint.py [--images 2000] [--origins 20]
        [--img2dataset /tmp/venv/bin/img2dataset]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pyarrow as pa
import pyarrow.parquet as pq
from bench._common import emit

from traindex.config import Settings
from traindex.ingest.pipeline import ingest

SHARED = Path(os.environ.get("TRAINDEX_SHARED_DATA") or Path(__file__).parents[2] / "shared/data")
PHOTO_DIRS = (
    "_generated/img2dataset-1.47.0-output-cc3m-test-images/files",
    "conceptual-captions/competition/skeleton/conceptual-captions/test_images",
    "clip-retrieval/tests/test_clip_inference/test_images",
)


def photos() -> list[bytes]:
    found = [p for d in PHOTO_DIRS for p in sorted((SHARED / d).rglob("*.jpg"))]
    if not found:
        raise SystemExit(f"no photos under {SHARED} (set TRAINDEX_SHARED_DATA)")
    return [p.read_bytes() for p in found]


def _serve(ports: Any, origins: int, ready: Any) -> None:
    pool = photos()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            if self.path.startswith("/img/"):
                body, kind, status = pool[int(self.path[5:-4]) % len(pool)], "image/jpeg", 200
            else:
                body, kind, status = b"not found", "text/plain", 404
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    for i in range(origins):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        ports[i] = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ready.set()
    threading.Event().wait()


def _measure(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MB of the process tree, CPU seconds of the tree) of one
    command. CPU comes from the children's rusage: every process of both tools is waited
    for by its parent, so it counts; it is the figure other load on the machine moves least."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(
            f"{command[0]} failed: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}"
        )
    return seconds, peak / 1e6, cpu


def _row(tool: str, done: int, measured: tuple[float, float, float]) -> dict[str, Any]:
    seconds, rss, cpu = measured
    return {"tool": tool, "images": done, "seconds": seconds, "images_per_s": done / seconds,
            "peak_rss_mb": rss, "cpu_ms_per_image": 1000 * cpu / max(1, done)}  # fmt: skip


def _urls(ports: list[int], count: int) -> list[str]:
    return [f"http://127.0.0.1:{ports[i % len(ports)]}/img/{i}.jpg" for i in range(count)]


def _write_parts(urls: list[str], folder: Path, parts: int) -> None:
    folder.mkdir(parents=True)
    for part in range(parts):
        mine = urls[part::parts]
        table = pa.table({"URL": mine, "TEXT": [f"image {i}" for i in range(len(mine))]})
        pq.write_table(table, folder / f"part-{part:05d}.parquet")


def run_traindex(urls: list[str], work: Path, processes: int, threads: int) -> dict[str, Any]:
    home = work / "home"
    ingest(Settings(home=home), work / "urls", dataset="bench", release="main", fmt="laion")
    env = {
        **os.environ, "PYTHONPATH": os.pathsep.join(sys.path),
        "TRAINDEX_SIGNALS_ALLOW_LOOPBACK": "true", "TRAINDEX_DOWNLOAD_PER_HOST_RATE": "1000000",
        "TRAINDEX_DOWNLOAD_CONCURRENCY": str(threads),
        "TRAINDEX_DOWNLOAD_PER_HOST_CONCURRENCY": str(threads),
    }  # fmt: skip
    command = [
        sys.executable, "-c", "from traindex.cli.main import app; app()", "--home", str(home),
        "fingerprint", "-d", "bench", "--download", "--workers", str(processes),
    ]  # fmt: skip
    measured = _measure(command, env)
    done = sum(
        pq.ParquetFile(p).metadata.num_rows
        for p in (home / "datasets/bench/main/fingerprints").glob("*.parquet")
    )
    return _row("traindex --download (+SHA-256, PDQ)", done, measured)


def run_img2dataset(
    binary: str, work: Path, count: int, processes: int, threads: int
) -> dict[str, Any]:
    out = work / "img2dataset-out"
    command = [
        binary, "--url_list", str(work / "urls"), "--input_format", "parquet", "--url_col", "URL",
        "--caption_col", "TEXT", "--output_format", "files", "--output_folder", str(out),
        "--processes_count", str(processes), "--thread_count", str(threads),
        "--number_sample_per_shard", str(max(1, count // processes)), "--resize_mode", "no",
        "--enable_wandb", "False", "--retries", "0", "--timeout", "10",
    ]  # fmt: skip
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
    measured = _measure(command, env)
    done = len(list(out.rglob("*.jpg")))
    return _row("img2dataset 1.47 (files, no resize)", done, measured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--origins", type=int, default=20)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--img2dataset", default="/tmp/i14-img2dataset/bin/img2dataset")
    args = parser.parse_args()
    ports = mp.Array("i", args.origins)
    ready = mp.Event()
    server = mp.Process(target=_serve, args=(ports, args.origins, ready), daemon=True)
    server.start()
    ready.wait(60)
    urls = _urls(list(ports), args.images)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-download-") as tmp:
        work = Path(tmp)
        _write_parts(urls, work / "urls", args.processes)
        rows.append(run_traindex(urls, work, args.processes, args.threads))
        if Path(args.img2dataset).exists():
            rows.append(
                run_img2dataset(args.img2dataset, work, args.images, args.processes, args.threads)
            )
            rows[0]["vs_img2dataset"] = rows[0]["images_per_s"] / rows[1]["images_per_s"]
    server.terminate()
    meta = {
        "images": args.images, "origins": args.origins, "processes": args.processes,
        "threads_per_process": args.threads, "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
    }  # fmt: skip
    emit(
        "download_fingerprint", "download + fingerprint (same server, same concurrency)", rows, meta
    )


if __name__ == "__main__":
    main()
