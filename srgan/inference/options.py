"""The options of ``predict.py``: one frozen dataclass, one flag per field (see srgan.cli)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from srgan.config import DataConfig, flag
from srgan.inference.backends import BACKENDS
from srgan.inference.tiling import default_max_memory
from srgan.inference.upscale import ALPHA_UPSAMPLERS

EXTENSIONS = ("png", "jpg", "webp", "auto")
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm")


@dataclass(frozen=True)
class PredictOptions:
    """What to upscale, where the results go, and how the generator runs."""

    input: Optional[str] = flag(
        None, flags=("-i", "--input"), help="image file, folder (searched recursively) or "
        "video (mp4 mov mkv avi webm) of real low-resolution input, upscaled at its native "
        "size; none: the sample faces, degraded as in training, with PSNR/SSIM against "
        "bicubic")
    output: str = flag("results", flags=("-o", "--output"), help="output folder")
    suffix: Optional[str] = flag(None, help="added to each output name, NAME_SUFFIX.EXT "
                                 "(default: x and the scale, e.g. x4)")
    ext: str = flag("png", choices=EXTENSIONS, help="output format; auto: the input's "
                    "(png for bmp, and for alpha in a jpg)")
    jpeg_quality: int = flag(95, help="quality of jpg and webp outputs, 1-100")
    png_compression: int = flag(1, help="zlib level of png outputs, 0-9 (lossless at "
                                "every level): 1 is fast, as OpenCV and Real-ESRGAN "
                                "write; 9 gives the smallest files")
    outscale: Optional[float] = flag(None, help="final upscaling factor: the model's output "
                                     "is resized to it with an antialiased Lanczos filter "
                                     "(default: the model's scale)")
    tile: Optional[int] = flag(None, help="LR tile side (default: the largest that fits "
                               "the memory budget)")
    tile_pad: int = flag(16, help="LR pixels of context around each tile; seams are "
                         "cross-faded over that many pixels")
    pre_pad: int = flag(6, help="LR pixels mirrored around each image, so that a flat "
                        "border keeps its level (0 is faster on small images)")
    max_memory: Optional[int] = flag(None, help="MiB the tiles may use (default: a quarter "
                                     "of the available memory, at most 1024)")
    batch_size: int = flag(1, help="tiles, same-sized images or video frames run together")
    alpha_upsampler: str = flag("bicubic", choices=ALPHA_UPSAMPLERS, help="how the alpha "
                                "channel is upscaled: bicubic, or as a gray image through "
                                "the model")
    backend: str = flag(BACKENDS[0], choices=BACKENDS, help="keras (a TensorFlow graph, "
                        "the fastest exact path on CPU), keras-xla (XLA-compiled), onnx (ONNX "
                        "Runtime on CPU, converted at start), or tflite run with XNNPACK, "
                        "converted at start with float32, float16 or int8 (dynamic-range) "
                        "weights")
    overwrite: bool = flag(False, help="replace outputs that exist instead of skipping them")
    max_pixels: int = flag(DataConfig.max_pixels, help="refuse inputs larger than this")

    def __post_init__(self):
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in 1..100, got {self.jpeg_quality}")
        if not 0 <= self.png_compression <= 9:
            raise ValueError(f"png_compression must be in 0..9, got {self.png_compression}")
        for name in ("outscale", "tile", "max_memory"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.batch_size < 1 or self.tile_pad < 0 or self.pre_pad < 0:
            raise ValueError("batch_size must be positive, tile_pad and pre_pad not negative")


def upscale_kwargs(options: PredictOptions) -> dict:
    """The :func:`srgan.inference.upscale.upscale` arguments that ``options`` sets."""
    budget = options.max_memory << 20 if options.max_memory else default_max_memory()
    return dict(tile=options.tile, tile_pad=options.tile_pad, batch=options.batch_size,
                pre_pad=options.pre_pad, max_memory=budget, alpha=options.alpha_upsampler)
