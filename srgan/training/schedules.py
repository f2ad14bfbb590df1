"""Learning-rate schedules per training phase.

A schedule runs over one phase (SRResNet pre-training, or the GAN phase), from the
optimizer step at which that phase began (kept in the checkpoint) to the phase's last
step. It is rebuilt from the config on every start and holds no variable of its own, so a
changed ``--g-lr`` or ``--lr-schedule`` applies after resume (a plain rate would be a
variable that the checkpoint restores over the new value).

* ``cosine``: from the rate to ``min_ratio`` times it along half a cosine (BasicSR);
* ``step``: the rate, then a tenth of it from halfway (the SRGAN paper: 1e-4 for 1e5
  updates, then 1e-5 for 1e5 more);
* ``constant``: the rate throughout.

:func:`set_schedules` gives both optimizers their phase's schedule at the start of each
phase.
"""

from __future__ import annotations

import logging
import math
from typing import Callable

import keras
import tensorflow as tf

from srgan.config import Config

logger = logging.getLogger(__name__)


class PhaseSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Learning rate at optimizer step ``t`` for a phase of ``total_steps`` steps.

    Args:
        rate: the phase's first (peak) learning rate.
        kind: ``cosine``, ``step`` or ``constant``.
        total_steps: the phase's length in optimizer steps.
        start: the step at which the phase began: an int, or an int64 variable read at
            every call (:class:`srgan.training.checkpoint.TrainingState` keeps it).
        min_ratio: the cosine schedule's final rate as a fraction of ``rate``.
    """

    def __init__(self, rate: float, kind: str, total_steps: int, start=0,
                 min_ratio: float = 0.01):
        self.rate, self.kind, self.total_steps = float(rate), kind, max(1, int(total_steps))
        self.start, self.min_ratio = start, float(min_ratio)

    def __call__(self, step):
        t = tf.cast(step, tf.float32) - tf.cast(self.start, tf.float32)
        frac = tf.clip_by_value(t / float(self.total_steps), 0.0, 1.0)
        if self.kind == "cosine":
            cosine = 0.5 * (1.0 + tf.cos(math.pi * frac))
            return self.rate * (self.min_ratio + (1.0 - self.min_ratio) * cosine)
        if self.kind == "step":
            return self.rate * tf.where(frac < 0.5, 1.0, 0.1)
        return tf.constant(self.rate, tf.float32)

    def get_config(self):
        return {"rate": self.rate, "kind": self.kind, "total_steps": self.total_steps,
                "start": int(tf.convert_to_tensor(self.start)), "min_ratio": self.min_ratio}


def set_schedules(cfg: Config, state, phase: str, steps_per_epoch: int,
                  log: Callable[[str], None] = logger.info) -> None:
    """Give both optimizers the ``phase``'s learning-rate schedule, from the config.

    A phase that starts now records its first step in ``state.phase_start``; a resumed
    one keeps the recorded one, so the schedule continues where it was, at the rates the
    config gives now. Prints the generator's rate in force.
    """
    t = cfg.train
    if int(state.epoch_step.numpy()) == 0 and int(
            (state.pretrain_epochs if phase == "pretrain" else state.gan_epochs).numpy()) == 0:
        state.phase_start.assign(state.step)
    epochs = t.pretrain_epochs if phase == "pretrain" else t.epochs
    total = epochs * steps_per_epoch
    g_rate = t.pretrain_lr if phase == "pretrain" else t.g_lr
    start = state.phase_start
    state.g_optimizer.learning_rate = PhaseSchedule(g_rate, t.lr_schedule, total, start,
                                                    t.lr_min_ratio)
    # The discriminator trains in the GAN phase only: its own step count is the phase's.
    state.d_optimizer.learning_rate = PhaseSchedule(t.d_lr, t.lr_schedule, total, 0,
                                                    t.lr_min_ratio)
    now = float(state.g_optimizer.learning_rate)
    log(f"{phase}: generator learning rate {g_rate:g}, {t.lr_schedule} over {total} steps "
        f"from step {int(start.numpy())}; {now:.3g} at step {state.step}")
