"""Whole-run training state on disk: save and resume.

Layout of ``checkpoint_dir``::

    config.json               the run's full Config
    state/ckpt-N.{index,data} G, D, both optimizers, epochs done per phase (tf.train.Checkpoint)
    state/checkpoint          index of the kept saves, rewritten atomically by TensorFlow
    generator.weights.h5      generator weights alone (the moving average when kept), for
                              predict.py (srgan.models.weights.export_generator)
    generator.json            its model card: the config that rebuilds it, training facts
    generator_best.*          the same for the best epoch by validation (srgan.training.validation)
    validation.csv            validation metrics per epoch

Saves are atomic: TensorFlow writes ``ckpt-N`` in full before it rewrites the ``checkpoint``
index (temp file, then rename), and the exported generator goes through
:func:`srgan.files.atomic_path`. A save interrupted at any point leaves the previous
checkpoint as the latest (its leftovers are removed by the next ``restore``). The last
``keep`` saves are kept, so a damaged newest save falls back to the one before it. A save
records the epochs done per phase, the batches done in an unfinished epoch (a save made
on Ctrl-C or SIGTERM is mid-epoch) and the training-stream position (:mod:`srgan.data.stream`),
so a resumed run continues with exactly the step, epoch and batches it stopped at.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Optional

import keras
import tensorflow as tf

from srgan import files

logger = logging.getLogger(__name__)


class TrainingState:
    """Everything needed to resume: networks, optimizers and progress counters.

    Args:
        checkpoint_dir: run folder (``state/`` is created inside).
        generator, discriminator: the two networks.
        g_optimizer, d_optimizer: their optimizers; built here, so restored slots line up.
        average: the generator's moving average
            (:class:`srgan.training.ema.GeneratorAverage`), or None.
        keep: how many saves to keep.
    """

    def __init__(self, checkpoint_dir: Path, generator: keras.Model,
                 discriminator: keras.Model, g_optimizer, d_optimizer, average=None,
                 keep: int = 3):
        self.dir = Path(checkpoint_dir)
        state_dir = files.check_writable_dir(self.dir / "state")
        g_optimizer.build(generator.trainable_variables)
        d_optimizer.build(discriminator.trainable_variables)
        self.pretrain_epochs, self.gan_epochs = _counter(), _counter()
        # Batches done in the phase's unfinished epoch (a mid-epoch save resumes there),
        # batches trained on in all (= step, unless mixed-precision loss scaling skipped
        # an update) and training-stream elements consumed (srgan.data.stream).
        self.epoch_step, self.batches, self.data_position = _counter(), _counter(), _counter()
        # The generator step at which the current phase began (its schedule counts from
        # there) and the training time so far, in seconds.
        self.phase_start = _counter()
        self.seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)
        self._clock = time.monotonic()
        extra = {"ema_generator": average.average, "ema_updates": average.updates} \
            if average is not None else {}
        self.checkpoint = tf.train.Checkpoint(
            generator=generator, discriminator=discriminator, g_optimizer=g_optimizer,
            d_optimizer=d_optimizer, pretrain_epochs=self.pretrain_epochs,
            gan_epochs=self.gan_epochs, epoch_step=self.epoch_step, batches=self.batches,
            data_position=self.data_position, phase_start=self.phase_start,
            seconds=self.seconds, **extra)
        try:
            self.manager = tf.train.CheckpointManager(self.checkpoint, state_dir, keep)
        except ValueError:  # an empty index file: set it aside, find the saves on disk
            (state_dir / "checkpoint").replace(state_dir / "checkpoint.damaged")
            self.manager = tf.train.CheckpointManager(self.checkpoint, state_dir, keep)
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer

    def tick(self) -> float:
        """Add the wall time since the last tick (or since this state was built) to
        ``seconds``; returns the training time so far, in seconds."""
        now = time.monotonic()
        self.seconds.assign_add(now - self._clock)
        self._clock = now
        return float(self.seconds.numpy())

    @property
    def step(self) -> int:
        """Generator updates done so far, over both phases."""
        return int(self.g_optimizer.iterations.numpy())

    def restore(self, log: Callable[[str], None] = logger.info) -> Optional[str]:
        """Load the newest readable save; returns its path, or None for a fresh run.

        A save that cannot be read (truncated, empty, garbage) is reported and the next
        older one is tried. When the ``checkpoint`` index itself is unreadable, the saves
        are taken from the ``ckpt-N.index`` files on disk. Leftovers of a save that was
        killed before the index named it are removed: they are never restored. Unreadable
        saves are logged as warnings; ``log`` gets the other lines.
        """
        saves = self.manager.checkpoints
        index = self.dir / "state" / "checkpoint"
        if saves or not (index.exists() or index.with_suffix(".damaged").exists()):
            self._remove_leftovers(log)
        else:
            saves = self._saves_on_disk()
            if saves:
                logger.warning(f"{self.dir / 'state' / 'checkpoint'}: unreadable checkpoint "
                               f"index; trying the {len(saves)} saves found on disk")
        for path in reversed(saves):
            try:
                self.checkpoint.restore(path).assert_existing_objects_matched()
            except Exception as e:  # noqa: BLE001 - a truncated file raises IndexError too
                logger.warning(f"{path}: unreadable checkpoint ({files.first_line(e)}); "
                               f"trying an older one")
                continue
            return path
        if saves:
            raise ValueError(f"{self.dir / 'state'}: no readable checkpoint among "
                             f"{len(saves)} saves")
        return None

    def save(self) -> str:
        """Write a new save numbered by the global step; returns its path.

        Raises:
            OSError: one line naming the save that failed (disk full, unwritable folder)
                and the previous save, which is left intact.
        """
        try:
            return self.manager.save(checkpoint_number=self.step, options=_slow_save_hook())
        except (tf.errors.OpError, OSError) as e:
            self._remove_leftovers(lambda message: None)
            raise OSError(f"{self.dir / 'state' / f'ckpt-{self.step}'}: cannot save checkpoint "
                          f"({files.first_line(e)}); "
                          f"{self.manager.latest_checkpoint or 'no earlier save'} is intact"
                          ) from None

    def _saves_on_disk(self) -> list[str]:
        """``state/ckpt-N`` prefixes that have an index file, oldest first."""
        numbers = sorted(int(m.group(1)) for p in (self.dir / "state").glob("ckpt-*.index")
                         if (m := re.fullmatch(r"ckpt-(\d+)\.index", p.name)))
        return [str(self.dir / "state" / f"ckpt-{n}") for n in numbers]

    def _remove_leftovers(self, log: Callable[[str], None]) -> None:
        """Delete files of saves the index does not name, newer than its newest save
        (a save killed midway, or one that failed), TensorFlow's ``*_temp`` folders and
        the temp files of an interrupted :func:`srgan.files.atomic_path` write."""
        kept = {Path(p).name for p in self.manager.checkpoints}
        newest = max((int(name.rsplit("-", 1)[1]) for name in kept), default=-1)
        removed = 0
        for p in [*(self.dir / "state").glob("ckpt-*"), *self.dir.glob(".*.tmp-*")]:
            m = re.match(r"ckpt-(\d+)", p.name)
            if not m or "_temp" in p.name or (m.group(0) not in kept
                                              and int(m.group(1)) > newest):
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
                removed += 1
        if removed:
            log(f"removed {removed} leftover files of an interrupted save in "
                f"{self.dir / 'state'}")


def _counter() -> tf.Variable:
    return tf.Variable(0, dtype=tf.int64, trainable=False)


def _slow_save_hook() -> Optional[tf.train.CheckpointOptions]:
    """TEST HOOK, read only here: with ``$SRGAN_TEST_SLOW_SAVE=<seconds>``, every save
    pauses after ``ckpt-N`` is written and before the index names it, so that
    ``scripts/kill9.py`` can kill a run inside a save. Unset: no options, no pause."""
    seconds = float(os.environ.get("SRGAN_TEST_SLOW_SAVE") or 0)
    if not seconds:
        return None

    def pause(path):
        print(f"test hook: pausing {seconds:g} s inside the save of {path}",
              file=sys.stderr, flush=True)
        time.sleep(seconds)

    return tf.train.CheckpointOptions(experimental_write_callbacks=[pause])
