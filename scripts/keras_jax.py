"""What the GPU scripts share (:mod:`scripts.finetune_jax`, :mod:`scripts.gan_jax`): they
train the project's Keras models through Keras's JAX backend on a machine without
TensorFlow, and write what ``train.py`` writes for ``scripts.release_weights``.

Nothing here imports Keras or JAX at import time: :mod:`scripts.gan_jax` forks its batch
workers before JAX starts its threads.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import numpy as np


def require_jax_backend() -> None:
    """Make Keras's backend JAX when Keras is not imported yet (its backend is chosen at
    its first import); refuse any other. Raises ``SystemExit`` with a one-line error."""
    backend = (sys.modules["keras"].backend.backend() if "keras" in sys.modules
               else os.environ.setdefault("KERAS_BACKEND", "jax"))
    if backend != "jax":
        raise SystemExit(f"error: KERAS_BACKEND={backend}; this script needs jax")


def rate_slot(optimizer) -> int:
    """Where ``optimizer.variables`` keeps the learning rate, so that a stateless step can
    set it."""
    return [v.path.endswith("learning_rate") for v in optimizer.variables].index(True)


def cosine_rate(rate: float, step, total):
    """The rate at optimizer step ``step`` (from 1) of ``total``: a cosine from ``rate`` to
    1 % of it, as :class:`srgan.training.schedules.PhaseSchedule` (``lr_min_ratio`` 0.01)."""
    import jax.numpy as jnp

    frac = jnp.clip((step - 1.0) / total, 0.0, 1.0)
    return rate * (0.01 + 0.99 * 0.5 * (1.0 + jnp.cos(jnp.pi * frac)))


def to_levels(images: np.ndarray) -> np.ndarray:
    """``[-1, 1]`` floats -> 8-bit levels ``[0, 255]`` (float), as a saved image holds them."""
    return np.clip(np.round((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255)


def mean_psnr_y(sr: np.ndarray, hr: np.ndarray, scale: int) -> float:
    """Mean PSNR-Y of ``sr`` against ``hr`` (``(N, H, W, 3)`` in [0, 255]), ``scale`` border
    pixels cropped: what ``evaluate.py`` and ``train.py``'s validation report."""
    from srgan.evaluation.metrics import psnr

    return float(np.mean([psnr(a, b, crop_border=scale, y_only=True) for a, b in zip(sr, hr)]))


def write_rows(path: Path, rows: list[dict]) -> None:
    """``rows`` (dicts with the same keys) as CSV at ``path``, atomically: a run stopped
    at any moment leaves the curve so far."""
    from srgan import files

    with files.atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def save_snapshot(out: Path, snapshots: dict, step: int, values) -> None:
    """Add float16 copies of ``values`` (the averaged weights) at ``step`` to ``snapshots``
    and write them all to ``out/snapshots.npz`` atomically, for ``finetune_jax score``."""
    from srgan import files

    for i, value in enumerate(values):
        snapshots[f"{step}/{i}"] = np.asarray(value, np.float16)
    with files.atomic_path(out / "snapshots.npz") as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **snapshots)
