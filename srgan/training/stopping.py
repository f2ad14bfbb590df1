"""Stopping a training run safely: on Ctrl-C / SIGTERM after a save, and on a NaN before one.

* :class:`GracefulStop`: while training, SIGINT and SIGTERM only ask for a stop. The
  current step finishes, :class:`srgan.training.callbacks.CheckpointCallback` saves (mid-epoch if
  need be) and raises :class:`Stopped`, whose ``code`` is the exit status, 130 or 143.
  A second signal stops at once (``KeyboardInterrupt``), keeping the last save.
* :class:`NonFiniteGuard`: after every step, a NaN or infinite loss raises
  :class:`NonFiniteLoss` naming the loss and the step. It runs before the checkpoint
  callback, so nothing of that step is saved and the last good checkpoint is untouched.
  It reads the ``logs`` Keras passes after each step (the epoch's running means, as
  Python floats): one non-finite step makes its loss's running mean non-finite too.
"""

from __future__ import annotations

import math
import os
import signal
import threading
from typing import Callable, Optional

import keras

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(Exception):
    """Training stopped on a signal after saving. ``code``: exit status, 128 + signal."""

    def __init__(self, signum: int, saved: str, step: int):
        self.code = 128 + signum
        super().__init__(f"stopped by {signal.Signals(signum).name} at step {step}; saved "
                         f"{saved}; run the same command to resume")


class NonFiniteLoss(FloatingPointError):
    """A loss became NaN or infinite; ``str()`` names it, the step and the kept save."""


class GracefulStop:
    """Context manager turning SIGINT/SIGTERM into a stop request for its duration.

    The previous handlers are restored on exit. Outside the main thread (where Python
    cannot install handlers) it does nothing.

    Attributes:
        signum: the first signal received, or None.
    """

    def __init__(self, log: Callable[[str], None] = print):
        self.log, self.signum = log, None
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def stopped(self, saved: str, step: int) -> None:
        """Raise :class:`Stopped`: the state at ``step`` was saved to ``saved``."""
        raise Stopped(self.signum, saved, step)

    def _handle(self, signum, frame) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt  # a second signal: stop now, the last save is kept
        self.signum = signum
        # os.write, not print: a handler may run in the middle of another print.
        os.write(2, f"\n{signal.Signals(signum).name}: stopping after this step, with a "
                    f"checkpoint (send it again to stop at once)\n".encode())

    def __enter__(self) -> "GracefulStop":
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in STOP_SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous = {}


class NonFiniteGuard(keras.callbacks.Callback):
    """Raises :class:`NonFiniteLoss` after the first step with a NaN/inf loss.

    Place it before the checkpoint callback. Reads the ``logs`` of the step (running
    means, which a non-finite step value makes non-finite).

    Args:
        state: the run's :class:`srgan.training.checkpoint.TrainingState` (step, last save).
        phase: ``pretrain`` or ``gan``, for the message.
    """

    def __init__(self, state, phase: str):
        super().__init__()
        self.state, self.phase = state, phase

    def on_train_batch_end(self, batch, logs=None):
        bad = {name: value for name, value in (logs or {}).items()
               if name.endswith("loss") and not math.isfinite(value)}
        if bad:
            latest: Optional[str] = self.state.manager.latest_checkpoint
            raise NonFiniteLoss(
                f"{', '.join(f'{n} is {v}' for n, v in bad.items())} at step "
                f"{self.state.step} ({self.phase} phase); stopped without saving that step; "
                f"last good checkpoint: {latest or 'none yet'} (untouched)")
