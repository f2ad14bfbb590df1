"""ZSSR: super-resolution by a network trained on the test image alone (Shocher et al. 2018).

For each x2 stage (one for x2, two for x4, three for x8) the image's own content is the
training data:

1. HR "fathers": the current image and downscaled copies of it (factors 1 to 0.5), plus
   every earlier stage's input and output, picked with probability proportional to area.
2. Each step takes random ``crop x crop`` father crops, one of the 8 flips/rotations each,
   makes the LR "child" with the antialiased bicubic x1/2 (the degradation evaluation uses,
   :func:`srgan.data.transforms.degrade`), adds a little Gaussian noise to it, interpolates it
   back with bicubic and trains :func:`srgan.models.zssr.build_zssr_net` to map that to the
   father: L1 loss, Adam.
3. Every ``check_every`` steps the reconstruction error of the image's centre (downscaled,
   then restored) is measured; when it has not fallen by 1 % over ``patience`` checks the
   learning rate is divided by 10, and after ``lr_cuts`` cuts the stage ends early.
4. Inference: the 8 flips/rotations of the bicubic-upscaled image go through the network,
   the median of the 8 outputs is taken, then ``back_projection`` rounds of iterative
   back-projection make the result's downscale agree with the stage's input.

Later stages start from the previous stage's weights. :class:`ZSSRUpscaler` is a uint8
batch function, so :func:`srgan.inference.upscale.upscale` (gray, alpha) and the predict
and evaluate commands run it like a generator (:func:`zssr_generator`).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Optional

import keras
import numpy as np
import tensorflow as tf

from srgan.config import ModelConfig
from srgan.models.weights import Generator
from srgan.models.zssr import build_zssr_net
from srgan.options import ZSSRConfig
from srgan.pixels import to_uint8, to_unit_range

# progress(done, total, note): steps and inference passes done of all stages' total.
Progress = Callable[[int, int, str], None]
DOWNSCALES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)


def dihedral(x: tf.Tensor, k: int, inverse: bool = False) -> tf.Tensor:
    """The ``k``-th of the 8 flips/rotations of ``(B, H, W, C)``: ``k % 4`` quarter turns,
    then a left-right flip when ``k >= 4``; ``inverse`` undoes it."""
    if inverse:
        x = tf.image.flip_left_right(x) if k >= 4 else x
        return tf.image.rot90(x, -k % 4)
    x = tf.image.rot90(x, k % 4)
    return tf.image.flip_left_right(x) if k >= 4 else x


def _resize(x: tf.Tensor, height, width) -> tf.Tensor:
    """Bicubic resize of ``(B, H, W, C)``, antialiased (a no-op when enlarging)."""
    return tf.image.resize(x, [height, width], method="bicubic", antialias=True)


def _pyramid(images: list[np.ndarray], crop: int) -> list[np.ndarray]:
    """Every image at each of :data:`DOWNSCALES` that still holds a ``crop`` square."""
    out = []
    for image in images:
        h, w = image.shape[:2]
        for f in DOWNSCALES:
            size = (round(h * f), round(w * f))
            if min(size) >= crop:
                out.append(image if f == 1.0 else _resize(image[None], *size)[0].numpy())
    return out


class _Stage:
    """Trains one x2 network on ``examples`` (float ``(h, w, 3)`` in [-1, 1]) and runs it."""

    def __init__(self, net: keras.Model, cfg: ZSSRConfig, crop: int, rng: np.random.Generator):
        self.net, self.cfg, self.crop, self.rng = net, cfg, crop, rng
        self.optimizer = keras.optimizers.Adam(cfg.lr)
        self.noise = tf.random.Generator.from_seed(int(rng.integers(2**31)))
        half = crop // 2

        @tf.function(reduce_retracing=True)
        def step(hr):
            lr = _resize(hr, half, half)
            # cfg.noise is a fraction of 0..255, which spans 2 in [-1, 1].
            lr += self.noise.normal(tf.shape(lr), stddev=cfg.noise * 2)
            up = tf.image.resize(lr, [crop, crop], method="bicubic")
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.abs(net(up, training=True) - hr))
            grads = tape.gradient(loss, net.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, net.trainable_variables))
            return loss

        self.step = step

    def batch(self, fathers: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
        """``(batch, crop, crop, 3)`` random father crops, each flipped/rotated at random."""
        out = []
        for i in self.rng.choice(len(fathers), self.cfg.batch, p=weights):
            f = fathers[i]
            y = self.rng.integers(f.shape[0] - self.crop + 1)
            x = self.rng.integers(f.shape[1] - self.crop + 1)
            patch = np.rot90(f[y:y + self.crop, x:x + self.crop], self.rng.integers(4))
            out.append(patch[:, ::-1] if self.rng.integers(2) else patch)
        return np.ascontiguousarray(np.stack(out), np.float32)

    def error(self, image: np.ndarray) -> float:
        """L1 error of restoring the centre of ``image`` from its x1/2 downscale."""
        side = min(image.shape[0], image.shape[1], 4 * self.crop) // 2 * 2
        y, x = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
        hr = tf.constant(image[None, y:y + side, x:x + side])
        up = tf.image.resize(_resize(hr, side // 2, side // 2), [side, side], method="bicubic")
        return float(tf.reduce_mean(tf.abs(self.net(up, training=False) - hr)))

    def train(self, examples: list[np.ndarray], tick: Callable[[str], None]) -> int:
        """Train on ``examples`` for at most ``cfg.steps`` steps; returns the steps run."""
        cfg = self.cfg
        fathers = _pyramid(examples, self.crop)
        areas = np.array([f.shape[0] * f.shape[1] for f in fathers], np.float64)
        self.optimizer.learning_rate = cfg.lr
        errors, cuts = [], 0
        for i in range(1, cfg.steps + 1):
            self.step(tf.constant(self.batch(fathers, areas / areas.sum())))
            tick(f"lr {float(self.optimizer.learning_rate):.0e}")
            if i % cfg.check_every:
                continue
            errors.append(self.error(examples[-1]))
            if len(errors) > cfg.patience and errors[-1] > 0.99 * min(errors[:-cfg.patience]):
                cuts += 1
                if cuts > cfg.lr_cuts:
                    return i
                self.optimizer.learning_rate = float(self.optimizer.learning_rate) / 10
                errors = errors[-1:]
        return cfg.steps

    def upscale(self, image: np.ndarray) -> np.ndarray:
        """x2 of float ``(h, w, 3)``: median over the 8 flips/rotations of the network's
        output, then back-projection onto ``image``; returns float ``(2h, 2w, 3)``."""
        h, w = image.shape[:2]
        lr = tf.constant(image[None])
        up = tf.image.resize(lr, [2 * h, 2 * w], method="bicubic")
        outs = [dihedral(self.net(dihedral(up, k), training=False), k, inverse=True)[0]
                for k in range(8)]
        sr = tf.constant(np.median(np.stack([o.numpy() for o in outs]), axis=0)[None])
        for _ in range(self.cfg.back_projection):
            sr += tf.image.resize(lr - _resize(sr, h, w), [2 * h, 2 * w], method="bicubic")
        return sr[0].numpy()


class ZSSRUpscaler:
    """ZSSR as a runner (:class:`srgan.inference.backends.Runner`) for
    :func:`srgan.inference.upscale.upscale`: each whole image is trained on separately (see
    the module docstring), so it takes any size and is never tiled."""

    window = None
    bytes_per_pixel = 0.0

    def __init__(self, cfg: ZSSRConfig, progress: Optional[Progress] = None):
        self.cfg, self.progress = cfg, progress

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """uint8 ``(B, h, w, 3) -> (B, h*scale, w*scale, 3)``, one image at a time."""
        return np.stack([self.upscale(image) for image in np.asarray(batch)])

    def upscale(self, image: np.ndarray) -> np.ndarray:
        """uint8 ``(h, w, 3)`` -> uint8 ``(h*scale, w*scale, 3)``, in ``log2(scale)`` x2 stages.

        Raises:
            ValueError: an image smaller than 8 pixels a side.
        """
        cfg = self.cfg
        if min(image.shape[:2]) < 8:
            raise ValueError(f"ZSSR needs at least 8x8 pixels, got {image.shape[1]}x"
                             f"{image.shape[0]}")
        stages = int(math.log2(cfg.scale))
        total, done = stages * (cfg.steps + 1), 0
        rng = np.random.default_rng(cfg.seed)
        net = build_zssr_net(seed=cfg.seed)
        current = to_unit_range(image[..., :3]).numpy()
        examples = [current]
        crop = min(cfg.crop, min(current.shape[:2]) // 2 * 2)
        for s in range(stages):
            stage = _Stage(net, cfg, crop, rng)

            def tick(note, s=s):
                nonlocal done
                done += 1
                if self.progress:
                    self.progress(done, total, f"x2 stage {s + 1}/{stages}, {note}")

            ran = stage.train(examples, tick)
            done += cfg.steps - ran
            current = stage.upscale(current)
            examples.append(current)
            tick("upscaled")
        return to_uint8(current).numpy()


def zssr_generator(cfg: ZSSRConfig, progress: Optional[Progress] = None,
                   hr_size: int = 256) -> Generator:
    """ZSSR dressed as a loaded generator, for ``predict.py`` and ``evaluate.py``; its
    ``model`` is a :class:`ZSSRUpscaler`, ``hr_size`` the side of the sample faces."""
    return Generator(ZSSRUpscaler(cfg, progress), ModelConfig(scale=cfg.scale),
                     {"method": "zssr", "hr_size": hr_size, "zssr": asdict(cfg)}, Path("zssr"))
