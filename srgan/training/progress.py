"""How long a training run will take: its plan after the first timed steps, then the time
left after every epoch, on the terminal and in TensorBoard (``eta/hours_left``).

The first :data:`UNTIMED` steps of a phase trace and compile its train step, so they are
left out. Once :data:`PLAN_STEPS` steps or :data:`PLAN_SECONDS` seconds have been timed,
:class:`ProgressCallback` logs the plan: each phase still to run, its epochs and steps,
and the time left at the rate measured. A phase not started yet is timed when it starts
(a GAN step costs more than a pre-training one: the discriminator and the perceptual
loss). After each epoch the rate is measured again over the whole phase so far,
validation and checkpoint saves included, and the time left is logged and written to
TensorBoard. The lines go to the logger :data:`srgan.console.PROGRESS`, which
``--quiet`` keeps.
"""

from __future__ import annotations

import datetime
import logging
import time
from typing import Callable, Optional, Sequence

import keras
import tensorflow as tf

from srgan.console import PROGRESS

UNTIMED = 2
PLAN_STEPS = 10
PLAN_SECONDS = 20.0
# What a run on the built-in sample faces should try first: about two minutes on two
# shared CPU cores (docs/recipes.md gives the measurement). Suggested with the plan when
# the phase would take longer than QUICK_WORTH_S.
QUICK_COMMAND = "python train.py --epochs 2 --steps-per-epoch 3 --batch-size 2"
QUICK_WORTH_S = 600.0

logger = logging.getLogger(PROGRESS)


def duration(seconds: float) -> str:
    """``42 s``, ``7 min``, ``1 h 05 min``, ``3 d 4 h``: rounded to what a person plans by."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours + (minutes >= 30), 24)
    return f"{days} d {hours} h"


def finish_time(seconds: float, now: Optional[float] = None) -> str:
    """The wall-clock time ``seconds`` from ``now``: ``14:32``, or ``Tue 09:10`` when it is
    not today."""
    now = time.time() if now is None else now
    start, end = datetime.datetime.fromtimestamp(now), datetime.datetime.fromtimestamp(
        now + seconds)
    return end.strftime("%H:%M" if end.date() == start.date() else "%a %H:%M")


class ProgressCallback(keras.callbacks.Callback):
    """Times one phase's steps; logs the plan once, then the time left at each epoch end.

    Place it last, so that an epoch's validation and save count in the rate.

    Args:
        phase: ``pretrain`` or ``gan``.
        epochs: ``(first, total)``: the phase's next epoch number (1-based) and its total.
        steps: steps this phase has still to run, partial epoch included.
        steps_per_epoch: steps of a whole epoch.
        later: ``(name, steps)`` of the phases after this one, timed when they start.
        writer: TensorBoard writer for ``eta/hours_left``.
        step: the generator's global step (TensorBoard's x axis).
        hint: a line logged with the plan when the phase has more than
            :data:`QUICK_WORTH_S` seconds left or more (the quick command, on the sample
            faces).
        clock: seconds since some fixed point (``time.monotonic``; tests pass their own).
    """

    def __init__(self, phase: str, epochs: tuple[int, int], steps: int, steps_per_epoch: int,
                 later: Sequence[tuple[str, int]], writer, step: Callable[[], int],
                 hint: Optional[str] = None, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.phase, self.epochs, self.left, self.steps_per_epoch = phase, epochs, steps, \
            steps_per_epoch
        self.later, self.writer, self.step, self.hint, self.clock = (list(later), writer,
                                                                    step, hint, clock)
        self.seen, self.start, self.planned = 0, None, False

    def _rate(self) -> Optional[float]:
        """Seconds per step over the timed steps so far, or None before any."""
        timed = self.seen - UNTIMED
        return None if self.start is None or timed < 1 else (self.clock() - self.start) / timed

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        self.left -= 1
        if self.seen == UNTIMED:
            self.start = self.clock()
        timed = self.seen - UNTIMED
        if not self.planned and timed >= 1 and (
                timed >= PLAN_STEPS or self.clock() - self.start >= PLAN_SECONDS):
            self._plan()

    def _plan(self) -> None:
        """Log the plan once, and the hint when the phase is long."""
        self.planned = True
        rate = self._rate()
        logger.info(self.plan(rate))
        if self.hint and rate * self.left >= QUICK_WORTH_S:
            logger.info(self.hint)

    def plan(self, rate: float) -> str:
        """The plan line, at ``rate`` seconds per step."""
        first, total = self.epochs
        left = rate * self.left
        text = (f"plan: {self.phase} epochs {first}..{total} of {self.steps_per_epoch} "
                f"steps, {self.left:,} steps left at {rate:.3g} s each: about "
                f"{duration(left)}, until {finish_time(left)}")
        for name, steps in self.later:
            if steps:
                text += f"; then {name}: {steps:,} steps, timed when it starts"
        return text

    def on_epoch_end(self, epoch, logs=None):
        rate = self._rate()
        if rate is None:
            return
        if not self.planned:  # an epoch shorter than the timing: the plan says it all
            self._plan()
            return
        left = rate * self.left
        later = sum(steps for _, steps in self.later)
        more = f" (then {later:,} {self.later[0][0]} steps)" if later else ""
        logger.info(f"{self.phase} epoch {epoch + 1}/{self.epochs[1]}: {duration(left)} "
                    f"left{more}, until {finish_time(left)}, at {rate:.3g} s a step")
        with self.writer.as_default(step=self.step()):
            tf.summary.scalar("eta/hours_left", left / 3600)
        self.writer.flush()
