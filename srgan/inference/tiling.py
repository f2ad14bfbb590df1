"""Where the tiles of a large image go, how they blend, and how large they may be.

An image axis of ``size`` LR pixels is cut into ``n = ceil(size / tile)`` *cores* of
nearly equal length (they differ by at most one pixel, so no core is a sliver). Each core
is read through a *window* of ``min(size + 2 * border, max_core + 2 * pad)`` pixels (the
same length for every tile, so tiles batch together), centred on the core and shifted
inward at the image edges, where it may reach ``border`` pixels into a mirrored margin.

Neighbouring windows overlap by at least ``2 * pad`` pixels around each seam. In the middle
``blend`` pixels of that overlap the two tiles are cross-faded with linear ramps (a
feathered window); elsewhere each output pixel comes from the one tile whose core holds
it. The ramps of the two sides of a seam sum to one, so the blend of equal tiles is the
tile itself. A tile output pixel can be wrong only within the generator's receptive radius
of its window's edge, and a tile contributes only ``pad - blend / 2`` or more pixels away
from that edge, so with ``pad - blend / 2 >= radius`` tiling is exact.
"""

from __future__ import annotations

import math
import os
from typing import NamedTuple

import numpy as np

# Live float32 activations per tile, counted in the generator's largest layer output.
_LIVE_TENSORS = 3
# The smallest core side the memory budget may choose.
_MIN_TILE = 32


class Span(NamedTuple):
    """One tile along one axis, in LR pixels of the unpadded image; half-open ranges.

    ``core`` is what the tile is responsible for; ``window`` is what is fed to the model
    and may start below 0 or end beyond the image (the mirrored margin).
    """

    core: tuple[int, int]
    window: tuple[int, int]


def spans(size: int, tile: int, pad: int, border: int = 0) -> list[Span]:
    """The tiles along an axis of ``size`` pixels (see the module docstring).

    Args:
        size: image side in LR pixels.
        tile: largest core length.
        pad: context wanted on each side of a core.
        border: mirrored pixels available beyond each image edge.
    """
    n = math.ceil(size / tile)
    edges = [round(i * size / n) for i in range(n + 1)]
    longest = max(b - a for a, b in zip(edges, edges[1:]))
    length = min(size + 2 * border, longest + 2 * pad)
    low, high = -border, size + border - length
    return [Span((c0, c1), (start := min(max(c0 - pad, low), high), start + length))
            for c0, c1 in zip(edges, edges[1:])]


def weights(span: Span, size: int, blend: float, scale: int) -> np.ndarray:
    """Blend weight of each SR pixel of ``span``'s window, float32 ``(window * scale,)``.

    1 inside the core, linear ramps of ``blend`` LR pixels centred on each seam (steps
    when ``blend`` is 0), 0 beyond; the image edges get no ramp. Over all spans of an
    axis the weights sum to 1 at every pixel.
    """
    (c0, c1), (w0, w1) = span.core, span.window
    x = (np.arange(w0 * scale, w1 * scale) + 0.5) / scale  # SR pixel centres, LR units
    if blend > 0:
        up = np.clip((x - c0) / blend + 0.5, 0, 1) if c0 > 0 else np.ones_like(x)
        down = np.clip((c1 - x) / blend + 0.5, 0, 1) if c1 < size else np.ones_like(x)
    else:
        up, down = (x >= c0) | (c0 == 0), (x < c1) | (c1 == size)
    return (up * down).astype(np.float32)


def usable_blend(tile_spans: list[Span], blend: float, pad: int) -> float:
    """``blend`` shrunk to the shortest core, so that ramps of one core never overlap, and
    to ``2 * pad``, so that a ramp never reaches beyond a window."""
    return min([blend, 2 * pad] + [c1 - c0 for (c0, c1), _ in tile_spans])


def activation_bytes(generator) -> float:
    """Float32 activation bytes per LR input pixel of a Keras generator, estimated.

    The widest layer output, in bytes per LR pixel (channels times the upscaling reached
    there, squared, times 4), times the few tensors alive at once. 0 when the generator
    has no Keras layers to count (a plain function).
    """
    widest, factor = 0, 1
    for layer in getattr(generator, "layers", []):
        factor *= getattr(layer, "factor", 1)  # PixelShuffle
        size = getattr(layer, "size", None)  # UpSampling2D
        factor *= size[0] if isinstance(size, tuple) else 1
        shape = getattr(layer, "output", None)
        channels = shape.shape[-1] if shape is not None and shape.shape[-1] else 0
        widest = max(widest, channels * factor * factor * 4)
    return widest * _LIVE_TENSORS


def tile_for_memory(max_memory: int, image_shape: tuple[int, int], bytes_per_pixel: float,
                    scale: int, pad: int, batch: int = 1) -> int:
    """Largest core side whose tiles fit ``max_memory`` bytes with ``batch`` of them at once.

    Counts the generator's activations (``bytes_per_pixel`` per LR pixel of a window) and
    the float32 SR window being blended; never below 32 pixels.

    Args:
        max_memory: bytes the tiles may use.
        image_shape: LR ``(H, W)``; a core never needs to be longer than the image.
        bytes_per_pixel: from :func:`activation_bytes`.
        scale: upscaling factor.
        pad: context on each side of a core.
        batch: tiles run together.
    """
    per_pixel = batch * (bytes_per_pixel + 2 * 3 * 4 * scale * scale)
    side = int(math.sqrt(max_memory / per_pixel)) - 2 * pad
    return max(_MIN_TILE, min(side, max(image_shape)))


def default_max_memory() -> int:
    """A quarter of the memory available now, at most 1 GiB (the default ``--max-memory``).

    1 GiB of tiles keeps a 4000x3000 photo under 4 GB peak RSS with TensorFlow, the
    decoded input and the 192 MP uint8 output (docs/performance.md, "Predict").

    Reads ``MemAvailable`` from ``/proc/meminfo`` on Linux, else physical memory from
    ``os.sysconf``.
    """
    available = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
    except OSError:
        pass
    if available is None:
        try:
            available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            available = 8 << 30
    return min(available // 4, 1 << 30)
