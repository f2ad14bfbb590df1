"""The sample-face demo of ``predict.py`` (no ``--input``): how well a model does on faces
prepared as in training, against plain bicubic upscaling.

Each built-in sample face is prepared and degraded exactly as in training (centre square,
HR at the model's ``hr_size``, antialiased bicubic x1/scale), super-resolved as
``predict.py`` upscales any image, and compared with bicubic upscaling of the same LR
image: PSNR/SSIM on the Y channel, a triptych and the SR image are written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import numpy as np

from srgan import files
from srgan.data import pipeline, transforms
from srgan.evaluation import metrics
from srgan.evaluation.figures import triptych_png
from srgan.faces.restore import FaceRestorer, describe
from srgan.inference.backends import make_runner
from srgan.inference.upscale import interpolate, upscale, upscale_kwargs
from srgan.models.weights import Generator
from srgan.options import PredictOptions

logger = logging.getLogger(__name__)


def quality(sr: np.ndarray, hr: np.ndarray, scale: int) -> tuple[float, float]:
    """PSNR and SSIM on the Y channel with ``scale`` border pixels cropped (SR-paper style)."""
    return (metrics.psnr(sr, hr, crop_border=scale, y_only=True),
            metrics.ssim(sr, hr, crop_border=scale, y_only=True))


def predict_samples(generator: Generator, options: PredictOptions,
                    restorer: Optional[FaceRestorer] = None) -> int:
    """Super-resolve the sample faces; write SR PNGs and triptychs; print PSNR/SSIM. With a
    ``restorer`` (``--face-enhance``), the face found in each LR sample is restored and
    pasted back before it is scored.

    Raises:
        ValueError: the generator's card does not say at what ``hr_size`` it was trained.
    """
    scale, hr_size = generator.scale, generator.hr_size
    if hr_size is None:
        raise ValueError(f"{generator.path}: its model card has no hr_size, so the sample "
                         f"faces cannot be prepared as in training; pass --input instead")
    out_dir = files.check_writable_dir(Path(options.output))
    runner = make_runner(generator, options.backend, window=hr_size // scale,
                         self_ensemble=options.self_ensemble)
    logger.info(f"{'image':<20} {'PSNR SR':>8} {'bicubic':>8} {'SSIM SR':>8} {'bicubic':>8}  (Y, dB)")
    for path in pipeline.sample_face_paths():
        hr = transforms.prepare_hr(files.read_image(path, max_pixels=options.max_pixels), hr_size)
        lr = transforms.degrade(hr, scale).numpy().astype(np.uint8)
        hr = hr.numpy().astype(np.uint8)
        sr = upscale(runner, lr, scale, **upscale_kwargs(options))
        note = ""
        if restorer is not None:
            sr, results = restorer.restore(lr, sr)
            note = f"  ({describe(results)})"
        (p_sr, s_sr), (p_bic, s_bic) = quality(sr, hr, scale), quality(
            interpolate(lr, scale), hr, scale)
        logger.info(f"{path.stem:<20} {p_sr:8.2f} {p_bic:8.2f} {s_sr:8.4f} {s_bic:8.4f}{note}")
        files.atomic_save_image(files.safe_output_path(out_dir, f"{path.stem}_sr.png"), sr,
                                png_compression=options.png_compression)
        files.atomic_write_bytes(files.safe_output_path(out_dir, f"{path.stem}_triptych.png"),
                                 triptych_png(lr, sr, hr, f"{path.name}: x{scale}"))
    logger.info(f"wrote SR images and triptychs to {out_dir}")
    return 0
