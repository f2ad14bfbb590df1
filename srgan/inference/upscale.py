"""Upscale one uint8 image with a trained generator, whole or in overlapping tiles.

Colour goes through the generator; alpha is upscaled with plain bicubic and re-attached;
grayscale is replicated to RGB (the generator is a colour model) and returned as RGB.

Tiling bounds memory for large images: the LR image is cut into ``tile x tile`` pieces,
each widened by ``tile_pad`` LR pixels of real context on every side (clamped at the image
border), run through the generator, and the padding is cropped off again (``tile_pad *
scale`` SR pixels) before pasting into a preallocated uint8 output. Every conv pads with
zeros, so near a tile edge the result differs from the whole-image result; the difference
reaches at most the generator's receptive radius into the tile. With ``tile_pad`` at least
that radius the tiled output equals the whole-image output (to float rounding, i.e. within
1/255 after quantisation). In LR pixels the radius of the x4 sub-pixel SRResNet is
``4 + 2 * num_blocks + 1 + 1 + 0.5 + 1`` (head 9x9, two 3x3 convs per block, body conv,
one 3x3 conv at x1 and one at x2, tail 9x9 at x4), i.e. 39.5 for the paper's 16 blocks.
Trained generators depend little on distant pixels, so the default ``tile_pad=16`` is a
compromise; raise it if seams show.
"""

from __future__ import annotations

import itertools
from typing import Callable, Iterator, NamedTuple, Optional

import keras
import numpy as np
import tensorflow as tf

from srgan.pixels import to_uint8, to_unit_range

INTERPOLATIONS = ("nearest", "bilinear", "bicubic")


class _Tile(NamedTuple):
    """One tile in LR pixel coordinates: ``core`` is pasted, ``padded`` is fed to the model.

    Both are ``(y0, y1, x0, x1)``, half-open; ``padded`` contains ``core``.
    """

    core: tuple[int, int, int, int]
    padded: tuple[int, int, int, int]

    @property
    def padded_shape(self) -> tuple[int, int]:
        y0, y1, x0, x1 = self.padded
        return y1 - y0, x1 - x0


def _spans(size: int, tile: int, pad: int) -> list[tuple[int, int, int, int]]:
    """Cut ``[0, size)`` into ``(c0, c1, p0, p1)``: cores of ``tile`` (the last may be
    shorter), each widened by ``pad`` on both sides and clamped to ``[0, size)``."""
    return [(c0, min(c0 + tile, size), max(c0 - pad, 0), min(c0 + tile + pad, size))
            for c0 in range(0, size, tile)]


def _tiles(height: int, width: int, tile: int, pad: int) -> Iterator[_Tile]:
    """All tiles of an ``height x width`` LR image, row by row."""
    for (y0, y1, py0, py1), (x0, x1, px0, px1) in itertools.product(
            _spans(height, tile, pad), _spans(width, tile, pad)):
        yield _Tile((y0, y1, x0, x1), (py0, py1, px0, px1))


def _make_runner(generator: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap ``generator`` as uint8 ``(B, h, w, 3) -> (B, h*s, w*s, 3)``, in one graph.

    Scaling to [-1, 1] and quantising back run inside the ``tf.function`` so that only
    uint8 crosses between host and device. The signature leaves batch and spatial sizes
    open, so the graph is traced once and serves interior and edge tiles alike.
    """

    @tf.function(input_signature=[tf.TensorSpec((None, None, None, 3), tf.uint8)])
    def run(lr_uint8):
        return to_uint8(generator(to_unit_range(lr_uint8), training=False))

    return lambda batch: run(tf.constant(batch)).numpy()


def _runner(generator) -> Callable[[np.ndarray], np.ndarray]:
    """``_make_runner(generator)``, built once per generator and kept on it.

    Tracing the graph costs more than running a 64x64 image through it (about 1.5 s
    against 0.4 s for the paper's generator on 2 CPU cores), so every later ``upscale``
    call with the same generator reuses the first trace. Weights are read at run time,
    so the runner stays right while the generator trains. A generator that brings its
    own uint8 batch function as ``uint8_batch`` (ZSSR, which trains on each image:
    :mod:`srgan.inference.zssr`) runs through that instead.
    """
    run = getattr(generator, "uint8_batch", None) or getattr(generator, "_srgan_uint8_runner",
                                                               None)
    if run is None:
        run = _make_runner(generator)
        try:
            generator._srgan_uint8_runner = run
        except (AttributeError, TypeError):  # an object that takes no attributes
            pass
    return run


def receptive_radius(generator: keras.Model) -> float:
    """Upper bound, in LR pixels, on how far an output pixel depends on the input.

    The sum over convolutions of half the kernel divided by the upscaling reached at that
    layer (39.5 for the paper's x4 generator, see the module docstring). A ``tile_pad`` of
    at least this makes tiled output equal to whole-image output.
    """
    radius, factor = 0.0, 1
    for layer in generator.layers:
        if isinstance(layer, keras.layers.Conv2D):
            radius += (layer.kernel_size[0] - 1) / 2 / factor
        factor *= getattr(layer, "factor", 1)  # PixelShuffle
        if isinstance(layer, keras.layers.UpSampling2D):
            factor *= layer.size[0]
    return radius


def _paste(out: np.ndarray, tile: _Tile, tile_sr: np.ndarray, scale: int) -> None:
    """Crop the pad off ``tile_sr`` ``(ph*s, pw*s, 3)`` and write it into ``out[..., :3]``."""
    (y0, y1, x0, x1), (py0, _, px0, _) = tile.core, tile.padded
    out[y0 * scale:y1 * scale, x0 * scale:x1 * scale, :3] = tile_sr[
        (y0 - py0) * scale:(y1 - py0) * scale, (x0 - px0) * scale:(x1 - px0) * scale]


def interpolate(image: np.ndarray, scale: int, method: str = "bicubic") -> np.ndarray:
    """Plain interpolation, the baselines SR is compared with, and the alpha upscaler.

    ``tf.image.resize`` with half-pixel centres, no antialiasing (none is needed when
    enlarging). ``bicubic`` is Keys' cubic with a = -0.5, MATLAB ``imresize``'s kernel;
    ``nearest`` repeats each pixel ``scale x scale`` times.

    Args:
        image: uint8 ``(h, w, C)``.
        scale: integer upscaling factor.
        method: one of :data:`INTERPOLATIONS`.

    Returns:
        uint8 ``(h*scale, w*scale, C)``, rounded and clipped.
    """
    h, w = image.shape[:2]
    up = tf.image.resize(tf.cast(image, tf.float32), [h * scale, w * scale], method=method)
    return np.clip(np.round(up.numpy()), 0, 255).astype(np.uint8)


def _check(image: np.ndarray, scale: int, tile: Optional[int], tile_pad: int,
           batch: int) -> None:
    """Raise ``ValueError`` naming the first unusable input."""
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {image.dtype}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ValueError(f"image must be HxW, HxWx1, HxWx3 or HxWx4, got shape {image.shape}")
    if min(image.shape[:2]) < 1:
        raise ValueError(f"image is empty: shape {image.shape}")
    if scale < 1 or tile_pad < 0 or batch < 1 or (tile is not None and tile < 1):
        raise ValueError(f"need scale >= 1, tile >= 1, tile_pad >= 0, batch >= 1; got "
                         f"scale={scale}, tile={tile}, tile_pad={tile_pad}, batch={batch}")


def upscale(generator: keras.Model, image: np.ndarray, scale: int,
            tile: Optional[int] = None, tile_pad: int = 16, batch: int = 1) -> np.ndarray:
    """Super-resolve a uint8 image by ``scale`` with ``generator``.

    Args:
        generator: model ``(B, h, w, 3) in [-1, 1] -> (B, h*scale, w*scale, 3) in [-1, 1]``
            (see :func:`srgan.models.srresnet.build_generator`); run with ``training=False``.
        image: uint8 ``(H, W)`` or ``(H, W, 1)`` grayscale, ``(H, W, 3)`` RGB or
            ``(H, W, 4)`` RGBA; any size.
        scale: the generator's upscaling factor; checked against its output.
        tile: side of the LR tiles, or ``None`` to run the whole image at once (memory
            grows with the image size).
        tile_pad: LR pixels of context added around each tile where the image has them;
            see the module docstring for the value that makes tiling exact.
        batch: how many tiles of equal padded shape run together; memory scales with it.

    Returns:
        uint8 ``(H*scale, W*scale, 3)`` for RGB and grayscale input (gray is replicated to
        three channels before the generator and the RGB result is returned),
        ``(H*scale, W*scale, 4)`` for RGBA, alpha upscaled by bicubic interpolation.

    Raises:
        ValueError: wrong dtype, shape or arguments, or ``scale`` not the generator's.
    """
    image = np.asarray(image)
    _check(image, scale, tile, tile_pad, batch)
    if image.ndim == 2:
        image = image[..., None]
    rgb = np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[..., :3]
    h, w = rgb.shape[:2]
    out = np.empty((h * scale, w * scale, 4 if image.shape[2] == 4 else 3), np.uint8)

    run = _runner(generator)
    tiles = _tiles(h, w, tile, tile_pad) if tile else [_Tile((0, h, 0, w), (0, h, 0, w))]
    # Sorting puts tiles of equal padded shape together, so that batches fill.
    tiles = sorted(tiles, key=lambda t: t.padded_shape)
    for _, same_shape in itertools.groupby(tiles, key=lambda t: t.padded_shape):
        same_shape = list(same_shape)
        for i in range(0, len(same_shape), batch):
            chunk = same_shape[i:i + batch]
            lr = np.stack([rgb[py0:py1, px0:px1] for py0, py1, px0, px1 in
                           (t.padded for t in chunk)])
            sr = run(lr)
            if sr.shape[1:3] != (lr.shape[1] * scale, lr.shape[2] * scale):
                raise ValueError(f"generator maps {lr.shape[1:3]} to {sr.shape[1:3]}, "
                                 f"not x{scale}")
            for t, tile_sr in zip(chunk, sr):
                _paste(out, t, tile_sr, scale)
    if image.shape[2] == 4:
        out[..., 3:] = interpolate(image[..., 3:], scale)
    return out
