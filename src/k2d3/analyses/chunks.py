"""Large runs as chunks of subjects: local or on a Dask cluster, streamed to Parquet, resumable.

A run is a list of tasks (each a chunk of subjects, picklable) and one module-level
function that turns a task into a table. Tasks run in order in this process (the
population engine already uses every core) or on a Dask ``distributed`` cluster; the same
function on the same task gives the same table either way, bit for bit. With an output
directory each table is written as ``part-NNNNN.parquet`` under a temporary name and then
renamed, so a killed run leaves only whole parts; ``resume=True`` keeps the parts of the
same run (``_run.json`` holds its key) and computes only the others. Nothing is held whole
that a caller does not ask for: with ``keep=False`` tables are written and dropped.
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from k2d3.errors import InputError
from k2d3.files import write_atomic

PART = "part-{:05d}.parquet"
MANIFEST = "_run.json"  # a leading underscore: Parquet readers skip it
#: Work (subject-days) above which a progress bar is shown: about two seconds of the engine.
PROGRESS_FROM = 20_000


def ensure_dir(out_dir: Path) -> Path:
    """``out_dir``, created if missing; a file in its place or no write permission is a
    one-line error (field ``out``)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("out", f"{out_dir} exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("out", f"cannot create {out_dir}: {exc.strerror or exc}") from None
    if not os.access(out_dir, os.W_OK):
        raise InputError("out", f"{out_dir} is not writable")
    return out_dir


def prepare(out_dir: Path, key: dict, resume: bool) -> set[int]:
    """Make ``out_dir`` ready for the run ``key``; returns the parts already done (resume)."""
    out_dir = ensure_dir(out_dir)
    for stale in out_dir.glob(".*.tmp"):  # what a killed run was writing (k2d3.files)
        stale.unlink()
    manifest = out_dir / MANIFEST
    done = {int(p.stem.split("-")[1]) for p in out_dir.glob("part-*.parquet")}
    if resume:
        if manifest.exists():
            previous = json.loads(manifest.read_text())
            if previous != key:
                raise InputError("resume", f"{out_dir} holds a different run (other inputs or version); "
                                           f"use a new directory or run without --resume")
        elif done:
            raise InputError("resume", f"{out_dir} holds parts without {MANIFEST}; use a new directory")
    else:
        for p in out_dir.glob("part-*.parquet"):
            p.unlink()
        done = set()
    write_atomic(manifest, lambda tmp: tmp.write_text(json.dumps(key, indent=1, sort_keys=True)))
    return done


def run(tasks: list, work: Callable, *, out_dir: Path | None = None, key: dict | None = None,
        resume: bool = False, client=None, weights: Iterable[float] | None = None,
        keep: bool = True, label: str = "subjects", units: Iterable[int] | None = None) -> list[pd.DataFrame]:
    """``work(task)`` for every task; returns the tables in task order (``keep``), else [].

    ``out_dir``: write each table as a Parquet part (``key`` identifies the run for
    ``resume``). ``client``: a ``distributed.Client`` to run the tasks on. ``weights``: the
    work of each task (for the progress bar, in subject-days); ``units``: what each task
    counts as done (default 1 each), shown as ``label``.
    """
    tasks = list(tasks)
    weights = list(weights) if weights is not None else [1.0] * len(tasks)
    units = list(units) if units is not None else [1] * len(tasks)
    done = prepare(out_dir, key or {}, resume) if out_dir is not None else set()
    pending = [i for i in range(len(tasks)) if i not in done]
    results: dict[int, pd.DataFrame] = {}

    def finish(i: int, table: pd.DataFrame) -> None:
        if out_dir is not None:
            write_atomic(Path(out_dir) / PART.format(i), lambda tmp: table.to_parquet(tmp, index=False))
        if keep:
            results[i] = table

    with _progress(sum(weights[i] for i in pending), sum(units), sum(units[i] for i in done), label) as advance:
        if client is None:
            for i in pending:
                finish(i, work(tasks[i]))
                advance(weights[i], units[i])
        else:
            from distributed import as_completed

            futures = {client.submit(work, tasks[i], pure=False): i for i in pending}
            for future in as_completed(futures):
                i = futures[future]
                finish(i, future.result())
                advance(weights[i], units[i])
    if not keep:
        return []
    for i in sorted(done):
        results[i] = pd.read_parquet(Path(out_dir) / PART.format(i))
    return [results[i] for i in range(len(tasks))]


@contextlib.contextmanager
def _progress(work: float, total_units: int, units_done: int, label: str):
    """A rich progress bar (units done, time left) when the run is long enough to need one."""
    if work < PROGRESS_FROM:
        yield lambda w, u: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task(label, total=total_units, completed=units_done)
        yield lambda w, u: progress.advance(task, u)


def connect(address: str | None):
    """A Dask client for ``address`` (``tcp://host:port``), or None for the local run. An
    address nobody answers is a one-line error."""
    if address is None:
        return None
    try:
        from distributed import Client
    except ImportError:
        raise InputError("scheduler", "needs the 'distributed' package (pip install distributed)") from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError("scheduler", f"cannot reach {address}: {exc}") from None

