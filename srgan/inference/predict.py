"""What ``predict.py`` does: a demo on the sample faces, or upscaling a user's images.

* :func:`predict_samples`: each built-in sample face is prepared and degraded exactly as in
  training (centre square, HR at the model's ``hr_size``, antialiased bicubic x1/scale),
  super-resolved, and compared with plain bicubic upscaling of the same LR image.
* :func:`predict_folder`: real low-resolution inputs (a file or a folder) are upscaled
  x``scale`` at their native size; alpha is upscaled separately, grayscale and palette
  images become RGB. Outputs are PNGs written atomically inside ``output``.

Both take a :class:`PredictOptions`; ``predict.py`` builds it from its flags.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from srgan import io
from srgan.config import DataConfig, flag
from srgan.data import pipeline
from srgan.evaluation import metrics
from srgan.evaluation.figures import triptych_png
from srgan.inference.upscale import interpolate, upscale
from srgan.models.weights import Generator


@dataclass(frozen=True)
class PredictOptions:
    """What to upscale, where the results go, and how the generator runs."""

    input: Optional[str] = flag(
        None, flags=("-i", "--input"), help="image file or folder (searched recursively) of "
        "real low-resolution images, upscaled at their native size; none: the sample faces, "
        "degraded as in training, with PSNR/SSIM against bicubic")
    output: str = flag("results", flags=("-o", "--output"), help="output folder")
    tile: Optional[int] = flag(None, help="process the LR image in tiles of this size "
                               "(bounds memory)")
    tile_pad: int = flag(16, help="LR pixels of context around each tile, cropped away after "
                         "upscaling")
    max_pixels: int = flag(DataConfig.max_pixels, help="refuse inputs larger than this")


def run(generator: Generator, options: PredictOptions) -> int:
    """:func:`predict_samples` without an ``input``, else :func:`predict_folder`."""
    if options.input is None:
        return predict_samples(generator, options)
    return predict_folder(generator, options)


def quality(sr: np.ndarray, hr: np.ndarray, scale: int) -> tuple[float, float]:
    """PSNR and SSIM on the Y channel with ``scale`` border pixels cropped (SR-paper style)."""
    return (metrics.psnr(sr, hr, crop_border=scale, y_only=True),
            metrics.ssim(sr, hr, crop_border=scale, y_only=True))


def predict_samples(generator: Generator, options: PredictOptions) -> int:
    """Super-resolve the sample faces; write SR PNGs and triptychs; print PSNR/SSIM.

    Raises:
        ValueError: the generator's card does not say at what ``hr_size`` it was trained.
    """
    scale, hr_size = generator.scale, generator.hr_size
    if hr_size is None:
        raise ValueError(f"{generator.path}: its model card has no hr_size, so the sample "
                         f"faces cannot be prepared as in training; pass --input instead")
    out_dir = io.check_writable_dir(Path(options.output))
    print(f"{'image':<20} {'PSNR SR':>8} {'bicubic':>8} {'SSIM SR':>8} {'bicubic':>8}  (Y, dB)")
    for path in pipeline.sample_face_paths():
        hr = pipeline.prepare_hr(io.read_image(path, max_pixels=options.max_pixels), hr_size)
        lr = pipeline.degrade(hr, scale).numpy().astype(np.uint8)
        hr = hr.numpy().astype(np.uint8)
        sr = upscale(generator.model, lr, scale, tile=options.tile, tile_pad=options.tile_pad)
        (p_sr, s_sr), (p_bic, s_bic) = quality(sr, hr, scale), quality(
            interpolate(lr, scale), hr, scale)
        print(f"{path.stem:<20} {p_sr:8.2f} {p_bic:8.2f} {s_sr:8.4f} {s_bic:8.4f}")
        io.atomic_save_png(io.safe_output_path(out_dir, f"{path.stem}_sr.png"), sr)
        io.atomic_write_bytes(io.safe_output_path(out_dir, f"{path.stem}_triptych.png"),
                              triptych_png(lr, sr, hr, f"{path.name}: x{scale}"))
    print(f"wrote SR images and triptychs to {out_dir}")
    return 0


def predict_folder(generator: Generator, options: PredictOptions) -> int:
    """Upscale every image under ``options.input``; returns 1 if any failed, else 0.

    A failed input gets one line naming it and the reason; the others still run, and no
    partial output file is ever left behind.
    """
    scale = generator.scale
    root = Path(options.input)
    out_dir = io.check_writable_dir(Path(options.output))
    paths = io.list_images(root)
    if not paths:
        raise FileNotFoundError(f"{root}: no images (jpg, jpeg, png, bmp, webp) found")
    failed, written = 0, set()
    for path in paths:
        # Flatten nested names (a/b/c.jpg -> a_b_c_x4.png) so equal stems never collide.
        rel = path.relative_to(root) if root.is_dir() else Path(path.name)
        try:
            image = io.read_image(path, max_pixels=options.max_pixels, keep_alpha=True)
            name, n = "_".join(rel.with_suffix("").parts), 1
            target = io.safe_output_path(out_dir, f"{name}_x{scale}.png")
            while target in written:  # a.bmp after a.webp: a_2_x4.png, never overwritten
                n += 1
                target = io.safe_output_path(out_dir, f"{name}_{n}_x{scale}.png")
            sr = upscale(generator.model, image, scale, tile=options.tile,
                         tile_pad=options.tile_pad)
            io.atomic_save_png(target, sr)
            written.add(target)
        except (io.ImageError, ValueError, OSError) as e:
            failed += 1
            print(f"error: {e}", file=sys.stderr)
            continue
        print(f"{path} -> {target} ({image.shape[1]}x{image.shape[0]} -> "
              f"{sr.shape[1]}x{sr.shape[0]})")
    print(f"{len(paths) - failed} of {len(paths)} images upscaled x{scale} into {out_dir}")
    return 1 if failed else 0
