"""What ``predict.py`` does: a demo on the sample faces, or upscaling a user's files.

* :func:`predict_samples`: each built-in sample face is prepared and degraded exactly as in
  training (centre square, HR at the model's ``hr_size``, antialiased bicubic x1/scale),
  super-resolved, and compared with plain bicubic upscaling of the same LR image.
* :func:`srgan.inference.photos.predict_folder`: real low-resolution photos (a file or a
  folder) upscaled at their native size, in tiles sized from a memory budget.
* :func:`srgan.inference.video.predict_video`: a video, frame by frame.

All take a :class:`PredictOptions`; ``predict.py`` builds it from its flags.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from srgan import io
from srgan.data import pipeline
from srgan.evaluation import metrics
from srgan.evaluation.figures import triptych_png
from srgan.faces.options import FaceOptions
from srgan.faces.restore import FaceRestorer, describe, load_restorer
from srgan.inference.backends import make_runner
from srgan.inference.options import VIDEO_EXTENSIONS, PredictOptions, upscale_kwargs
from srgan.inference.photos import predict_folder
from srgan.inference.upscale import interpolate, upscale
from srgan.models.weights import Generator

__all__ = ["PredictOptions", "predict_folder", "predict_samples", "run"]

def run(generator: Generator, options: PredictOptions,
        faces: FaceOptions = FaceOptions()) -> int:
    """:func:`predict_samples` without an ``input``; a video or images otherwise; with
    ``faces.face_enhance``, each face restored by the face model and pasted back."""
    restorer = load_restorer(faces, options.backend)
    if options.input is None:
        return predict_samples(generator, options, restorer)
    if Path(options.input).suffix.lower() in VIDEO_EXTENSIONS:
        from srgan.inference.video import predict_video

        return predict_video(generator, options, restorer)
    return predict_folder(generator, options, restorer)


def quality(sr: np.ndarray, hr: np.ndarray, scale: int) -> tuple[float, float]:
    """PSNR and SSIM on the Y channel with ``scale`` border pixels cropped (SR-paper style)."""
    return (metrics.psnr(sr, hr, crop_border=scale, y_only=True),
            metrics.ssim(sr, hr, crop_border=scale, y_only=True))


def predict_samples(generator: Generator, options: PredictOptions,
                    restorer: Optional[FaceRestorer] = None) -> int:
    """Super-resolve the sample faces; write SR PNGs and triptychs; print PSNR/SSIM. With a
    ``restorer``, the face found in each LR sample is restored and pasted back.

    Raises:
        ValueError: the generator's card does not say at what ``hr_size`` it was trained.
    """
    scale, hr_size = generator.scale, generator.hr_size
    if hr_size is None:
        raise ValueError(f"{generator.path}: its model card has no hr_size, so the sample "
                         f"faces cannot be prepared as in training; pass --input instead")
    out_dir = io.check_writable_dir(Path(options.output))
    runner = make_runner(generator, options.backend, window=hr_size // scale)
    print(f"{'image':<20} {'PSNR SR':>8} {'bicubic':>8} {'SSIM SR':>8} {'bicubic':>8}  (Y, dB)")
    for path in pipeline.sample_face_paths():
        hr = pipeline.prepare_hr(io.read_image(path, max_pixels=options.max_pixels), hr_size)
        lr = pipeline.degrade(hr, scale).numpy().astype(np.uint8)
        hr = hr.numpy().astype(np.uint8)
        sr = upscale(runner, lr, scale, **upscale_kwargs(options))
        note = ""
        if restorer is not None:
            sr, results = restorer.restore(lr, sr)
            note = f"  ({describe(results)})"
        (p_sr, s_sr), (p_bic, s_bic) = quality(sr, hr, scale), quality(
            interpolate(lr, scale), hr, scale)
        print(f"{path.stem:<20} {p_sr:8.2f} {p_bic:8.2f} {s_sr:8.4f} {s_bic:8.4f}{note}")
        io.atomic_save_image(io.safe_output_path(out_dir, f"{path.stem}_sr.png"), sr,
                             png_compression=options.png_compression)
        io.atomic_write_bytes(io.safe_output_path(out_dir, f"{path.stem}_triptych.png"),
                              triptych_png(lr, sr, hr, f"{path.name}: x{scale}"))
    print(f"wrote SR images and triptychs to {out_dir}")
    return 0
