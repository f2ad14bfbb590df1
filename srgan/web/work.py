"""What the worker process does with one job: decode, upscale, write the PNGs.

:func:`run_job` runs in the child process of :mod:`srgan.web.worker`; it imports
TensorFlow there, inside the functions, so that the server can import :class:`Task`
without it. The generator of a shipped model is loaded once per worker process and kept
for the next jobs.

Memory: the output is built in uint8, never as one float array. The models run through
:func:`srgan.inference.upscale.upscale_stack` with ``predict.py``'s tiling and memory
budget; plain bicubic (the ``bicubic`` method, and the comparison written beside every
other result) runs in tiles of at most :data:`BICUBIC_TILE_OUT` output pixels a side. The
result is written and freed before the comparison is made. PNGs are written at
``predict.py``'s zlib level (1: fast, lossless).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from srgan import files

# Output side of one bicubic tile: its float32 copy is at most 1024 x 1024 x 4 x 4 = 16 MiB.
BICUBIC_TILE_OUT = 1024
# Keys' cubic reaches 2 LR pixels on each side of an output pixel; one more for rounding.
BICUBIC_PAD = 3

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Task:
    """One job as the worker process receives it (pickled through a pipe).

    Attributes:
        upload: the uploaded file, already checked by the server (format, size).
        folder: where ``<prefix>-result.png`` and ``<prefix>-bicubic.png`` are written.
        prefix: the job's id, the start of its file names.
        method, scale: what to run (see ``srgan.web.server.METHODS``).
        max_pixels: the server's input pixel limit, checked again before decoding.
        zssr_steps: ZSSR's most steps per x2 stage (None: ZSSR's default).
        face_enhance: restore the faces with the face model and paste them back
            (``predict.py --face-enhance``; x4 only).
    """

    upload: str
    folder: str
    prefix: str
    method: str
    scale: int
    max_pixels: int
    zssr_steps: Optional[int] = None
    face_enhance: bool = False


def tiled_bicubic(image: np.ndarray, scale: int, tile_out: int = BICUBIC_TILE_OUT,
                  progress: Optional[Progress] = None) -> np.ndarray:
    """:func:`srgan.inference.upscale.interpolate` (bicubic) computed tile by tile.

    Each tile is interpolated from its LR window plus :data:`BICUBIC_PAD` pixels of real
    context (fewer at the image border, as for the whole image), so the result equals the
    whole-image interpolation up to float rounding, while only one tile is ever in float32.

    Args:
        image: uint8 ``(h, w, C)``.
        scale: integer upscaling factor.
        tile_out: longest side of an output tile, in HR pixels.
        progress: called ``(tiles done, tiles, note)`` after each tile.

    Returns:
        uint8 ``(h*scale, w*scale, C)``.
    """
    from srgan.inference.upscale import interpolate

    h, w, channels = image.shape
    core = max(1, tile_out // scale)
    out = np.empty((h * scale, w * scale, channels), np.uint8)
    starts = [(y, x) for y in range(0, h, core) for x in range(0, w, core)]
    for done, (y, x) in enumerate(starts, 1):
        y0, x0 = max(y - BICUBIC_PAD, 0), max(x - BICUBIC_PAD, 0)
        y1, x1 = min(y + core + BICUBIC_PAD, h), min(x + core + BICUBIC_PAD, w)
        up = interpolate(image[y0:y1, x0:x1], scale)
        ty, tx = (y - y0) * scale, (x - x0) * scale
        out_h, out_w = min(core, h - y) * scale, min(core, w - x) * scale
        out[y * scale:y * scale + out_h, x * scale:x * scale + out_w] = \
            up[ty:ty + out_h, tx:tx + out_w]
        if progress is not None:
            progress(done, len(starts), f"bicubic tile {done}/{len(starts)}")
    return out


@functools.lru_cache(maxsize=None)
def _generator(name: str):
    """A shipped generator, loaded once per worker process (on its first job)."""
    from srgan import pretrained
    from srgan.models.weights import load_generator

    return load_generator(pretrained.resolve(name))


@functools.lru_cache(maxsize=None)
def _restorer():
    """``predict.py --face-enhance``'s face restorer, loaded once per worker process."""
    from srgan.inference.faces import load_restorer
    from srgan.options import FaceOptions

    return load_restorer(FaceOptions(face_enhance=True))


def _upscale(task: Task, image: np.ndarray, progress: Progress) -> np.ndarray:
    """uint8 ``(h, w, C)`` -> uint8 ``(h*scale, w*scale, 3 or 4)`` by ``task.method``."""
    from srgan.inference.upscale import upscale_kwargs, upscale_stack
    from srgan.options import PredictOptions

    if task.method == "bicubic":
        return tiled_bicubic(image, task.scale, progress=progress)
    if task.method == "zssr":
        from srgan.inference.zssr import zssr_generator
        from srgan.options import ZSSRConfig

        steps = {} if task.zssr_steps is None else {"steps": task.zssr_steps}
        model = zssr_generator(ZSSRConfig(scale=task.scale, **steps), progress).model
        return upscale_stack(model, image[None], task.scale)[0]

    def tiles(done: int, total: int) -> None:
        progress(done, total, f"tile {done}/{total}")

    # The tiling, border padding and memory budget of predict.py's defaults.
    return upscale_stack(_generator(task.method).model, image[None], task.scale,
                         progress=tiles, **upscale_kwargs(PredictOptions()))[0]


def run_job(task: Task, progress: Progress) -> dict:
    """Decode ``task.upload``, upscale it, write the result and its bicubic comparison.

    Returns:
        ``{"files": {"result": path, "bicubic": path}, "size": (W, H)}`` of the output;
        for the ``bicubic`` method both names are the same file.

    Raises:
        files.ImageError, ValueError, OSError, MemoryError: one line for the page.
    """
    from srgan.options import PredictOptions

    level = PredictOptions.png_compression
    image = files.read_image(task.upload, max_pixels=task.max_pixels, keep_alpha=True)
    sr = _upscale(task, image, progress)
    if task.face_enhance:
        progress(0, 1, "restoring faces")
        sr, _ = _restorer().restore(image, sr)
    size = (sr.shape[1], sr.shape[0])
    folder = Path(task.folder)
    result = files.atomic_save_image(files.safe_output_path(folder, f"{task.prefix}-result.png"),
                                  sr, png_compression=level)
    del sr  # the comparison is made after the result has been written and freed
    if task.method == "bicubic":
        return {"files": {"result": str(result), "bicubic": str(result)}, "size": size}
    bicubic = files.atomic_save_image(files.safe_output_path(folder, f"{task.prefix}-bicubic.png"),
                                   tiled_bicubic(image, task.scale), png_compression=level)
    return {"files": {"result": str(result), "bicubic": str(bicubic)}, "size": size}
