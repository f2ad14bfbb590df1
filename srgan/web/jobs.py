"""Background upscaling jobs for the web page: one worker thread, first come first served.

A request never waits for the work: :meth:`JobQueue.submit` stores the job and returns its
id at once; the page polls :meth:`JobQueue.status` for its place in the queue, its
progress (ZSSR reports every training step) and, at the end, its result files. A second
request while one runs waits in the queue; none is dropped. Results live in the queue's
folder until ``keep`` newer jobs have finished, or the server stops.
"""

from __future__ import annotations

import collections
import itertools
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from srgan import files

# work(image, progress) -> uint8 SR image; progress(done, total, note).
Work = Callable[[np.ndarray, Callable[[int, int, str], None]], np.ndarray]


@dataclass
class Job:
    """One upscaling request and what has come of it."""

    id: str
    name: str
    image: Optional[np.ndarray]
    work: Work
    state: str = "queued"  # queued, running, done, error
    progress: float = 0.0
    note: str = ""
    error: str = ""
    files: dict = field(default_factory=dict)
    size: tuple = ()


class JobQueue:
    """A FIFO of :class:`Job` run by one daemon thread; results go under ``folder``.

    Args:
        folder: where result PNGs are written (a temporary folder of the server's).
        keep: finished jobs whose files are kept; older ones are forgotten and deleted.
        bicubic: ``(image, scale) -> image``, the comparison written beside each result.
    """

    def __init__(self, folder: Path, keep: int, bicubic: Callable[[np.ndarray], np.ndarray]):
        self.folder, self.keep, self.bicubic = Path(folder), keep, bicubic
        self._jobs: dict[str, Job] = {}
        self._waiting: collections.deque[str] = collections.deque()
        self._finished: collections.deque[str] = collections.deque()
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._counter = itertools.count(1)
        self._running: Optional[str] = None
        threading.Thread(target=self._run, name="upscale-jobs", daemon=True).start()

    def submit(self, name: str, image: np.ndarray, work: Work) -> str:
        """Queue ``work`` on uint8 ``image`` (``(H, W, C)``); returns the job's id."""
        job = Job(f"{next(self._counter)}-{secrets.token_hex(8)}", name, image, work)
        with self._ready:
            self._jobs[job.id] = job
            self._waiting.append(job.id)
            self._ready.notify()
        return job.id

    def status(self, job_id: str) -> Optional[dict]:
        """The job as JSON-ready dict (``ahead``: jobs before it), or None if unknown."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
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

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._waiting:
                    self._ready.wait()
                job = self._jobs[self._waiting.popleft()]
                self._running, job.state = job.id, "running"
            self._do(job)
            with self._lock:
                self._running, job.image = None, None
                self._finished.append(job.id)
                old = (self._jobs.pop(self._finished.popleft())
                       for _ in range(max(0, len(self._finished) - self.keep)))
                stale = [p for j in old for p in j.files.values()]
            for path in stale:
                path.unlink(missing_ok=True)

    def _do(self, job: Job) -> None:
        """Run one job, recording its result files or a one-line error."""

        def progress(done: int, total: int, note: str) -> None:
            job.progress, job.note = done / max(total, 1), note

        try:
            sr = job.work(job.image, progress)
            scale = sr.shape[0] // job.image.shape[0]
            outputs = {"result": sr, "bicubic": self.bicubic(job.image, scale)}
            for kind, image in outputs.items():
                path = files.safe_output_path(self.folder, f"{job.id}-{kind}.png")
                job.files[kind] = files.atomic_save_png(path, image)
            job.size = (sr.shape[1], sr.shape[0])
            job.progress, job.state = 1.0, "done"
        except Exception as e:  # the page shows it; the worker lives on for the next job
            job.error, job.state = f"{job.name}: {files.first_line(e)}", "error"
