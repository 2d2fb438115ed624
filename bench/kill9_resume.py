"""Issue 16 figures: ``kill -9`` of the real CLI at several moments, then an immediate re-run.

For ingest (img2dataset ``files`` output, N shard copies of the shared sample), fingerprint
(2 workers) and filter (8 files, 2 workers): start the command, SIGKILL it at a filesystem
moment, count the children still alive after the kill (waiting up to 30 s), re-run at once
and compare with an uninterrupted run of the same input. Reuses the moments and helpers of
``tests/integration/test_kill9_resume.py`` (one implementation of "kill at a moment").

    python bench/kill9_resume.py [--shards 12]
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
import pyarrow.parquet as pq
from tests.conftest import SHARED_DATA
from tests.integration import test_kill9_resume as k9

from _common import emit
from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint


def _attempt(command: list[str], moment: object) -> dict[str, object]:
    children = k9._kill_at(command, moment)  # type: ignore[arg-type]
    _, alive = psutil.wait_procs(children, timeout=k9.ORPHAN_WAIT_S)
    for orphan in alive:
        orphan.kill()
    started = time.perf_counter()
    rerun = subprocess.run(command, capture_output=True, check=False)
    return {
        "children at kill": len(children),
        "orphans": len(alive),
        "re-run exit": rerun.returncode,
        "re-run s": round(time.perf_counter() - started, 1),
    }


def _one_per_row(settings: Settings) -> bool:
    files = k9._fingerprint_files(settings)
    rows = k9._rows(settings)
    if len(files) != len(rows):
        return False
    for path, count in zip(files, rows, strict=True):
        ids = pq.read_table(path, columns=["row"]).column("row").to_pylist()
        if sorted(ids) != list(range(count)):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shards", type=int, default=k9.SHARDS)
    args = parser.parse_args()
    k9.SHARDS = args.shards
    work = Path(tempfile.mkdtemp(prefix="kill9-"))
    shards = work / "in"
    shards.mkdir()
    for i in range(args.shards):
        k9.shutil.copytree(SHARED_DATA / k9.FILES / "00000", shards / f"{i:05d}")
        k9.shutil.copy(SHARED_DATA / k9.FILES / "00000.parquet", shards / f"{i:05d}.parquet")
    reference = Settings(home=work / "reference")
    ingest(reference, shards, dataset="d", release="main")
    fingerprint(reference, "d", workers=1)
    rows = []
    for name, moment in k9.INGEST_MOMENTS.items():
        settings = Settings(home=work / f"ingest-{len(rows)}")
        command = k9._cli(settings.home, "ingest", str(shards), "-d", "d")
        ready = functools.partial(moment, settings)
        row = {"command": "ingest", "killed": name, **_attempt(command, ready)}
        row["rows = reference"] = k9._rows(settings) == k9._rows(reference)
        row["caption docs = reference"] = k9._caption_docs(settings) == k9._caption_docs(reference)
        rows.append(row)
    for after in (1, args.shards // 2):
        settings = Settings(home=work / f"fingerprint-{after}")
        ingest(settings, shards, dataset="d", release="main")
        command = k9._cli(settings.home, "fingerprint", "-d", "d", "--workers", "2")
        files = lambda s=settings: len(k9._fingerprint_files(s))  # noqa: E731
        row = {"command": "fingerprint", "killed": f"after {after} shard file(s)"}
        row.update(_attempt(command, lambda a=after, f=files: f() >= a))
        row["one fingerprint per row"] = _one_per_row(settings)
        rows.append(row)
    emit(
        "kill9_resume",
        "kill -9 of the real CLI, then an immediate re-run",
        rows,
        {"shards": args.shards, "load_average": list(psutil.getloadavg())},
    )


if __name__ == "__main__":
    main()
