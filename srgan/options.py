"""The options of ``predict.py`` (faces in photos among them), ``evaluate.py``, ``export.py``
and ZSSR: frozen dataclasses,
one flag per field (:mod:`srgan.cli`), beside :mod:`srgan.config`'s for ``train.py`` and
:mod:`srgan.web.options`' for ``app.py``.

Nothing here imports TensorFlow, so the commands' ``--help`` answers at once; the code
that uses each option imports it from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from srgan.config import DEGRADATIONS, KEEP_BEST, SCALES, DataConfig, flag

# predict.py --backend: how the generator runs (srgan.inference.backends.make_runner).
BACKENDS = ("keras", "keras-xla", "onnx", "tflite", "tflite-float16", "tflite-int8")
# How the alpha channel is upscaled (srgan.inference.upscale.upscale).
ALPHA_UPSAMPLERS = ("bicubic", "model")
EXTENSIONS = ("png", "jpg", "webp", "auto")
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm")
# --self-ensemble of predict.py and evaluate.py (srgan.inference.backends.FlipEnsemble).
SELF_ENSEMBLE_HELP = ("average with the result of the mirrored input (the flip of EDSR's "
                      "self-ensemble): a little more PSNR from the PSNR models, twice the time")


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
    self_ensemble: bool = flag(False, help=SELF_ENSEMBLE_HELP)
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
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got "
                             f"{self.backend!r}")


@dataclass(frozen=True)
class EvaluateOptions:
    """Which images are scored and how, and where the reports go."""

    data: str = flag(help="folder of HR images, searched recursively")
    output: str = flag("results/eval", flags=("-o", "--output"), help="output folder")
    full_image: bool = flag(False, help="keep whole images (cropped to a multiple of the "
                            "scale) instead of preparing faces as in training")
    hr_size: Optional[int] = flag(None, help="HR side without --full-image (default: the "
                                  "generator's training size)")
    rank_by: Optional[str] = flag(None, choices=KEEP_BEST + ("niqe",), help="what orders "
                                  "the contact sheet: SR's gain over bicubic in this metric "
                                  "(default: lpips, niqe with --no-reference)")
    sheet_rows: int = flag(3, help="best and worst images each on the contact sheet")
    srcnn: bool = flag(True, help="score the shipped SRCNN baseline as a row too (x4; when "
                       "its weights are present and it is not the model evaluated)")
    tile: Optional[int] = flag(None, help="run the generator on LR tiles of this size "
                               "(bounds memory)")
    self_ensemble: bool = flag(False, help=SELF_ENSEMBLE_HELP)
    max_pixels: int = flag(DataConfig.max_pixels, help="refuse inputs larger than this")
    degradation: str = flag("bicubic", choices=DEGRADATIONS, help="how LR is made from "
                            "HR: antialiased bicubic; Real-ESRGAN's random blur, resize, "
                            "noise and JPEG (real-world photos); or GFPGAN's (aligned "
                            "faces); the random ones fixed by --seed")
    seed: int = flag(0, help="with a random --degradation: image i of the sorted list is "
                     "degraded with seed (SEED, i)")
    reference: bool = flag(True, help="make each image's LR and score against the image; "
                           "--no-reference: the images are low-resolution photos without "
                           "ground truth, upscaled as they are and scored with NIQE alone")

    def ranking(self) -> str:
        """The metric that orders the contact sheet; ValueError when it needs a reference
        that this run does not have."""
        if self.rank_by is None:
            return "lpips" if self.reference else "niqe"
        if not self.reference and self.rank_by != "niqe":
            raise ValueError(f"--rank-by {self.rank_by} needs ground truth; with "
                             f"--no-reference only niqe ranks")
        return self.rank_by


FORMATS = ("savedmodel", "tflite", "onnx")
PRECISIONS = ("float32", "float16", "int8")


@dataclass(frozen=True)
class ExportOptions:
    """What ``export.py`` writes."""

    format: str = flag("tflite", choices=FORMATS, help="savedmodel or onnx (any size), or "
                       "tflite (fixed --window)")
    precision: str = flag("float32", choices=PRECISIONS, help="TFLite weights: float32, "
                          "float16, or int8 (dynamic-range quantisation)")
    window: int = flag(64, help="TFLite input side in LR pixels (predict tiles to it)")
    output: str = flag("exported", flags=("-o", "--output"), help="output folder")

    def __post_init__(self):
        if self.window < 1:
            raise ValueError(f"window must be positive, got {self.window}")


@dataclass(frozen=True)
class ZSSRConfig:
    """How ZSSR trains on each image. The defaults run a x4 upscale of a 256x256 image in a
    few minutes on 2 CPU cores; ``--zssr-steps 2000`` is a longer, better run."""

    scale: int = flag(4, choices=SCALES, help="ZSSR's upscaling factor, reached in x2 stages")
    steps: int = flag(300, flags=("--zssr-steps",), help="most training steps per x2 stage "
                      "(fewer when the learning rate has been cut lr_cuts times)")
    crop: int = flag(48, flags=("--zssr-crop",), help="side of the HR training crops")
    batch: int = flag(4, flags=("--zssr-batch",), help="training crops per step")
    lr: float = flag(1e-3, flags=("--zssr-lr",), help="first Adam learning rate")
    noise: float = flag(0.0125, flags=("--zssr-noise",), help="std of the Gaussian noise "
                        "added to the LR training inputs, as a fraction of the 0..255 range")
    check_every: int = flag(25, flags=("--zssr-check-every",), help="steps between "
                            "reconstruction-error checks")
    patience: int = flag(3, flags=("--zssr-patience",), help="checks without a 1%% "
                         "improvement before the learning rate is cut x0.1")
    lr_cuts: int = flag(2, flags=("--zssr-lr-cuts",), help="learning-rate cuts after which "
                        "a stage ends")
    back_projection: int = flag(10, flags=("--zssr-back-projection",), help="iterative "
                                "back-projection rounds after each stage")
    seed: int = flag(0, flags=("--zssr-seed",), help="seed of crops, augmentation, noise "
                     "and initialisation")


# The face model --face-enhance uses unless --face-model names another: the best measured
# on the degraded scenes of benchmarks/scenes (docs/faces.md#measurements).
DEFAULT_FACE_MODEL = "restore"
# The largest face each --large-faces mode restores at its own scale, in aligned crops of
# the face model; larger ones are left to --model. auto: up to twice the crop. Measured
# with the shipped face model on degraded LR (docs/faces.md#measurements): faces of 16-96
# LR px gained from it (scene benchmark), faces of 156-195 px lost (LPIPS 0.418 against
# 0.414 for the blind model alone, over 10 held-out faces at 1024 px).
LARGE_FACE_LIMITS = {"auto": 2.0, "native": math.inf, "skip": 1.0}
LARGE_FACES = tuple(LARGE_FACE_LIMITS)


@dataclass(frozen=True)
class FaceOptions:
    """Which faces are found in a photo, how each is restored, and what is written."""

    face_enhance: bool = flag(False, help="find the faces in each image, restore each one "
                              "aligned with --face-model and paste it back over the "
                              "upscaled photo (as GFPGAN and Real-ESRGAN's --face_enhance "
                              "do)")
    face_model: str = flag(DEFAULT_FACE_MODEL, help="the face model: restore, blind, srgan, srresnet "
                           "or a .weights.h5 file with its card")
    face_min_size: float = flag(10.0, help="smallest face to restore: its box side in input "
                                "pixels")
    face_score: float = flag(0.95, help="lowest detector confidence to restore (0-1)")
    max_faces: Optional[int] = flag(None, help="restore at most this many faces per image, "
                                    "the largest first")
    only_center_face: bool = flag(False, help="restore only the face nearest the centre")
    large_faces: str = flag("auto", choices=LARGE_FACES, help="faces larger than the face "
                            "model's aligned crop: restore them at their own scale "
                            "(native), leave them to --model (skip), or the first up to "
                            f"{LARGE_FACE_LIMITS['auto']:g} times the crop and the second "
                            "beyond (auto)")
    faces_json: Optional[str] = flag(None, help="write each image's faces (box, five "
                                     "landmarks, score, restored or why not) to this JSON "
                                     "file")
    save_faces: Optional[str] = flag(None, help="write each face's aligned input, its "
                                     "restoration and the two side by side to "
                                     "DIR/cropped_faces, DIR/restored_faces and DIR/cmp")

    def __post_init__(self):
        if not 0 <= self.face_score <= 1:
            raise ValueError(f"face_score must be in [0, 1], got {self.face_score}")
        if self.face_min_size <= 0:
            raise ValueError(f"face_min_size must be positive, got {self.face_min_size}")
        if self.max_faces is not None and self.max_faces < 1:
            raise ValueError(f"max_faces must be positive, got {self.max_faces}")
        if self.large_faces not in LARGE_FACES:
            raise ValueError(f"large_faces must be one of {LARGE_FACES}, got "
                             f"{self.large_faces!r}")
