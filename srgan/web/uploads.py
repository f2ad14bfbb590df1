"""An upload's checks, in the server, before its job is queued.

In order, each a clear one-line message: the declared content type
(:data:`srgan.files.IMAGE_CONTENT_TYPES`); then, from the image header alone, what the job
would cost (:func:`cost_error`: the result's pixels, and ZSSR's own smaller limit); then
:func:`srgan.files.read_image`, the decoder ``predict.py`` uses (format from the content,
pixel limit before decoding, decompression-bomb refusal, truncated data). The decoded
pixels are dropped at once: the job waits as its uploaded file, which the worker process
decodes again when the job's turn comes.
"""

from __future__ import annotations

import contextlib
import warnings
from math import isqrt
from pathlib import Path
from typing import Optional

from PIL import Image

from srgan import files
from srgan.web.options import WebOptions


class CostError(files.ImageError):
    """A job that would cost more than the page allows (the page's 413); one line."""


def declared_size(path: Path) -> Optional[tuple[int, int]]:
    """``(width, height)`` from the image header, without decoding; None if unreadable
    (then :func:`srgan.files.read_image` says why)."""
    with contextlib.suppress(Exception), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Image.open(path) as im:
            return im.size
    return None


def cost_error(width: int, height: int, method: str, scale: int,
               options: WebOptions) -> Optional[str]:
    """Why a ``width x height`` image is too large for ``method`` at ``scale``, or None."""
    pixels = width * height * scale * scale
    made = f"x{scale} of {width}x{height} would make {pixels:,} pixels"
    if pixels > options.max_output_pixels:
        side = isqrt(options.max_output_pixels // scale**2)
        return (f"{made}; this page makes at most {options.max_output_pixels:,} "
                f"(x{scale} of about {side}x{side})")
    if method == "zssr" and pixels > options.zssr_max_pixels:
        side = isqrt(options.zssr_max_pixels // scale**2)
        return (f"ZSSR trains on and runs over the whole image, untiled: {made}; it makes "
                f"at most {options.zssr_max_pixels:,} here (x{scale} of about "
                f"{side}x{side}); try a smaller image or another method")
    return None


def check_upload(upload, path: Path, method: str, scale: int, options: WebOptions) -> None:
    """Save a Flask ``FileStorage`` to ``path`` and check it (see the module docstring).

    Raises:
        files.ImageError: one line naming the uploaded file and what is wrong with it.
        CostError: the same, for an image the job would make too large.
    """
    name = upload.filename or "upload"
    if upload.mimetype not in files.IMAGE_CONTENT_TYPES:
        raise files.ImageError(name, f"content type {upload.mimetype or 'none'} is not an "
                            f"image type this page takes (JPEG, PNG, BMP, WebP)")
    upload.save(path)
    size = declared_size(path)
    if size is not None and size[0] * size[1] <= options.max_pixels:
        reason = cost_error(*size, method, scale, options)
        if reason:
            raise CostError(name, reason)
    try:
        files.read_image(path, max_pixels=options.max_pixels, keep_alpha=True,
                      max_bytes=int(options.max_upload_mb * 1e6))
    except files.ImageError as e:
        raise files.ImageError(name, e.reason) from None
