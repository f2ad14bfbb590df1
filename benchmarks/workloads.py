"""The workloads :mod:`benchmarks.bench` times: train steps, inference, the input pipeline.

Each builder returns a zero-argument callable that does one unit of work and blocks until
it is done, so :mod:`benchmarks.perf` can time it. Models have random weights (speed does not
depend on them). The perceptual extractor is the paper's VGG19 up to ``block5_conv4``
with random weights: ImageNet VGG19 weights cannot be downloaded on an offline machine,
and the offline VGG16 (13 convs, ``block5_conv3``) costs about 20% less than VGG19 (16).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import tensorflow as tf
from PIL import Image

from benchmarks import perf
from srgan.config import DataConfig, ModelConfig
from srgan.data import pipeline
from srgan.inference.upscale import receptive_radius, upscale
from srgan.models.discriminator import build_discriminator
from srgan.models.generators import build_generator
from srgan.models.layers import with_conv_mode
from srgan.models.vgg import build_vgg19
from srgan.training import distribute, losses
from srgan.training.gan import SRGAN


@dataclass(frozen=True)
class Sizes:
    """What the benchmark runs at.

    Attributes:
        hr_size: HR side of training pairs and of the small inference case's output.
        scale: upscaling factor.
        model: ModelConfig fields other than ``upsample`` (empty: the paper's model).
        vgg_layer: last VGG19 layer of the perceptual loss.
        mp_side: LR side of the untiled megapixel case (256 -> 1024x1024 output).
        large_side: LR side of the large tiled case (2048 -> 8192x8192); 0 skips it.
        tile, tile_pad: LR tile side and context of the large case.
        seam_tile: LR tile side of the tiled-vs-whole comparison.
        jpeg_size: (width, height) of the synthetic JPEGs fed to tf.data (CelebA: 178x218).
        jpegs: how many JPEGs to write.
    """

    hr_size: int = 256
    scale: int = 4
    model: dict = dataclasses.field(default_factory=dict)
    vgg_layer: str = "block5_conv4"
    mp_side: int = 256
    large_side: int = 2048
    tile: int = 384
    tile_pad: int = 16
    seam_tile: int = 48
    jpeg_size: tuple = (178, 218)
    jpegs: int = 64

    @property
    def lr_size(self) -> int:
        return self.hr_size // self.scale


QUICK = Sizes(hr_size=32, model=dict(num_filters=8, num_blocks=1, disc_filters=4,
                                     disc_dense=8),
              vgg_layer="block2_conv2", mp_side=16, large_side=48, tile=16, tile_pad=4,
              seam_tile=9, jpeg_size=(45, 55), jpegs=8)


def model_config(sizes: Sizes, variant: str) -> ModelConfig:
    """The generator/discriminator config of one variant (``subpixel`` or ``nearest``)."""
    return ModelConfig(scale=sizes.scale, upsample=variant, **sizes.model)


def build_srgan(sizes: Sizes, variant: str, policy: str = "float32",
                conv_mode: str = "fast") -> tuple[SRGAN, tuple]:
    """An uncompiled :class:`SRGAN` and its built ``(g_optimizer, d_optimizer)``, under
    dtype ``policy``, its networks' fast convolutions in ``conv_mode``
    (:data:`srgan.models.layers.CONV_MODES`)."""
    cfg = model_config(sizes, variant)
    with distribute.dtype_policy(policy):
        generator = build_generator(cfg)
        discriminator = build_discriminator(cfg, sizes.hr_size)
        extractor = build_vgg19([sizes.vgg_layer], weights=None)
        if conv_mode != "fast":
            generator, discriminator, extractor = (
                with_conv_mode(model, conv_mode) for model in (generator, discriminator,
                                                               extractor))
    perceptual = losses.Perceptual(extractor, "vgg19-random", (sizes.vgg_layer,), (1.0,),
                                   losses.VGG19_FEATURE_SCALE)
    optimizers = (distribute.make_adam(1e-4, 0.9, "g_adam", policy),
                  distribute.make_adam(1e-4, 0.9, "d_adam", policy))
    optimizers[0].build(generator.trainable_variables)
    optimizers[1].build(discriminator.trainable_variables)
    return SRGAN(generator, discriminator, perceptual), optimizers


def random_pair(sizes: Sizes, batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``lr (B, h, h, 3)``, ``hr (B, H, H, 3)`` float32 in [-1, 1]."""
    rng = np.random.default_rng(seed)
    hr = rng.uniform(-1, 1, (batch, sizes.hr_size, sizes.hr_size, 3)).astype(np.float32)
    lr = rng.uniform(-1, 1, (batch, sizes.lr_size, sizes.lr_size, 3)).astype(np.float32)
    return lr, hr


def train_step(model: SRGAN, optimizers: tuple, phase: str, sizes: Sizes, batch: int,
               jit: bool = False) -> tuple[Callable[[], list], int]:
    """One train step of ``phase`` on a fixed batch: ``(run_one_step, flops_per_step)``.

    ``model.train_step`` is wrapped as Keras's ``fit()`` wraps it (``tf.function`` without
    autograph, ``jit_compile=jit``) and traced once; the FLOPs are counted on that graph.
    """
    model.compile(*optimizers, phase=phase, jit_compile=jit)
    step = tf.function(model.train_step, autograph=False, jit_compile=jit)
    batch_data = tuple(tf.constant(x) for x in random_pair(sizes, batch))
    flops = perf.graph_flops(step.get_concrete_function(batch_data))
    return lambda: perf.fetch(step(batch_data)), flops


def _lr_image(side: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (side, side, 3), np.uint8)


def upscale_case(generator: keras.Model, scale: int, side: int, tile=None,
                 tile_pad: int = 16) -> tuple[Callable[[], np.ndarray], int]:
    """``upscale`` of one ``side x side`` uint8 image: ``(run, output_pixels)``."""
    image = _lr_image(side)
    run = lambda: upscale(generator, image, scale, tile=tile,  # noqa: E731
                          tile_pad=tile_pad)
    return run, (side * scale) ** 2


def inference_flops(generator: keras.Model, side: int) -> int:
    """FLOPs of the generator's forward pass on one ``side x side`` LR image."""
    fn = tf.function(lambda x: generator(x, training=False))
    return perf.graph_flops(fn.get_concrete_function(tf.TensorSpec((1, side, side, 3))))


def write_jpegs(folder: Path, sizes: Sizes) -> list[Path]:
    """Synthetic smooth-noise JPEGs (quality 90), ``sizes.jpeg_size``, in ``folder``."""
    rng = np.random.default_rng(0)
    width, height = sizes.jpeg_size
    paths = []
    for i in range(sizes.jpegs):
        small = rng.integers(0, 256, (max(2, height // 8), max(2, width // 8), 3), np.uint8)
        path = folder / f"face_{i:04d}.jpg"
        Image.fromarray(small).resize((width, height), Image.BICUBIC).save(path, quality=90)
        paths.append(path)
    return paths


def pipeline_case(paths: list[Path], sizes: Sizes, batch: int,
                  degradation: str = "bicubic") -> Callable[[], list]:
    """Next batch of the training pipeline (decode, crop, resize, LR by ``degradation``,
    flip) on ``paths``."""
    cfg = DataConfig(data_dirs=(str(paths[0].parent),), hr_size=sizes.hr_size, batch_size=batch,
                     degradation=degradation)
    guard = pipeline.DecodeGuard(len(paths), cfg.max_pixels)
    iterator = iter(pipeline.make_dataset(paths, cfg, sizes.scale, 0, guard))
    return lambda: perf.fetch(next(iterator))


def component_cases(model: SRGAN, sizes: Sizes, batch: int) -> dict:
    """The parts of a GAN step, each a callable (forward, or forward + the backward the
    step needs), for a profile of where the step's time goes."""
    lr, hr = (tf.constant(x) for x in random_pair(sizes, batch))
    g, d, vgg = model.generator, model.discriminator, model.extractor

    def grads(net, x, wrt_input: bool, wrt_weights: bool):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_mean(tf.cast(net(x, training=net is not vgg), tf.float32))
        targets = ([x] if wrt_input else []) + (net.trainable_variables if wrt_weights else [])
        return tape.gradient(loss, targets)

    parts = {
        "G forward": lambda: g(lr, training=True),
        "G forward+backward": lambda: grads(g, lr, False, True),
        "VGG forward (HR)": lambda: vgg(hr, training=False),
        "VGG forward+input grad (SR)": lambda: grads(vgg, hr, True, False),
        "D forward+backward (once)": lambda: grads(d, hr, True, True),
    }
    compiled = {name: tf.function(fn) for name, fn in parts.items()}
    return {name: (lambda f=f: perf.fetch(f())) for name, f in compiled.items()}


def seam_errors(generator: keras.Model, scale: int, shape: tuple, tile: int,
                pad: int) -> tuple[int, int, int]:
    """Worst ``|tiled - untiled|`` in grey levels, near tile seams and away from them.

    Tiles are cross-faded over ``pad`` LR pixels (the default blend), so a tile lacking
    context contributes only within ``receptive_radius - pad / 2`` LR pixels of a seam
    (the "band"); elsewhere tiled output must equal the whole-image output up to rounding.

    Returns:
        ``(worst_near, worst_away, band)``, ``band`` in LR pixels.
    """
    from srgan.inference import tiling

    image = np.random.default_rng(1).integers(0, 256, (*shape, 3), np.uint8)
    full = upscale(generator, image, scale).astype(int)
    tiled = upscale(generator, image, scale, tile=tile, tile_pad=pad).astype(int)
    diff = np.abs(tiled - full).max(axis=2)
    band = max(0, int(np.ceil(receptive_radius(generator) - pad / 2)))
    near = np.zeros(diff.shape, bool)
    for axis, size in enumerate(shape):
        for span in tiling.spans(size, tile, pad)[1:]:
            lo, hi = (span.core[0] - band) * scale, (span.core[0] + band) * scale
            if axis == 0:
                near[max(lo, 0):hi, :] = True
            else:
                near[:, max(lo, 0):hi] = True
    return int(diff[near].max(initial=0)), int(diff[~near].max(initial=0)), band


# Images per call of the batched Keras case of the backend comparison.
BACKEND_BATCH = 8


def backend_cases(generator: keras.Model, config: ModelConfig, side: int,
                  batched: bool) -> dict[str, tuple[Callable[[], np.ndarray], int]]:
    """``upscale`` of ``side x side`` images on each inference backend: ``{name: (run,
    images per run)}``.

    Keras float32 (the graph ``predict.py`` ran before backends existed), Keras with XLA,
    ONNX Runtime on CPU, TFLite with XNNPACK at float32, float16 and int8 weights (its
    window is the image); with ``batched``, Keras float32 and ONNX Runtime on
    :data:`BACKEND_BATCH` images at once too.
    """
    from srgan.inference import tiling
    from srgan.inference.backends import KerasRunner, OnnxRunner, TFLiteRunner
    from srgan.inference.export import to_onnx, to_tflite
    from srgan.inference.upscale import upscale_stack

    runners = {"keras": KerasRunner(generator), "keras-xla": KerasRunner(generator, jit=True),
               "onnx": OnnxRunner(to_onnx(generator, config),
                                  tiling.activation_bytes(generator))}
    for precision in ("float32", "float16", "int8"):
        runners[f"tflite-{precision}"] = TFLiteRunner(to_tflite(generator, config, side,
                                                                precision))
    images = np.stack([_lr_image(side, seed) for seed in range(BACKEND_BATCH)])
    cases = {name: (lambda r=run: upscale_stack(r, images[:1], config.scale, tile_pad=0), 1)
             for name, run in runners.items()}
    if batched:
        cases.update({f"{name} x{BACKEND_BATCH}": (lambda r=runners[name]: upscale_stack(
            r, images, config.scale, batch=BACKEND_BATCH), BACKEND_BATCH)
            for name in ("keras", "onnx")})
    return cases
