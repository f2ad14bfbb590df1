"""The web page's job queue: who may queue what, one job at a time, how long results live.

A request never waits for the work. :meth:`JobQueue.reserve` holds a place in the queue
(or refuses at once, before the upload is read: :class:`Busy`, the page's 429), the
server checks the upload, then :meth:`JobQueue.submit` queues it and returns. One thread
hands the jobs, first come first served, to the :class:`srgan.web.worker.Worker` child
process, which runs them one at a time under a time limit; the page polls
:meth:`JobQueue.status` for its place, its progress and, at the end, its result files.

Limits (:class:`QueueLimits`): at most ``max_queue`` jobs queued or running and
``per_client`` per client address; the uploaded files of queued jobs (they wait on disk,
never decoded in the server) at most ``max_queued_bytes``. A queued or running job nobody
has asked about for ``abandon_s`` is cancelled. Finished jobs are forgotten, their files
deleted, ``ttl_s`` after they finish, or sooner, oldest first, beyond ``keep`` jobs or
``max_result_bytes`` of files (the newest finished job is always kept).
"""

from __future__ import annotations

import collections
import itertools
import math
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from srgan.files import first_line
from srgan.web.worker import Cancelled, JobFailed, Worker

ACTIVE = ("queued", "running")
# The janitor's round: abandoned jobs, expired and surplus results.
TIDY_EVERY_S = 1.0


@dataclass(frozen=True)
class QueueLimits:
    """What the queue holds at most, and for how long (see the module docstring)."""

    max_queue: int = 8
    per_client: int = 2
    max_queued_bytes: int = 64_000_000
    keep: int = 20
    max_result_bytes: int = 1_000_000_000
    ttl_s: float = 1800.0
    abandon_s: float = 60.0


class Busy(Exception):
    """No room for another job now; ``retry_after`` is a guess in whole seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(Exception):
    """The worker cannot run jobs (its thread died, or it cannot load); one line."""


@dataclass
class Job:
    """One upscaling request and what has come of it (times from ``time.monotonic``)."""

    id: str
    client: str
    name: str = ""
    task: object = None
    limit_s: float = 0.0
    upload: Optional[Path] = None
    upload_bytes: int = 0
    state: str = "reserved"  # reserved, queued, running, done, error, cancelled
    progress: float = 0.0
    note: str = ""
    error: str = ""
    files: dict = field(default_factory=dict)
    size: tuple = ()
    result_bytes: int = 0
    seen: float = field(default_factory=time.monotonic)
    started: Optional[float] = None
    finished: Optional[float] = None
    cancel: Optional[str] = None


class JobQueue:
    """Jobs of all clients, run one at a time by ``worker`` (see the module docstring).

    Args:
        limits: what the queue holds at most, and for how long.
        worker: runs each job's ``task``; owned by the queue from now on.
    """

    def __init__(self, limits: QueueLimits, worker: Worker):
        self.limits, self.worker = limits, worker
        self._jobs: dict[str, Job] = {}
        self._waiting: collections.deque[str] = collections.deque()
        self._finished: collections.deque[str] = collections.deque()
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._closed = threading.Event()
        self._counter = itertools.count(1)
        self._running: Optional[Job] = None
        self._mean_s = 10.0  # a running mean of job times, for Retry-After
        self._threads = [threading.Thread(target=self._dispatch, name="web-jobs", daemon=True),
                         threading.Thread(target=self._tidy, name="web-janitor", daemon=True)]
        for thread in self._threads:
            thread.start()

    def reserve(self, client: str, upload_bytes: int) -> Job:
        """Hold a place for ``client``'s next job; pass it to :meth:`submit` or
        :meth:`release`. Decided from counts alone, before the upload is read.

        Raises:
            Unavailable: the worker is down.
            Busy: the queue, the client's share of it, or the bytes of queued uploads
                are full.
        """
        limits = self.limits
        with self._lock:
            if not self.alive():
                raise Unavailable(self.worker.broken or "the job thread has stopped; the "
                                  "server needs a restart")
            active = [j for j in self._jobs.values() if j.state in ACTIVE + ("reserved",)]
            mine = sum(j.client == client for j in active)
            queued = sum(j.upload_bytes for j in active if j.state != "running")
            wait = self._retry_after(1)
            if mine >= limits.per_client:
                order = [self._running] * (self._running is not None) + [
                    self._jobs[i] for i in self._waiting]
                first = next((k for k, j in enumerate(order) if j.client == client), 0)
                raise Busy(f"you have {mine} jobs queued or running, the most this page "
                           f"takes from one address; wait for one or cancel it",
                           self._retry_after(first + 1))
            if len(active) >= limits.max_queue:
                raise Busy(f"the queue is full ({len(active)} jobs); try again in {wait} s",
                           wait)
            if queued + upload_bytes > limits.max_queued_bytes:
                raise Busy(f"the queued uploads already hold {queued / 1e6:.0f} MB of the "
                           f"{limits.max_queued_bytes / 1e6:g} MB they may; try again in "
                           f"{wait} s", wait)
            job = Job(f"{next(self._counter)}-{secrets.token_hex(8)}", client,
                      upload_bytes=upload_bytes)
            self._jobs[job.id] = job
            return job

    def release(self, job: Job) -> None:
        """Give back a place that :meth:`reserve` held (the upload was refused)."""
        with self._lock:
            self._jobs.pop(job.id, None)

    def submit(self, job: Job, name: str, task, limit_s: float, upload: Path) -> str:
        """Queue a reserved ``job``: ``task`` for the worker, at most ``limit_s`` seconds
        of it; ``upload`` is deleted once the job ends. Returns the job's id."""
        with self._ready:
            job.name, job.task, job.limit_s, job.upload = name, task, limit_s, upload
            job.upload_bytes = upload.stat().st_size
            job.state, job.seen = "queued", time.monotonic()
            self._waiting.append(job.id)
            self._ready.notify()
        return job.id

    def status(self, job_id: str) -> Optional[dict]:
        """The job as a JSON-ready dict (``ahead``: jobs before it), or None if unknown.
        Asking counts as the client still being there."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state == "reserved":
                return None
            job.seen = time.monotonic()
            ahead = (list(self._waiting).index(job_id) + (self._running is not None)
                     if job.state == "queued" else 0)
            return {"id": job.id, "name": job.name, "state": job.state, "ahead": ahead,
                    "progress": round(job.progress, 4), "note": job.note,
                    "error": job.error, "files": sorted(job.files), "size": job.size}

    def file(self, job_id: str, kind: str) -> Optional[Path]:
        """The path of a finished job's ``kind`` file (``result``, ``bicubic``), or None."""
        with self._lock:
            job = self._jobs.get(job_id)
            return job.files.get(kind) if job is not None else None

    def cancel(self, job_id: str, reason: str = "cancelled") -> Optional[str]:
        """Stop a queued or running job, or delete a finished one and its files.

        Returns the job's state afterwards (``cancelled``, or ``deleted``), None if the
        job is unknown. A running job is cancelled by killing the worker process, so the
        next job starts a new one."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state == "reserved":
                return None
            if job.state == "running":
                job.cancel = reason
                return "cancelled"
            if job.state == "queued":
                self._waiting.remove(job_id)
                self._end(job, "cancelled", reason)
                return "cancelled"
            self._forget([job_id])
            return "deleted"

    def alive(self) -> bool:
        """Whether jobs can run: both threads alive and the worker loadable."""
        return all(t.is_alive() for t in self._threads) and not self.worker.broken

    def health(self) -> dict:
        """``worker`` (alive or dead), its process id (None until the first job and
        after a kill), ``queue`` (jobs waiting), ``running_s`` (how long the current job
        has run, None if none), ``starts`` (worker processes started) and ``reason``."""
        with self._lock:
            running = self._running
            waiting = len(self._waiting)
        return {"worker": "alive" if self.alive() else "dead", "worker_pid": self.worker.pid,
                "queue": waiting, "starts": self.worker.starts,
                "running_s": (None if running is None or running.started is None
                              else round(time.monotonic() - running.started, 1)),
                "reason": self.worker.broken or ""}

    def close(self) -> None:
        """Stop the threads and the worker process (the running job is killed)."""
        self._closed.set()
        with self._ready:
            self._ready.notify_all()
        for thread in self._threads:
            thread.join(15)
        self.worker.kill()

    def _retry_after(self, jobs: int) -> int:
        """Seconds until about ``jobs`` jobs have finished, from 1 to 60."""
        return max(1, min(60, math.ceil(self._mean_s * max(jobs, 1))))

    def _dispatch(self) -> None:
        """The job thread: hand the waiting jobs to the worker, one at a time."""
        while True:
            with self._ready:
                while not self._waiting and not self._closed.is_set():
                    self._ready.wait()
                if self._closed.is_set():
                    return
                job = self._jobs[self._waiting.popleft()]
                job.state, job.started, self._running = "running", time.monotonic(), job

            def progress(fraction: float, note: str) -> None:
                job.progress, job.note = fraction, note

            def stop() -> Optional[str]:
                return "the server is stopping" if self._closed.is_set() else job.cancel

            try:
                result = self.worker.run(job.task, progress, stop, job.limit_s)
                outcome = ("done", "")
            except Cancelled as e:
                result, outcome = None, ("cancelled", str(e))
            except JobFailed as e:
                result, outcome = None, ("error", f"{job.name}: {e}")
            except Exception as e:  # the pipe itself failed: start afresh with the next job
                self.worker.kill()
                result, outcome = None, ("error", f"{job.name}: the worker failed "
                                                  f"({first_line(e)})")
            with self._lock:
                if result is not None:
                    job.files = {kind: Path(p) for kind, p in result["files"].items()}
                    job.size = tuple(result["size"])
                    job.result_bytes = sum(p.stat().st_size for p in set(job.files.values())
                                           if p.is_file())
                    job.progress = 1.0
                    self._mean_s += 0.2 * (time.monotonic() - job.started - self._mean_s)
                self._running = None
                self._end(job, *outcome)

    def _end(self, job: Job, state: str, error: str) -> None:
        """Mark ``job`` finished (lock held)."""
        job.state, job.error, job.finished = state, error, time.monotonic()
        self._finished.append(job.id)
        if job.upload is not None:
            job.upload.unlink(missing_ok=True)

    def _tidy(self) -> None:
        """The janitor thread: every :data:`TIDY_EVERY_S`, cancel abandoned jobs and
        forget results past their lifetime or beyond the count and byte limits."""
        limits = self.limits
        while not self._closed.wait(TIDY_EVERY_S):
            now = time.monotonic()
            with self._lock:
                for job in list(self._jobs.values()):
                    if job.state == "reserved" and now - job.seen > limits.abandon_s:
                        del self._jobs[job.id]  # a request that never submitted it
                    elif job.state in ACTIVE and now - job.seen > limits.abandon_s:
                        reason = (f"cancelled: nobody asked about it for "
                                  f"{limits.abandon_s:g} s (was the page closed?)")
                        if job.state == "queued":
                            self._waiting.remove(job.id)
                            self._end(job, "cancelled", reason)
                        else:
                            job.cancel = job.cancel or reason
                done = [self._jobs[i] for i in self._finished]
                drop = {j.id for j in done if now - j.finished > limits.ttl_s}
                drop.update(j.id for j in done[:max(0, len(done) - limits.keep)])
                total = sum(j.result_bytes for j in done if j.id not in drop)
                for job in done[:-1]:
                    if total <= limits.max_result_bytes:
                        break
                    if job.id not in drop:
                        drop.add(job.id)
                        total -= job.result_bytes
                self._forget(drop)

    def _forget(self, job_ids) -> None:
        """Drop finished jobs and delete their files (lock held)."""
        for job_id in job_ids:
            job = self._jobs.pop(job_id)
            self._finished.remove(job_id)
            for path in set(job.files.values()):
                path.unlink(missing_ok=True)
