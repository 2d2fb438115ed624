"""``kill -9`` of the real CLI at several moments of ingest, fingerprint and filter, then an
immediate re-run: it succeeds, counts are exact, and no child outlives the killed process.

The moments are filesystem events (the caption indexer's record, the N-th shard in the
manifest, the first fingerprint or output file), never sleeps. Expected counts come from
an uninterrupted run of the same input in another home.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest
import tantivy

from traindex.catalog.indexes.pdq import open_pdq
from traindex.catalog.store import Catalog
from traindex.catalog.textworker import RECORD
from traindex.config import Settings
from traindex.ingest.pipeline import ingest
from traindex.jobs.fingerprint import fingerprint
from traindex.registry.models import Selector
from traindex.registry.service import RegistryService

pytestmark = pytest.mark.shared

FILES = "_generated/img2dataset-1.47.0-output-cc3m-test-images/files"
FILTER_INPUT = "img2dataset/tests/test_files/test_10000.parquet"
SHARDS = 12
ORPHAN_WAIT_S = 30.0  # an upper bound for slow machines, not a measured speed


def _cli(home: Path, *args: str) -> list[str]:
    entry = "from traindex.cli.main import app; app()"
    return [sys.executable, "-c", entry, "--home", str(home), *args]


def _kill_at(command: list[str], moment: Callable[[], bool]) -> list[psutil.Process]:
    """Start ``command``, SIGKILL it once ``moment()`` holds; its children at that time."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while not moment():
        if proc.poll() is not None:
            pytest.fail(f"finished before the kill moment: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        time.sleep(0.01)
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return children


def _assert_no_orphans(children: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(children, timeout=ORPHAN_WAIT_S)
    for orphan in alive:
        orphan.kill()
    assert alive == [], f"children outlived the killed parent: {[p.pid for p in alive]}"


def _rerun(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]


@pytest.fixture(scope="module")
def shards(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An img2dataset ``files`` output of ``SHARDS`` shards (copies of a real one)."""
    root = tmp_path_factory.mktemp("img2dataset")
    for i in range(SHARDS):
        shutil.copytree(shared_data / FILES / "00000", root / f"{i:05d}")
        shutil.copy(shared_data / FILES / "00000.parquet", root / f"{i:05d}.parquet")
    return root


@pytest.fixture(scope="module")
def reference(shards: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The same input ingested and fingerprinted without interruption."""
    settings = Settings(home=tmp_path_factory.mktemp("reference"))
    ingest(settings, shards, dataset="d", release="main")
    fingerprint(settings, "d", workers=1)
    return settings


def _release_dir(settings: Settings) -> Path:
    return settings.datasets_dir / "d" / "main"


def _manifest_sources(settings: Settings) -> int:
    try:
        manifest = json.loads((_release_dir(settings) / "manifest.json").read_text())
    except (OSError, ValueError):
        return 0
    return len(manifest["sources"])


def _caption_docs(settings: Settings) -> int:
    index = tantivy.Index.open(str(_release_dir(settings) / "text"))
    return int(index.searcher().num_docs)


def _rows(settings: Settings) -> list[int]:
    [(_, manifest)] = list(Catalog(settings).select("d"))
    return [s.rows for s in manifest.sources]


INGEST_MOMENTS: dict[str, Callable[[Settings], bool]] = {
    "caption indexer started": lambda s: (_release_dir(s) / "text" / RECORD).is_file(),
    "after 1 shard": lambda s: _manifest_sources(s) >= 1,
    "after 5 shards": lambda s: _manifest_sources(s) >= 5,
}


@pytest.mark.parametrize("moment", list(INGEST_MOMENTS))
def test_ingest_killed_then_rerun_at_once(
    moment: str, shards: Path, reference: Settings, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home")
    command = _cli(settings.home, "ingest", str(shards), "-d", "d")
    children = _kill_at(command, lambda: INGEST_MOMENTS[moment](settings))
    _assert_no_orphans(children)
    _rerun(command)
    assert _rows(settings) == _rows(reference)
    assert _caption_docs(settings) == _caption_docs(reference)  # no shard indexed twice


def _fingerprint_files(settings: Settings) -> list[Path]:
    return sorted((_release_dir(settings) / "fingerprints").glob("*.parquet"))


@pytest.mark.parametrize("after_files", [1, SHARDS // 2])
def test_fingerprint_killed_then_rerun_at_once(
    after_files: int, shards: Path, reference: Settings, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home")
    ingest(settings, shards, dataset="d", release="main")
    command = _cli(settings.home, "fingerprint", "-d", "d", "--workers", "2")
    children = _kill_at(command, lambda: len(_fingerprint_files(settings)) >= after_files)
    _assert_no_orphans(children)
    _rerun(command)
    files = _fingerprint_files(settings)
    assert len(files) == SHARDS
    for path, rows in zip(files, _rows(settings), strict=True):
        row_ids = pq.read_table(path, columns=["row"]).column("row").to_pylist()
        assert sorted(row_ids) == list(range(rows)), path.name  # one fingerprint per row
    release = Catalog(settings).release("d", "main")
    reference_release = Catalog(reference).release("d", "main")
    assert len(open_pdq(release) or []) == len(open_pdq(reference_release) or [])


@pytest.fixture
def claimed_home(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path / "home")
    service = RegistryService.open(settings)
    owner, _ = service.register_owner("stock agency")
    for domain in ("dreamstime.com", "pinimg.com", "fineartamerica.com"):
        service.add_claim(owner, Selector("domain", domain), verified=True)
    return settings


def test_filter_killed_then_rerun_at_once(
    claimed_home: Settings, shared_data: Path, tmp_path: Path
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for i in range(8):
        shutil.copy(shared_data / FILTER_INPUT, src / f"part-{i}.parquet")
    expected = tmp_path / "expected"
    _rerun(_cli(claimed_home.home, "filter", str(src), "--out", str(expected)))
    out = tmp_path / "out"
    command = _cli(claimed_home.home, "filter", str(src), "--out", str(out), "--workers", "2")
    children = _kill_at(command, lambda: any(out.glob("*.parquet")))
    _assert_no_orphans(children)
    _rerun(command)
    for path in sorted(expected.glob("*.parquet")):
        assert pq.read_table(out / path.name).equals(pq.read_table(path)), path.name
