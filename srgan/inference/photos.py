"""``predict.py -i FILE_OR_FOLDER``: upscale a user's photos, the way Real-ESRGAN's script does.

Each image is read with its colour profile and EXIF, upscaled x``scale`` in tiles that fit
the memory budget (same-sized images ``batch_size`` at a time), resized to ``outscale``
with an antialiased filter when asked, and written atomically as
``OUTPUT/NAME_SUFFIX.EXT``. Existing outputs are skipped unless ``overwrite``. A folder
shows a progress bar on a terminal; a file that cannot be read gets one line naming it,
and the others still run.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np
from PIL import Image
from tqdm import tqdm

from srgan import files
from srgan.faces.detect import DetectionError, write_faces_json
from srgan.faces.restore import FaceRestorer, describe, save_faces
from srgan.inference.backends import make_runner
from srgan.inference.upscale import upscale_kwargs, upscale_stack
from srgan.models.weights import Generator
from srgan.options import PredictOptions

logger = logging.getLogger(__name__)

# What --ext auto writes for each input extension.
_AUTO_EXT = {".jpg": "jpg", ".jpeg": "jpg", ".webp": "webp"}


class _Job(NamedTuple):
    """One input image, decoded, and where its output goes."""

    path: Path
    image: np.ndarray  # uint8 (H, W, 3) or (H, W, 4)
    metadata: dict
    target: Path


def output_ext(path: Path, has_alpha: bool, ext: str) -> str:
    """The output format: ``ext``, or with ``auto`` the input's (png for bmp, and for an
    image with alpha whose own format has none)."""
    if ext != "auto":
        return ext
    chosen = _AUTO_EXT.get(path.suffix.lower(), "png")
    return "png" if has_alpha and chosen == "jpg" else chosen


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 ``(H, W, C)`` -> ``(h, w, C)`` for ``size = (w, h)``, Lanczos, antialiased when
    shrinking (Pillow widens the filter by the reduction)."""
    if (image.shape[1], image.shape[0]) == size:
        return image
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))


def _save(job: _Job, sr: np.ndarray, scale: int, options: PredictOptions) -> np.ndarray:
    """Resize ``sr`` to ``outscale`` and write it to ``job.target``; returns what was written."""
    h, w = job.image.shape[:2]
    factor = options.outscale or scale
    sr = resize(sr, (max(1, round(w * factor)), max(1, round(h * factor))))
    files.atomic_save_image(job.target, sr, options.jpeg_quality, job.metadata,
                            options.png_compression)
    return sr


class _TileBar:
    """``progress`` for :func:`upscale_stack`: a transient bar of tiles under the image bar,
    on a terminal only, for inputs that take more than one batch of tiles (a large photo
    otherwise shows nothing for minutes)."""

    def __init__(self):
        self._bar = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if done >= total:
                return
            self._bar = tqdm(total=total, unit="tile", leave=False, disable=None)
        self._bar.total = total  # grows when alpha goes through the model too
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def predict_folder(generator: Generator, options: PredictOptions,
                   restorer: Optional[FaceRestorer] = None) -> int:
    """Upscale every image under ``options.input``; returns 1 if any failed, else 0.

    With a ``restorer`` (``--face-enhance``), each image's faces are restored and pasted
    back over the upscaled image before it is written; its options' ``faces_json`` then gets
    every image's faces and ``save_faces`` the aligned crops and restorations (GFPGAN's
    layout).
    A failed input, the detector's failure included, gets one line naming it and the
    reason; no partial output file is ever left behind.
    """
    scale = generator.scale
    root = Path(options.input)
    out_dir = files.check_writable_dir(Path(options.output))
    paths = files.list_images(root)
    if not paths:
        raise FileNotFoundError(f"{root}: no images (jpg, jpeg, png, bmp, webp) found")
    runner = make_runner(generator, options.backend, self_ensemble=options.self_ensemble)
    kwargs = upscale_kwargs(options)
    suffix = f"x{scale}" if options.suffix is None else options.suffix
    # On a terminal a bar under the per-file lines; none in a log file (disable=None).
    bar = tqdm(total=len(paths), unit="image", disable=None if root.is_dir() else True)
    failed, skipped, done, written, pending, found = 0, 0, 0, set(), [], {}

    def flush() -> None:
        """Upscale and write the pending same-sized images together."""
        nonlocal failed, done
        if pending:
            tiles = _TileBar()
            try:
                outs = upscale_stack(runner, np.stack([j.image for j in pending]), scale,
                                     progress=tiles, **kwargs)
            finally:
                tiles.close()
            for job, sr in zip(pending, outs):
                note = ""
                try:
                    if restorer is not None:
                        sr, results = restorer.restore(job.image, sr)
                        found[str(job.path)] = [r.to_json() for r in results]
                        note = f"; {describe(results)}"
                        if restorer.options.save_faces:
                            save_faces(Path(restorer.options.save_faces), job.target.stem,
                                       results, options.png_compression)
                    sr = _save(job, sr, scale, options)
                except DetectionError as e:
                    failed += 1
                    logger.error(f"{job.path}: {e}; nothing written")
                    continue
                except (ValueError, OSError) as e:
                    failed += 1
                    logger.error(str(e))
                    continue
                logger.info(f"{job.path} -> {job.target} ({job.image.shape[1]}x"
                            f"{job.image.shape[0]} -> {sr.shape[1]}x{sr.shape[0]}){note}")
            done += len(pending)
            bar.update(len(pending))
            pending.clear()

    for path in paths:
        # Flatten nested names (a/b/c.jpg -> a_b_c_x4.png) so equal stems never collide.
        rel = path.relative_to(root) if root.is_dir() else Path(path.name)
        name = "_".join(rel.with_suffix("").parts)
        try:
            image = files.read_image(path, max_pixels=options.max_pixels, keep_alpha=True)
            ext = output_ext(path, image.shape[2] == 4, options.ext)
            target, n = files.safe_output_path(out_dir, f"{name}_{suffix}.{ext}"), 1
            while target in written:  # a.bmp after a.webp: a_2_x4.png, never overwritten
                n += 1
                target = files.safe_output_path(out_dir, f"{name}_{n}_{suffix}.{ext}")
            written.add(target)
            if target.exists() and not options.overwrite:
                skipped += 1
                bar.update(1)
                continue
            if image.shape[2] == 4 and ext == "jpg":
                raise files.ImageError(path, "has alpha, which jpg cannot hold; use --ext png")
        except (files.ImageError, ValueError, OSError) as e:
            failed += 1
            done += 1
            bar.update(1)
            logger.error(str(e))
            continue
        if pending and pending[0].image.shape != image.shape:
            flush()
        pending.append(_Job(path, image, files.read_metadata(path), target))
        if len(pending) == options.batch_size:
            flush()
    flush()
    bar.close()
    if restorer is not None and restorer.options.faces_json:
        write_faces_json(Path(restorer.options.faces_json), found)
        logger.info(f"faces of {len(found)} images written to {restorer.options.faces_json}")
    note = f"; {skipped} skipped, their outputs exist (--overwrite replaces them)" if skipped else ""
    logger.info(f"{done - failed} of {len(paths)} images upscaled x{options.outscale or scale} "
                f"into {out_dir}{note}")
    return 1 if failed else 0
