"""Whole-run training state on disk: save, resume, and the generator exported for predict.

Layout of ``checkpoint_dir``::

    config.json               the run's full Config
    state/ckpt-N.{index,data} G, D, both optimizers, epochs done per phase (tf.train.Checkpoint)
    state/checkpoint          index of the kept saves, rewritten atomically by TensorFlow
    generator.weights.h5      generator weights alone, for predict.py
    generator.json            the model config that rebuilds that generator

Saves are atomic: TensorFlow writes ``ckpt-N`` in full before it rewrites the ``checkpoint``
index (temp file, then rename), and the exported generator goes through
:func:`srgan.files.atomic_path`. A save interrupted at any point leaves the previous
checkpoint as the latest. The last ``keep`` saves are kept, so a damaged newest save
falls back to the one before it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Optional

import keras
import tensorflow as tf

from srgan import files
from srgan.config import ModelConfig

GENERATOR_WEIGHTS = "generator.weights.h5"


class TrainingState:
    """Everything needed to resume: networks, optimizers and progress counters.

    Args:
        checkpoint_dir: run folder (``state/`` is created inside).
        generator, discriminator: the two networks.
        g_optimizer, d_optimizer: their optimizers; built here, so restored slots line up.
        keep: how many saves to keep.
    """

    def __init__(self, checkpoint_dir: Path, generator: keras.Model,
                 discriminator: keras.Model, g_optimizer, d_optimizer, keep: int = 3):
        self.dir = Path(checkpoint_dir)
        g_optimizer.build(generator.trainable_variables)
        d_optimizer.build(discriminator.trainable_variables)
        self.pretrain_epochs = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.gan_epochs = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.checkpoint = tf.train.Checkpoint(
            generator=generator, discriminator=discriminator, g_optimizer=g_optimizer,
            d_optimizer=d_optimizer, pretrain_epochs=self.pretrain_epochs,
            gan_epochs=self.gan_epochs)
        self.manager = tf.train.CheckpointManager(self.checkpoint, self.dir / "state",
                                                  max_to_keep=keep)
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer

    @property
    def step(self) -> int:
        """Generator updates done so far, over both phases."""
        return int(self.g_optimizer.iterations.numpy())

    def restore(self, log: Callable[[str], None] = print) -> Optional[str]:
        """Load the newest readable save; returns its path, or None for a fresh run.

        A save that cannot be read (truncated, empty, garbage) is reported and the next
        older one is tried.
        """
        for path in reversed(self.manager.checkpoints):
            try:
                self.checkpoint.restore(path).assert_existing_objects_matched()
            except (tf.errors.OpError, ValueError, AssertionError) as e:
                reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                log(f"warning: {path}: unreadable checkpoint ({reason}); trying an older one")
                continue
            return path
        if self.manager.checkpoints:
            raise ValueError(f"{self.dir / 'state'}: no readable checkpoint among "
                             f"{len(self.manager.checkpoints)} saves")
        return None

    def save(self) -> str:
        """Write a new save numbered by the global step; returns its path."""
        return self.manager.save(checkpoint_number=self.step)


def export_generator(generator: keras.Model, model_cfg: ModelConfig, path: Path,
                     extra: Optional[dict] = None) -> None:
    """Save generator weights to ``path`` and the config that rebuilds it beside it.

    ``path`` ends in ``.weights.h5``; the JSON goes to the same name with ``.json``.
    Both are written atomically, the JSON last, so a reader that finds the JSON finds
    matching weights.
    """
    path = Path(path)
    with files.atomic_path(path) as tmp:
        generator.save_weights(tmp)
    meta = {"model": asdict(model_cfg), **(extra or {})}
    files.atomic_write_bytes(generator_json(path), json.dumps(meta, indent=2).encode() + b"\n")


def generator_json(weights_path: Path) -> Path:
    """``run/generator.weights.h5`` -> ``run/generator.json``."""
    name = Path(weights_path).name
    stem = name[: -len(".weights.h5")] if name.endswith(".weights.h5") else Path(name).stem
    return Path(weights_path).with_name(stem + ".json")


def load_generator(weights_path: Path) -> tuple[keras.Model, dict]:
    """Rebuild the generator described beside ``weights_path`` and load its weights.

    Returns the model and the JSON metadata (``model`` config, ``hr_size``, ...).

    Raises:
        FileNotFoundError: one line naming the missing file and the command to run first.
    """
    from srgan.models import build_generator

    weights_path = Path(weights_path)
    meta_path = generator_json(weights_path)
    for p in (weights_path, meta_path):
        if not p.is_file():
            raise FileNotFoundError(
                f"{p}: no trained generator here; run `python train.py` first "
                f"or pass --weights PATH")
    try:
        meta = json.loads(meta_path.read_text())
        model_cfg = ModelConfig(**meta["model"])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{meta_path}: not a generator description ({e})") from None
    generator = build_generator(model_cfg)
    try:
        generator.load_weights(weights_path)
    except (OSError, ValueError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(f"{weights_path}: cannot load generator weights ({reason})") from None
    return generator, meta
