"""tf.data pipeline: file list -> decode -> (LR, HR) pairs (:mod:`srgan.data.transforms`)
-> batches.

Files are decoded inside the pipeline by Pillow (EXIF orientation, CMYK, 16-bit, palette,
WebP) through ``tf.numpy_function``; only file names are held in memory.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import tensorflow as tf

from srgan import files
from srgan.config import DataConfig
from srgan.data import stream, transforms
from srgan.data.transforms import make_pair
from srgan.pixels import to_unit_range

logger = logging.getLogger(__name__)


def sample_face_paths() -> list[Path]:
    """Public-domain portraits shipped by installed packages: the built-in sample faces.

    matplotlib ships ``grace_hopper.jpg`` (US Navy photo) and scikit-image ships
    ``astronaut.png`` (Eileen Collins, NASA).
    """
    import matplotlib

    paths = [Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"]
    try:
        import skimage.data

        paths.append(Path(skimage.data.__file__).parent / "astronaut.png")
    except ImportError:
        pass
    return [p for p in paths if p.is_file()]


def find_images(data_dir: str | Path, allow_samples: bool = True,
                log: Callable[[str], None] = logger.info) -> list[Path]:
    """Images under ``data_dir`` (recursive); when there are none, the sample faces if
    ``allow_samples`` (the default ``data/`` folder), else a one-line error."""
    data_dir = Path(data_dir)
    found = files.list_images(data_dir) if data_dir.exists() or not allow_samples else []
    if found:
        log(f"data: {len(found)} images under {data_dir}")
        return found
    if not allow_samples:
        raise FileNotFoundError(f"{data_dir}: no images (jpg, jpeg, png, bmp, webp) found")
    samples = sample_face_paths()
    if not samples:
        raise FileNotFoundError(f"{data_dir}: no images found, and no built-in sample faces")
    log(f"data: no images under {data_dir}; using the {len(samples)} built-in sample faces "
        f"({', '.join(p.name for p in samples)})")
    return samples


class DecodeGuard:
    """Counts undecodable files seen by the pipeline and stops the run when too many are bad.

    Each bad file is reported once, on one line naming it and the reason. When every file
    is bad, or more than ``max_bad_fraction`` of them, ``read`` raises
    :class:`files.ImageError` (kept in ``self.error`` too, since TensorFlow wraps it).
    """

    def __init__(self, total: int, max_pixels: int, max_bad_fraction: float = 1.0):
        self.total, self.max_pixels, self.max_bad_fraction = total, max_pixels, max_bad_fraction
        self.bad: dict[str, str] = {}
        self.error: Optional[files.ImageError] = None
        self._lock = threading.Lock()

    def read(self, path: bytes) -> tuple[np.ndarray, bool]:
        """``tf.numpy_function`` body: ``path -> (uint8 (H, W, 3), ok)``."""
        name = path.decode()
        try:
            return files.read_image(Path(name), max_pixels=self.max_pixels), True
        except files.ImageError as e:
            with self._lock:
                if name not in self.bad:
                    self.bad[name] = str(e)
                    logger.warning(f"skipping {e}")
                self._check(name)
            return np.zeros((1, 1, 3), np.uint8), False

    def _check(self, name: str) -> None:
        n = len(self.bad)
        if n >= self.total:
            self.error = files.ImageError(f"{name}: no usable images: all {n} files failed")
        elif n > self.max_bad_fraction * self.total:
            self.error = files.ImageError(
                f"{name}: too many bad images: {n} of {self.total} files could not be "
                f"decoded, more than --max-bad-fraction {self.max_bad_fraction:g} allows "
                f"(each is named above; --max-bad-fraction 1 skips them all)")
        if self.error:
            raise self.error


def make_dataset(paths: Sequence[Path], cfg: DataConfig, scale: int, seed: int,
                 guard: DecodeGuard, start: int = 0) -> tf.data.Dataset:
    """Endless, shuffled training batches ``(lr (B, h, w, 3), hr (B, H, W, 3))``.

    File order and augmentation are a pure function of ``(seed, position)``
    (:mod:`srgan.data.stream`), so the batches from position ``start`` on are those an
    uninterrupted run sees there; skipping to ``start`` decodes nothing. Decodes and
    prepares in parallel (order kept), drops files that fail to decode (``guard`` reports
    them), batches with ``drop_remainder`` (a static batch size suits XLA and
    tf.distribute) and prefetches.
    """
    size = cfg.crop or cfg.hr_size
    names = tf.constant([str(p) for p in paths])

    def load(position, index):
        image, ok = tf.numpy_function(guard.read, [tf.gather(names, index)],
                                      [tf.uint8, tf.bool], stateful=False)
        image.set_shape([None, None, 3])
        return position, image, ok

    ds = stream.positions(len(paths), seed, start)
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.filter(lambda position, image, ok: ok)
    ds = ds.map(lambda position, image, ok: make_pair(
        image, cfg.hr_size, scale, cfg.crop, stream.element_seed(seed, position),
        cfg.degradation, cfg.sharpen_hr),
                num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.batch(cfg.batch_size, drop_remainder=True)
    ds = ds.map(lambda lr, hr: (tf.ensure_shape(lr, [None, size // scale, size // scale, 3]),
                                tf.ensure_shape(hr, [None, size, size, 3])))
    return ds.prefetch(tf.data.AUTOTUNE)


def load_samples(paths: Sequence[Path], count: int, hr_size: int, scale: int,
                 max_pixels: int, kind: str = "bicubic",
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    """A fixed set of whole faces for triptychs and validation: the first ``count``
    decodable ``paths``, their LR made by ``kind`` (:func:`transforms.degrade`); a random
    kind draws the LR of the ``i``-th face from the stateless seed ``(seed, i)``, as
    ``evaluate.py --seed`` does.

    Returns ``lr (N, hr/scale, hr/scale, 3)``, ``hr (N, hr, hr, 3)`` in [-1, 1] and the
    paths used. Fixed, so samples are comparable across epochs and runs.
    """
    lrs, hrs, used = [], [], []
    for path in paths:
        if len(used) == count:
            break
        try:
            image = files.read_image(path, max_pixels=max_pixels)
        except files.ImageError:
            continue
        hr = transforms.prepare_hr(image, hr_size)
        lr = transforms.degrade(hr, scale, kind, None if kind == "bicubic" else tf.constant(
            [seed, len(used)], tf.int64))
        lr, hr = to_unit_range(lr), to_unit_range(hr)
        lrs.append(lr.numpy())
        hrs.append(hr.numpy())
        used.append(path)
    if not used:
        raise files.ImageError(f"{paths[0] if paths else '(none)'}: no decodable sample image")
    return np.stack(lrs), np.stack(hrs), used
