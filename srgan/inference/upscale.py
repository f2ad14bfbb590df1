"""Upscale uint8 images with a trained generator, whole or in feathered tiles.

Colour goes through the generator. Alpha is upscaled with bicubic interpolation or, as a
gray image, through the generator too. Grayscale input (one channel, or R = G = B) comes
back gray: the colour model's output is reduced to its luma, so no tint appears.

Tiling bounds memory for large images (:mod:`srgan.inference.tiling`): the LR image is
cut into cores of at most ``tile`` pixels, each run through the generator with
``tile_pad`` LR pixels of real context on every side, and neighbouring tiles are
cross-faded over ``blend`` pixels around each seam, then quantised into a preallocated
uint8 output (tiles are composited in order, each with its weight over the weight already
painted, so no float copy of the whole output is ever held). Every conv pads with zeros,
so near a window edge a tile differs from the whole-image result, up to the generator's
receptive radius into the window. With ``tile_pad - blend / 2`` at least that radius the
tiled output equals the whole-image output (within 1/255 after quantisation). In LR pixels
the radius of the x4 sub-pixel SRResNet is ``4 + 2 * num_blocks + 1 + 1 + 0.5 + 1`` (head
9x9, two 3x3 convs per block, body conv, one 3x3 conv at x1 and one at x2, tail 9x9 at
x4), i.e. 39.5 for the paper's 16 blocks. Trained generators depend little on distant
pixels, so the defaults (``tile_pad=16``, ``blend=tile_pad``) are a compromise that shows
no seam; the feathering hides what difference is left.

``pre_pad`` mirrors the image by that many pixels on every side before the generator sees
it (and crops them off after), so that the zero padding of the convolutions does not
darken or tint the image border (Real-ESRGAN's ``pre_pad``).
"""

from __future__ import annotations

from typing import Callable, Optional

import keras
import numpy as np
import tensorflow as tf

from srgan.inference import backends, tiling
from srgan.options import ALPHA_UPSAMPLERS, PredictOptions

INTERPOLATIONS = ("nearest", "bilinear", "bicubic")
# ITU-R BT.601 luma, full range: what a gray image keeps of the colour model's output.
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def receptive_radius(generator: keras.Model) -> float:
    """Upper bound, in LR pixels, on how far an output pixel depends on the input.

    The sum over convolutions of half the kernel divided by the upscaling reached at that
    layer (39.5 for the paper's x4 generator, see the module docstring). A ``tile_pad`` of
    at least this plus ``blend / 2`` makes tiled output equal to whole-image output.
    """
    radius, factor = 0.0, 1
    for layer in generator.layers:
        if isinstance(layer, keras.layers.Conv2D):
            radius += (layer.kernel_size[0] - 1) / 2 / factor
        factor *= getattr(layer, "factor", 1)  # PixelShuffle
        if isinstance(layer, keras.layers.UpSampling2D):
            factor *= layer.size[0]
    return radius


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


def _check(images: np.ndarray, scale: int, tile: Optional[int], tile_pad: int,
           batch: int, blend: Optional[float], pre_pad: int, alpha: str) -> None:
    """Raise ``ValueError`` naming the first unusable input; ``images`` is ``(N, H, W[, C])``."""
    if images.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {images.dtype}")
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] not in (1, 3, 4)):
        raise ValueError(f"image must be HxW, HxWx1, HxWx3 or HxWx4, got shape "
                         f"{images.shape[1:]}")
    if min(images.shape[:3]) < 1:
        raise ValueError(f"image is empty: shape {images.shape[1:]}")
    if (scale < 1 or tile_pad < 0 or batch < 1 or pre_pad < 0 or (tile is not None and tile < 1)
            or (blend is not None and blend < 0)):
        raise ValueError(f"need scale >= 1, tile >= 1, tile_pad >= 0, batch >= 1, blend >= 0, "
                         f"pre_pad >= 0; got scale={scale}, tile={tile}, tile_pad={tile_pad}, "
                         f"batch={batch}, blend={blend}, pre_pad={pre_pad}")
    if alpha not in ALPHA_UPSAMPLERS:
        raise ValueError(f"alpha upsampler must be one of {ALPHA_UPSAMPLERS}, got {alpha!r}")


def _core_tile(run, shape: tuple[int, int], scale: int, tile: Optional[int], tile_pad: int,
               batch: int, max_memory: Optional[int]) -> int:
    """The core side: the runner's fixed window less the pad, ``tile``, one from
    ``max_memory`` (unless the runner counts no memory per pixel: ZSSR), or (none of
    these) the whole image."""
    if run.window is not None:
        if run.window - 2 * tile_pad < 1:
            raise ValueError(f"tile_pad {tile_pad} leaves nothing of the model's fixed "
                             f"{run.window}-pixel input; use a smaller --tile-pad")
        return run.window - 2 * tile_pad
    if tile is not None:
        return tile
    if max_memory is not None and run.bytes_per_pixel:
        return tiling.tile_for_memory(max_memory, shape, run.bytes_per_pixel, scale,
                                      tile_pad, batch)
    return max(shape)


def is_gray(image: np.ndarray) -> bool:
    """Whether uint8 ``(H, W, 3)`` ``image`` is grayscale: R = G = B everywhere."""
    return bool(np.all(image[..., 0] == image[..., 1]) and np.all(image[..., 1] == image[..., 2]))


def to_gray(sr: np.ndarray) -> np.ndarray:
    """uint8 ``(..., 3)`` -> its BT.601 luma replicated to ``(..., 3)``: R = G = B."""
    luma = np.clip(np.round(sr.astype(np.float32) @ _LUMA), 0, 255).astype(np.uint8)
    return np.repeat(luma[..., None], 3, axis=-1)


class _Composite:
    """Paints tiles into a uint8 ``(H*s, W*s, 3)`` output, blended as if in float.

    Tiles arrive row by row. A tile's weight is ``wy (x) wx``; it is painted over what is
    already there with opacity ``w / (w + weight already painted)``, which gives the
    weighted average of all tiles once every tile is in.
    """

    def __init__(self, rows: list[tiling.Span], cols: list[tiling.Span], shape, scale: int,
                 blend: float):
        self.scale = scale
        self.axes = [self._axis(rows, shape[0], blend), self._axis(cols, shape[1], blend)]

    def _axis(self, spans, size: int, blend: float) -> list[tuple[slice, slice, np.ndarray,
                                                                   np.ndarray, np.ndarray]]:
        """Per span: SR slice in the output, in the tile, its weights, the weight of the
        spans before it and of those up to it, all cropped to the image."""
        s, done, axis = self.scale, np.zeros(size * self.scale, np.float32), []
        for span in spans:
            w0, w1 = span.window
            lo, hi = max(w0, 0) * s, min(w1, size) * s
            weight = tiling.weights(span, size, blend, s)[lo - w0 * s:hi - w0 * s]
            before = done[lo:hi].copy()
            done[lo:hi] += weight
            axis.append((slice(lo, hi), slice(lo - w0 * s, hi - w0 * s), weight, before,
                         done[lo:hi].copy()))
        return axis

    def paint(self, out: np.ndarray, i: int, j: int, tile_sr: np.ndarray) -> None:
        """Blend tile (row ``i``, column ``j``) ``(window_h*s, window_w*s, 3)`` into ``out``."""
        (oy, ty, wy, before_y, _), (ox, tx, wx, _, through_x) = self.axes[0][i], self.axes[1][j]
        weight = wy[:, None] * wx[None, :]
        painted = before_y[:, None] + wy[:, None] * through_x[None, :]
        opacity = np.divide(weight, painted, out=np.zeros_like(weight), where=painted > 0)
        tile_sr, region = tile_sr[ty, tx], out[oy, ox, :3]
        if np.all(opacity == 1):
            region[:] = tile_sr
            return
        mixed = region.astype(np.float32)
        mixed += opacity[..., None] * (tile_sr.astype(np.float32) - mixed)
        region[:] = np.clip(np.round(mixed), 0, 255).astype(np.uint8)


def upscale_stack(generator, images: np.ndarray, scale: int, tile: Optional[int] = None,
                  tile_pad: int = 16, batch: int = 1, blend: Optional[float] = None,
                  pre_pad: int = 0, max_memory: Optional[int] = None,
                  alpha: str = "bicubic",
                  progress: Optional[Callable[[int, int], None]] = None) -> np.ndarray:
    """Super-resolve ``N`` images of one size by ``scale``; :func:`upscale` for each.

    Tiles of all ``N`` images run ``batch`` at a time (equal-sized images batch even when
    each is a single tile). Arguments as :func:`upscale`; ``images`` is uint8
    ``(N, H, W[, C])``; ``progress(done, total)`` is called with the count of tiles after
    each batch (alpha through the model counts its tiles too). Returns uint8
    ``(N, H*scale, W*scale, 3 or 4)``.
    """
    images = np.asarray(images)
    _check(images, scale, tile, tile_pad, batch, blend, pre_pad, alpha)
    if images.ndim == 3:
        images = images[..., None]
    n, h, w, channels = images.shape
    rgb = np.repeat(images, 3, axis=3) if channels == 1 else images[..., :3]
    gray = [channels == 1 or is_gray(im) for im in rgb]
    run = backends.as_runner(generator)
    core = _core_tile(run, (h, w), scale, tile, tile_pad, batch, max_memory)
    rows, cols = (tiling.spans(size, core, tile_pad, pre_pad) for size in (h, w))
    composite = _Composite(rows, cols, (h, w), scale, tiling.usable_blend(
        rows + cols, tile_pad if blend is None else blend, tile_pad))
    if pre_pad:
        rgb = np.pad(rgb, ((0, 0), (pre_pad, pre_pad), (pre_pad, pre_pad), (0, 0)),
                     mode="symmetric")
    out = np.empty((n, h * scale, w * scale, 4 if channels == 4 else 3), np.uint8)
    work = [(k, i, j) for k in range(n) for i in range(len(rows)) for j in range(len(cols))]
    for start in range(0, len(work), batch):
        chunk = work[start:start + batch]
        lr = np.stack([rgb[k, rows[i].window[0] + pre_pad:rows[i].window[1] + pre_pad,
                           cols[j].window[0] + pre_pad:cols[j].window[1] + pre_pad]
                       for k, i, j in chunk])
        sr = run(lr)
        if sr.shape[1:3] != (lr.shape[1] * scale, lr.shape[2] * scale):
            raise ValueError(f"generator maps {lr.shape[1:3]} to {sr.shape[1:3]}, "
                             f"not x{scale}")
        for (k, i, j), tile_sr in zip(chunk, sr):
            composite.paint(out[k], i, j, to_gray(tile_sr) if gray[k] else tile_sr)
        if progress is not None:
            progress(start + len(chunk), len(work))
    if channels == 4:
        done = len(work)  # alpha through the model: its tiles count on after the colour ones
        for k in range(n):
            if alpha == "bicubic":
                out[k, ..., 3] = interpolate(images[k, ..., 3:], scale)[..., 0]
                continue
            tick = None if progress is None else (
                lambda d, t, base=done, rest=n - 1 - k: progress(base + d, base + t * (1 + rest)))
            out[k, ..., 3] = upscale_stack(run, images[k:k + 1, ..., 3], scale, tile, tile_pad,
                                           batch, blend, pre_pad, max_memory,
                                           progress=tick)[0, ..., 0]
            done += len(work) // n
    return out


def upscale(generator, image: np.ndarray, scale: int, tile: Optional[int] = None,
            tile_pad: int = 16, batch: int = 1, blend: Optional[float] = None,
            pre_pad: int = 0, max_memory: Optional[int] = None,
            alpha: str = "bicubic") -> np.ndarray:
    """Super-resolve a uint8 image by ``scale`` with ``generator``.

    Args:
        generator: a Keras model ``(B, h, w, 3) in [-1, 1] -> (B, h*scale, w*scale, 3) in
            [-1, 1]`` (see :func:`srgan.models.srresnet.build_srresnet`), run with
            ``training=False``; or a runner from :mod:`srgan.inference.backends`.
        image: uint8 ``(H, W)`` or ``(H, W, 1)`` grayscale, ``(H, W, 3)`` RGB or
            ``(H, W, 4)`` RGBA; any size.
        scale: the generator's upscaling factor; checked against its output.
        tile: longest LR core side; ``None``: from ``max_memory``, or the whole image at
            once when that is ``None`` too. A runner with a fixed window sets it.
        tile_pad: LR pixels of context around each core; see the module docstring for the
            value that makes tiling exact.
        batch: how many tiles run together; memory scales with it.
        blend: width in LR pixels of the cross-fade at each seam (default ``tile_pad``).
        pre_pad: LR pixels mirrored around the image before the generator sees it.
        max_memory: bytes the tiles may use, when ``tile`` is ``None``.
        alpha: ``bicubic`` or ``model``: how the alpha channel of RGBA is upscaled.

    Returns:
        uint8 ``(H*scale, W*scale, 3)`` for RGB and grayscale input (gray as R = G = B),
        ``(H*scale, W*scale, 4)`` for RGBA.

    Raises:
        ValueError: wrong dtype, shape or arguments, or ``scale`` not the generator's.
    """
    image = np.asarray(image)
    return upscale_stack(generator, image[None], scale, tile, tile_pad, batch, blend,
                         pre_pad, max_memory, alpha)[0]


def upscale_kwargs(options: PredictOptions) -> dict:
    """The :func:`upscale` arguments that ``options`` sets."""
    budget = options.max_memory << 20 if options.max_memory else tiling.default_max_memory()
    return dict(tile=options.tile, tile_pad=options.tile_pad, batch=options.batch_size,
                pre_pad=options.pre_pad, max_memory=budget, alpha=options.alpha_upsampler)
