"""Keras callbacks for a training run: TensorBoard scalars, triptych samples, checkpoints.

TensorBoard steps are the generator's update count (``g_optimizer.iterations``), which a
checkpoint restores. So curves continue across resumes and across the pretrain -> GAN
switch; Keras's own TensorBoard callback restarts its step counter on every ``fit()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable


import keras
import numpy as np
import tensorflow as tf

from srgan import files
from srgan.evaluation.figures import triptych_png

class TensorBoardLogger(keras.callbacks.Callback):
    """Step scalars every ``every`` steps, per-epoch means and both learning rates.

    Writes ``{phase}/{metric}`` (that step's values, not running means) at generator steps
    that are multiples of ``every``, ``{phase}/epoch_{metric}`` every epoch, and
    ``lr/generator``, ``lr/discriminator``. The step values are written from the model's
    variables (:attr:`srgan.training.gan.SRGAN.last`), never copied to the host here.
    """

    def __init__(self, writer, phase: str, optimizers: dict, every: int = 10):
        super().__init__()
        self.writer, self.phase, self.optimizers, self.every = writer, phase, optimizers, every

    def _step(self) -> int:
        return int(self.optimizers["generator"].iterations.numpy())

    def on_train_batch_end(self, batch, logs=None):
        step = self._step()
        if step % self.every:
            return
        with self.writer.as_default(step=step):
            for metric in self.model.metrics:
                tf.summary.scalar(f"{self.phase}/{metric.name}", self.model.last[metric.name])

    def on_epoch_end(self, epoch, logs=None):
        with self.writer.as_default(step=self._step()):
            for name, value in (logs or {}).items():
                tf.summary.scalar(f"{self.phase}/epoch_{name}", value)
            for name, opt in self.optimizers.items():
                tf.summary.scalar(f"lr/{name}", float(np.asarray(opt.learning_rate)))
        self.writer.flush()


class AverageCallback(keras.callbacks.Callback):
    """Updates the generator's moving average (:mod:`srgan.training.ema`) after every step."""

    def __init__(self, average):
        super().__init__()
        self.average = average

    def on_train_batch_end(self, batch, logs=None):
        self.average.update()


class TriptychCallback(keras.callbacks.Callback):
    """Every ``every`` epochs, super-resolve fixed samples and save triptychs.

    PNGs go to ``results_dir / f"{prefix}_{epoch:04d}_sample_{i}.png"`` (atomically) and to
    TensorBoard as ``samples/sample_{i}``. The samples never change, so epochs compare.

    Args:
        lr, hr: fixed samples ``(N, h, w, 3)`` and ``(N, H, W, 3)`` in [-1, 1].
        prefix: ``epoch`` for the GAN phase, ``pretrain`` for SRResNet pre-training.
    """

    def __init__(self, lr: np.ndarray, hr: np.ndarray, results_dir: Path, writer,
                 every: int, prefix: str, step: Callable[[], int]):
        super().__init__()
        self.lr, self.hr, self.results_dir = lr, hr, Path(results_dir)
        self.writer, self.every, self.prefix, self.step = writer, every, prefix, step

    def on_epoch_end(self, epoch, logs=None):
        number = epoch + 1
        if number % self.every:
            return
        sr = self.model.inference_generator(self.lr, training=False).numpy()
        images = []
        for i, (lr, s, hr) in enumerate(zip(self.lr, sr, self.hr)):
            png = triptych_png(lr, s, hr, f"{self.prefix} {number}")
            files.atomic_write_bytes(
                self.results_dir / f"{self.prefix}_{number:04d}_sample_{i}.png", png)
            images.append(tf.image.decode_png(png, channels=3))
        with self.writer.as_default(step=self.step()):
            for i, image in enumerate(images):
                tf.summary.image(f"samples/sample_{i}", image[None])


class CheckpointCallback(keras.callbacks.Callback):
    """Saves the whole state and exports G at the end of every epoch, every ``every``
    generator steps, and mid-epoch when a stop was requested (Ctrl-C, SIGTERM), which then
    ends training. Each save first brings ``state.seconds`` up to date (``state.tick()``).

    A save records the epochs done, the batches done in the unfinished epoch (0 at an
    epoch end) and in all, and the data-stream position, so a resumed run continues
    exactly there. Batches, not optimizer steps: loss scaling may skip an update.

    Args:
        state: the run's :class:`srgan.training.checkpoint.TrainingState`.
        epochs_done: the phase's epoch counter inside ``state`` (set to ``epoch + 1``).
        export: called after each save to write the generator for predict.
        log: one-line status messages.
        position: the training-stream position after the current step.
        stop: :class:`srgan.training.stopping.GracefulStop`; ``stop.stopped(path)`` raises after
            the save once a stop was requested.
        every: also save every this many generator steps (None: epoch ends only).
    """

    def __init__(self, state, epochs_done: tf.Variable, export: Callable[[], None],
                 log: Callable[[str], None], position: Callable[[], int], stop,
                 every: int | None = None):
        super().__init__()
        self.state, self.epochs_done, self.export, self.log = state, epochs_done, export, log
        self.position, self.stop, self.every = position, stop, every
        self.before = self.seen = 0  # batches of this epoch done before this fit, in it

    def _save(self, epoch_step: int) -> str:
        self.state.epoch_step.assign(epoch_step)
        self.state.data_position.assign(self.position())
        self.state.tick()
        path = self.state.save()
        self.export()
        self.log(f"saved {path} (step {self.state.step})")
        return path

    def on_epoch_begin(self, epoch, logs=None):
        self.before, self.seen = int(self.state.epoch_step.numpy()), 0

    def on_train_batch_end(self, batch, logs=None):
        self.state.batches.assign_add(batch + 1 - self.seen)
        self.seen = batch + 1
        # On an epoch's last step, on_epoch_end saves instead, as a completed epoch.
        if self.seen >= self.params["steps"]:
            return
        if self.stop.requested:
            self.stop.stopped(self._save(self.before + self.seen), self.state.step)
        elif self.every and self.state.step % self.every == 0:
            self._save(self.before + self.seen)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_done.assign(epoch + 1)
        path = self._save(0)
        if self.stop.requested:
            self.stop.stopped(path, self.state.step)
