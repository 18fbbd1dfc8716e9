"""Running requests off the server's event loop: a pool of worker processes, a cache of
results, and background jobs for requests that would take longer than a page should wait.

The model's compiled simulator is one per process and not thread-safe, so simulations run
in worker processes (spawned, each compiling the model once); a crash there cannot take the
server down. A request estimated (``cost``) to take up to ``sync_budget_s`` is answered
directly; up to ``job_limit_s`` it becomes a job whose progress is polled; beyond, it is
refused. Jobs leave a worker free for direct requests whenever there are two or more.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from k2d3.errors import InputError
from k2d3.web import tasks

log = logging.getLogger("k2d3.web")


class Busy(Exception):
    """Too many requests are waiting; the client should try again later (HTTP 429)."""


class TaskFailed(Exception):
    """A worker raised something other than an input error (HTTP 500, logged)."""


class WorkerLost(Exception):
    """A worker process died (HTTP 503); the pool is rebuilt."""


@dataclass
class Job:
    id: str
    kind: str
    expected_s: float
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    finished: float | None = None
    result: object = None
    error: tuple[int, str, str] | None = None   # (HTTP status, field, problem)
    task: asyncio.Task | None = field(default=None, repr=False)

    @property
    def state(self) -> str:
        if self.finished is not None:
            return "failed" if self.error else "done"
        return "running" if self.started is not None else "queued"

    def status(self) -> dict:
        now = time.monotonic()
        elapsed = 0.0 if self.started is None else (self.finished or now) - self.started
        progress = {"queued": 0.0, "done": 1.0, "failed": 1.0}.get(
            self.state, min(0.99, elapsed / max(self.expected_s, 1e-9)))
        out = {"id": self.id, "kind": self.kind, "state": self.state, "progress": round(progress, 3),
               "progress_is": "elapsed time over the expected run time (an estimate) until done",
               "elapsed_s": round(elapsed, 1), "expected_s": round(self.expected_s, 1),
               "status_url": f"/api/jobs/{self.id}"}
        if self.state == "done":
            out["result_url"] = f"/api/jobs/{self.id}/result"
        if self.error:
            out["error"] = {"status": self.error[0], "field": self.error[1], "problem": self.error[2],
                            "error": f"{self.error[1]}: {self.error[2]}"}
        return out


class Runner:
    def __init__(self, workers: int = 2, sync_budget_s: float = 30.0, job_limit_s: float = 900.0,
                 max_waiting: int = 8, keep: int = 16):
        self.workers = max(1, workers)
        self.sync_budget_s = sync_budget_s
        self.job_limit_s = job_limit_s
        self.max_waiting = max_waiting
        self.keep = keep
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.cache: OrderedDict[str, object] = OrderedDict()
        self.pool: ProcessPoolExecutor | None = None
        self.waiting = 0

    # -- the pool
    def start(self) -> None:
        self._slots = asyncio.Semaphore(self.workers)
        self._job_slots = asyncio.Semaphore(max(1, self.workers - 1))
        self._new_pool()

    def _new_pool(self) -> None:
        self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=tasks.warm)
        for _ in range(self.workers):  # start every worker now, so the model compiles before a request
            self.pool.submit(int)

    def stop(self) -> None:
        for job in self.jobs.values():
            if job.task is not None and not job.task.done():
                job.task.cancel()
        if self.pool is not None:
            processes = list((getattr(self.pool, "_processes", None) or {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for p in processes:  # a worker may be in the middle of a long run: end it
                if p.is_alive():
                    p.terminate()
            self.pool = None

    async def compute(self, kind: str, key: str, args: dict) -> object:
        """The payload of one task, from the cache or a worker; an input error found there is
        raised again here as ``InputError``."""
        cache_key = f"{kind}:{key}"
        if cache_key in self.cache:
            self.cache.move_to_end(cache_key)
            return self.cache[cache_key]
        if self.waiting >= self.max_waiting:
            raise Busy(f"{self.waiting} requests are already waiting for the simulator; try again shortly")
        self.waiting += 1
        try:
            async with self._slots:
                loop = asyncio.get_running_loop()
                try:
                    outcome = await loop.run_in_executor(self.pool, tasks.run, kind, args)
                except BrokenProcessPool:
                    log.error("a worker process died during %s; starting new workers", kind)
                    self._new_pool()
                    raise WorkerLost("the simulation process stopped unexpectedly; try again") from None
        finally:
            self.waiting -= 1
        if outcome[0] == "input":
            raise InputError(outcome[1], outcome[2])
        if outcome[0] == "error":
            log.error("task %s failed: %s\n%s", kind, outcome[1], outcome[2])
            raise TaskFailed(outcome[1])
        self.cache[cache_key] = outcome[1]
        while len(self.cache) > self.keep:
            self.cache.popitem(last=False)
        return outcome[1]

    def cached(self, kind: str, key: str) -> bool:
        return f"{kind}:{key}" in self.cache

    # -- jobs
    def submit(self, kind: str, expected_s: float, work: Callable[[], Awaitable[object]],
               on_error: Callable[[BaseException], tuple[int, str, str]]) -> Job:
        """Run ``work`` in the background as a job; ``on_error`` turns an exception into
        (status, field, problem)."""
        active = sum(j.finished is None for j in self.jobs.values())
        if active >= self.max_waiting:
            raise Busy(f"{active} background jobs are queued or running; try again when one has finished")
        job = Job(uuid.uuid4().hex[:12], kind, expected_s)

        async def body():
            async with self._job_slots:
                job.started = time.monotonic()
                try:
                    job.result = await work()
                except asyncio.CancelledError:
                    raise
                except BaseException as exc:  # noqa: BLE001 - every failure becomes the job's error
                    job.error = on_error(exc)
                finally:
                    job.finished = time.monotonic()

        job.task = asyncio.create_task(body())
        self.jobs[job.id] = job
        finished = [k for k, j in self.jobs.items() if j.finished is not None]
        for k in finished[:max(0, len(self.jobs) - self.keep)]:
            del self.jobs[k]
        return job
