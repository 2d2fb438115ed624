"""Walk the inputs of ``traindex filter``: per-file atomic outputs, resume, one removed-rows log.

A single input file gives a single output file; a folder gives a folder with the same
relative paths (``.parquet``, ``.csv``, ``.tsv``, ``.txt``, also ``.gz``/``.bz2``). Each
output is written under a temporary name and renamed when complete, and a small state file
(in ``.traindex-filter/`` next to the outputs) records the input's size and mtime, the
registry it was filtered against and the counts. A rerun skips files whose state matches,
so an interrupted run resumes at the first unfinished file; a changed input or registry
redoes that file. Each file's removed rows go to their own log part; ``--log`` is the
concatenation of all parts, rebuilt at the end of every run.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from traindex.errors import InputError
from traindex.filtering.deciders import Decider
from traindex.filtering.formats import LOG_SCHEMA, FileResult, LogSink, filter_parquet, filter_text
from traindex.ingest._parquet import natural_key
from traindex.ingest.columns import ColumnMap
from traindex.jobs.lifeline import Lifeline, die_with_parent
from traindex.jobs.ray import RayOptions, iter_ray

__all__ = ["FileSummary", "FilterOptions", "filter_inputs", "list_inputs"]

STATE_DIR = ".traindex-filter"
_TEXT = (".csv", ".tsv", ".txt")
_COMPRESSED = (".gz", ".bz2")


@dataclass(frozen=True, slots=True)
class FilterOptions:
    """``registry_id`` names the claims used (a changed registry redoes resumed files)."""

    registry_id: str
    log: Path | None = None
    fmt: str | None = None
    columns: ColumnMap = field(default_factory=dict)
    batch_rows: int = 65_536


@dataclass(frozen=True, slots=True)
class FileSummary:
    input: str
    output: Path
    result: FileResult
    resumed: bool


def _supported(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    return bool(suffixes) and (suffixes[-1] == ".parquet" or suffixes[-1] in _TEXT)


def list_inputs(src: Path, out: Path) -> list[tuple[str, Path, Path]]:
    """``(name, input, output)`` per file; refuses an output inside the input folder."""
    if not src.exists():
        raise InputError("no such file or folder", path=str(src))
    if src.is_file():
        return [(src.name, src, out)]
    if out.resolve().is_relative_to(src.resolve()):
        raise InputError(f"output {out} must not be inside the input folder", path=str(src))
    files = sorted(
        (p for p in src.rglob("*") if p.is_file() and _supported(p) and not p.name.startswith(".")),
        key=natural_key,
    )
    if not files:
        raise InputError("no .parquet/.csv/.tsv/.txt files in the folder", path=str(src))
    return [(p.relative_to(src).as_posix(), p, out / p.relative_to(src)) for p in files]


def _state_dir(src: Path, out: Path) -> Path:
    return out.parent / STATE_DIR if src.is_file() else out / STATE_DIR


def _fingerprint(path: Path, registry_id: str) -> dict[str, object]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "registry": registry_id}


def _load_state(state: Path, expected: dict[str, object], output: Path) -> FileResult | None:
    if not state.is_file() or not output.is_file():
        return None
    saved = json.loads(state.read_text(encoding="utf-8"))
    if saved.get("input") != expected:
        return None
    counts = saved["result"]
    return FileResult(
        counts["rows"],
        counts["kept"],
        Counter(counts["removed"]),
        counts["unreadable"],
        counts.get("unverified", 0),
    )


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def _one(
    name: str,
    src: Path,
    dst: Path,
    part: Path,
    decider: Decider,
    options: FilterOptions,
    progress: Callable[[int], None],
) -> FileResult:
    tmp_out = dst.with_name(".partial-" + dst.name)
    tmp_log = part.with_name(part.name + ".tmp")
    log = LogSink(tmp_log, name)
    try:
        if [s.lower() for s in src.suffixes][-1:] == [".parquet"]:
            result = filter_parquet(
                src,
                tmp_out,
                decider,
                log,
                batch_rows=options.batch_rows,
                overrides=options.columns,
                progress=progress,
            )
        else:
            result = filter_text(
                src,
                tmp_out,
                decider,
                log,
                batch_rows=options.batch_rows,
                fmt=options.fmt,
                overrides=options.columns,
                progress=progress,
            )
    finally:
        log.close()
    os.replace(tmp_log, part)
    os.replace(tmp_out, dst)
    return result


@dataclass(frozen=True, slots=True)
class _Job:
    name: str
    path: Path
    dst: Path
    part: Path
    state: Path
    expected: dict[str, object]


# The parent's decider, inherited by forked workers (an index of 1M claims is not pickled).
_INHERITED: dict[str, Decider] = {}


def _work(job: _Job, options: FilterOptions) -> FileResult:
    return _one(
        job.name, job.path, job.dst, job.part, _INHERITED["decider"], options, lambda rows: None
    )


def _parallel(
    jobs: list[_Job], decider: Decider, options: FilterOptions, workers: int
) -> Iterator[tuple[_Job, FileResult]]:
    """Filter whole files in ``workers`` forked processes (which die with this one, so a
    killed run leaves none writing); results as files finish."""
    _INHERITED["decider"] = decider
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=die_with_parent, initargs=(Lifeline.here(),)
    ) as pool:
        futures = {pool.submit(_work, job, options): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()


def filter_inputs(
    src: Path,
    out: Path,
    decider: Decider,
    options: FilterOptions,
    *,
    workers: int = 1,
    on_file: Callable[[str, int | None], None] = lambda name, total: None,
    progress: Callable[[int], None] = lambda rows: None,
    ray: RayOptions | None = None,
) -> list[FileSummary]:
    """Filter every input file (resuming finished ones); one summary per file, input order.

    ``workers`` > 1 filters several files at once in forked processes (progress then
    advances per finished file); ``ray`` runs one Ray task per file instead (every node
    must see the input and output paths).
    """
    state_dir = _state_dir(src, out)
    summaries: dict[str, FileSummary] = {}
    pending: list[_Job] = []
    names = []
    for name, path, dst in list_inputs(src, out):
        names.append(name)
        dst.parent.mkdir(parents=True, exist_ok=True)
        job = _Job(
            name,
            path,
            dst,
            state_dir / f"{name}.removed.parquet",
            state_dir / f"{name}.json",
            _fingerprint(path, options.registry_id),
        )
        job.state.parent.mkdir(parents=True, exist_ok=True)
        done = _load_state(job.state, job.expected, dst) if job.part.is_file() else None
        if done is None:
            pending.append(job)
        else:
            summaries[name] = FileSummary(name, dst, done, resumed=True)
    for job, result in _results(pending, decider, options, workers, on_file, progress, ray):
        counts = {
            "rows": result.rows,
            "kept": result.kept,
            "removed": dict(result.removed),
            "unreadable": result.unreadable,
            "unverified": result.unverified,
        }
        _write_json(job.state, {"input": job.expected, "result": counts})
        summaries[job.name] = FileSummary(job.name, job.dst, result, resumed=False)
    if options.log is not None:
        _merge_logs([state_dir / f"{name}.removed.parquet" for name in names], options.log)
    return [summaries[name] for name in names]


def _on_ray(job: _Job, decider: Decider, options: FilterOptions) -> tuple[_Job, FileResult]:
    """One input file as a Ray task (the decider comes once through the object store)."""
    return job, _one(job.name, job.path, job.dst, job.part, decider, options, lambda rows: None)


def _results(
    jobs: list[_Job],
    decider: Decider,
    options: FilterOptions,
    workers: int,
    on_file: Callable[[str, int | None], None],
    progress: Callable[[int], None],
    ray: RayOptions | None = None,
) -> Iterator[tuple[_Job, FileResult]]:
    if ray is not None and jobs:
        on_file(f"{len(jobs)} files on Ray", None)
        for job, result in iter_ray(jobs, stage=_on_ray, options=ray, context=(decider, options)):
            progress(result.rows)
            yield job, result
        return
    if workers > 1 and len(jobs) > 1:
        hints = [_rows_hint(job.path) for job in jobs]
        total = None if None in hints else sum(h for h in hints if h is not None)
        on_file(f"{len(jobs)} files, {workers} processes", total)
        for job, result in _parallel(jobs, decider, options, workers):
            progress(result.rows)
            yield job, result
        return
    for job in jobs:
        on_file(job.name, _rows_hint(job.path))
        yield job, _one(job.name, job.path, job.dst, job.part, decider, options, progress)


def _rows_hint(path: Path) -> int | None:
    if path.suffix.lower() != ".parquet":
        return None
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (OSError, ValueError):
        return None


def _merge_logs(parts: list[Path], log: Path) -> None:
    """Concatenate the per-file logs into ``log`` (atomically), streaming part by part."""
    log.parent.mkdir(parents=True, exist_ok=True)
    tmp = log.with_name(".partial-" + log.name)
    with pq.ParquetWriter(tmp, LOG_SCHEMA, compression="zstd") as writer:
        for part in parts:
            for batch in pq.ParquetFile(part).iter_batches():
                writer.write_batch(_as_log(batch))
    os.replace(tmp, log)


def _as_log(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A part written before a log column existed (a run resumed across an upgrade, e.g.
    before ``match``) gets that column as nulls."""
    if batch.schema.equals(LOG_SCHEMA):
        return batch
    names = batch.schema.names
    columns = [
        batch.column(f.name) if f.name in names else pa.nulls(batch.num_rows, f.type)
        for f in LOG_SCHEMA
    ]
    return pa.RecordBatch.from_arrays(columns, schema=LOG_SCHEMA)
