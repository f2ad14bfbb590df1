"""The web page's worker: one child process that runs the jobs, one at a time.

The server never runs a job itself. :class:`Worker` starts a child process (``spawn``:
a fresh interpreter, no copy of the server's threads) that imports TensorFlow on its
first job, keeps the shipped generators it has loaded, and takes job after job through a
pipe. A job that runs past its time limit, is cancelled, or makes the child use more than
``memory_limit_mb`` gets the child killed (SIGKILL); a child that dies by itself (the
kernel's out-of-memory killer, a crash) is noticed the same way. Either way that job fails
with one line and the next job starts a new child: the server, its queue and the other
jobs carry on.

Why one long-lived child and not a process per job: a new one costs an interpreter and
the TensorFlow import before its first job, and loading and tracing a model on its first
job of that model. Measured on two CPU cores shared with a training run
(docs/reliability.md): a bicubic x4 of a 256x256 image took 11.8 s in a new worker and
0.5 s in a warm one; SRGAN x4 of it 17.6 s the first time in a warm worker, 10.9 s after.
A process per job would pay those 11 s on every job; the long-lived one only after a kill.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from typing import Callable, Optional

from srgan.files import first_line

# How often the parent looks at the child's messages, its clock and its memory.
POLL_S = 0.1
# The child sends progress at most this often.
PROGRESS_EVERY_S = 0.25


class JobFailed(Exception):
    """A job did not finish; ``str()`` is one line for the page."""


class Cancelled(JobFailed):
    """A job was stopped on purpose (by its user, or because nobody polled it)."""


class Worker:
    """The child process that runs jobs (see the module docstring); used by one thread.

    Args:
        runner: ``"module:function"`` the child calls as ``function(task, progress)``;
            it returns a picklable dict, or raises with a one-line message.
        memory_limit_mb: kill the child when its resident memory passes this (Linux;
            None: no limit).
        tmp: the child's temporary folder (``TMPDIR``; created), so that what it leaves
            there when killed (TensorFlow's autograph files) goes with the server's
            folder; None: the system's.
    """

    def __init__(self, runner: str, memory_limit_mb: Optional[float] = None,
                 tmp: Optional[str] = None):
        self.runner, self.memory_limit_mb, self.tmp = runner, memory_limit_mb, tmp
        self.starts = 0
        self.broken: Optional[str] = None  # why no job can run at all (the runner won't load)
        self._context = multiprocessing.get_context("spawn")
        self._process = None
        self._conn = None
        self.pid: Optional[int] = None  # the child's, from its start until it is reaped

    def rss_mb(self) -> Optional[float]:
        """The child's resident memory in MiB (Linux), or None."""
        pid = self.pid
        if pid is None:
            return None
        try:
            with open(f"/proc/{pid}/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError, IndexError):
            return None

    def run(self, task, progress: Callable[[float, str], None],
            stop: Callable[[], Optional[str]], limit_s: float) -> dict:
        """Run ``task`` in the child; returns what the runner returned.

        Args:
            task: picklable; the runner's first argument.
            progress: ``(fraction done, note)``, called from this thread.
            stop: returns a reason to cancel the job now, or None to go on.
            limit_s: the job's time limit in seconds, counted from now.

        Raises:
            Cancelled: ``stop`` gave a reason (the child was killed).
            JobFailed: the runner raised, the time or memory limit was passed, or the
                child died; one line.
        """
        if self.broken:
            raise JobFailed(self.broken)
        if self._process is None or self._process.exitcode is not None:
            self.kill()  # reaps a child that died between jobs
            self._start()
        try:
            self._conn.send(task)
        except OSError:
            raise self._died() from None
        deadline = time.monotonic() + limit_s
        while True:
            try:
                while self._conn.poll(POLL_S):
                    kind, *args = self._conn.recv()
                    if kind == "progress":
                        progress(*args)
                    elif kind == "done":
                        return args[0]
                    elif kind == "error":
                        raise JobFailed(args[0])
                    elif kind == "broken":
                        self.broken = args[0]
                        self.kill()
                        raise JobFailed(self.broken)
            except (EOFError, OSError):
                raise self._died() from None
            if self._process.exitcode is not None:
                raise self._died()
            reason = stop()
            if reason:
                self.kill()
                raise Cancelled(reason)
            if time.monotonic() > deadline:
                self.kill()
                raise JobFailed(f"stopped after the time limit of {limit_s:g} s")
            rss = self.rss_mb()
            if self.memory_limit_mb and rss and rss > self.memory_limit_mb:
                self.kill()
                raise JobFailed(f"stopped: it needed more than the memory limit of "
                                f"{self.memory_limit_mb:g} MiB")

    def kill(self) -> None:
        """SIGKILL the child (if any) and wait for it; the next job starts a new one."""
        if self._process is not None:
            self._process.kill()
            self._process.join(10)
            self._conn.close()
        self._process = self._conn = self.pid = None

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        self._process = self._context.Process(
            target=child_main, args=(child, self.runner, os.getpid(), self.tmp),
            name="srgan-web-worker", daemon=True)
        self._process.start()
        child.close()
        self._conn, self.pid = parent, self._process.pid
        self.starts += 1

    def _died(self) -> JobFailed:
        """The error for a child that is gone, after reaping it."""
        self._process.join(10)
        code = self._process.exitcode
        self.kill()
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            why = " (out of memory?)" if -code == signal.SIGKILL else ""
            return JobFailed(f"the worker process was killed by {name}{why}")
        return JobFailed(f"the worker process stopped (exit code {code})")


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when the server dies; exit if it already has."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(0)


def child_main(conn, runner: str, parent: int, tmp: Optional[str] = None) -> None:
    """The child's loop: load ``runner``, then run each task received until the pipe
    closes. Sends ``("progress", fraction, note)`` at most every :data:`PROGRESS_EVERY_S`,
    then ``("done", result)`` or ``("error", one line)``; ``("broken", one line)`` and exit
    if ``runner`` cannot be loaded. ``tmp``: the temporary folder for all it writes."""
    for sig in (signal.SIGINT, signal.SIGHUP):  # the terminal's signals are the server's
        signal.signal(sig, signal.SIG_IGN)
    _die_with_parent(parent)
    try:
        if tmp is not None:
            os.makedirs(tmp, exist_ok=True)
            os.environ["TMPDIR"] = tempfile.tempdir = tmp
        module, _, name = runner.partition(":")
        run = getattr(importlib.import_module(module), name)
    except Exception as e:
        conn.send(("broken", f"the worker cannot load {runner} ({first_line(e)})"))
        return
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        last = 0.0

        def progress(done: int, total: int, note: str) -> None:
            nonlocal last
            if time.monotonic() - last >= PROGRESS_EVERY_S or done >= total:
                conn.send(("progress", done / max(total, 1), note))
                last = time.monotonic()

        try:
            reply = ("done", run(task, progress))
        except Exception as e:  # MemoryError too: one line for the page
            reply = ("error", first_line(e))
        conn.send(reply)
