"""What the commands print: logging on the terminal, and TensorFlow's start-up lines.

Library modules print nothing themselves: they log to ``logging.getLogger(__name__)``
(under ``srgan``), and a training run's status lines go to the ``log`` callable its
functions take, by default the same loggers. The commands (:mod:`srgan.cli`) show them
while they run, through :func:`to_terminal`:

* INFO lines (what runs, what was written, one line per file) go to stdout as they are;
* warnings and errors go to stderr as ``warning: ...`` and ``error: ...``;
* ``--quiet`` keeps warnings, errors and a training run's time left (the logger
  :data:`PROGRESS`); ``--verbose`` adds DEBUG lines and TensorFlow's own start-up lines.

Lines are written with ``tqdm.write``, above any progress bar, to the ``sys.stdout`` or
``sys.stderr`` of the moment (so ``redirect_stdout`` and pytest's capture see them). A
program that imports srgan configures logging as usual; with nothing configured, Python
shows warnings and errors only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from typing import Iterator

QUIET, NORMAL, VERBOSE = logging.WARNING, logging.INFO, logging.DEBUG
# A training run's plan and time left: still shown with --quiet.
PROGRESS = "srgan.progress"
_PREFIXES = {logging.WARNING: "warning: ", logging.ERROR: "error: ",
             logging.CRITICAL: "error: "}


def verbosity(quiet: bool, verbose: bool) -> int:
    """The logging level ``--quiet`` / ``--verbose`` ask for (:data:`NORMAL` for neither)."""
    return QUIET if quiet else VERBOSE if verbose else NORMAL


class TerminalHandler(logging.Handler):
    """One record per line: below WARNING to stdout as it is, from WARNING on to stderr
    after ``warning: `` or ``error: `` (a record's ``prefix`` attribute, given through
    ``extra``, replaces that prefix)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            prefix = getattr(record, "prefix", _PREFIXES.get(record.levelno, ""))
            stream = sys.stderr if record.levelno >= logging.WARNING else sys.stdout
            tqdm.write(prefix + self.format(record), file=stream)
            stream.flush()
        except Exception:  # noqa: BLE001 - logging's own contract: report, never raise
            self.handleError(record)


@contextlib.contextmanager
def to_terminal(level: int = NORMAL) -> Iterator[None]:
    """Show srgan's log records of ``level`` and above on the terminal while inside, and
    only there: not also through a handler that a library gave the root logger (absl
    calls ``logging.basicConfig()`` when it first logs). The loggers are as they were
    afterwards."""
    top, progress = logging.getLogger("srgan"), logging.getLogger(PROGRESS)
    before = top.level, top.propagate, progress.level
    handler = TerminalHandler()
    top.addHandler(handler)
    top.setLevel(level)
    top.propagate = False
    progress.setLevel(min(level, logging.INFO))
    try:
        yield
    finally:
        top.removeHandler(handler)
        top.setLevel(before[0])
        top.propagate = before[1]
        progress.setLevel(before[2])


def import_tensorflow(level: int = NORMAL) -> None:
    """Import TensorFlow, keeping its C++ start-up lines off the terminal unless ``level``
    is :data:`VERBOSE`.

    ``TF_CPP_MIN_LOG_LEVEL`` 3 (unless already set) silences TensorFlow's own C++ log.
    TensorFlow 2.21 also writes lines through absl before absl's log is initialised
    ("All log messages before absl::InitializeLog() is called are written to STDERR",
    oneDNN and CUDA notices), which no setting reaches: file descriptor 2 goes to a
    temporary file during the import, and its text comes back on stderr if the import
    fails. Call it before anything imports TensorFlow; later calls do nothing.
    """
    if level <= VERBOSE:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules or level <= VERBOSE:
        import tensorflow  # noqa: F401

        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
