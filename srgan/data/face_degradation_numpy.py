"""GFPGAN's face degradation in numpy and Pillow, for trainers that run without TensorFlow.

:func:`srgan.data.face_degradation.gfpgan` makes the face model's training LR inside
``tf.data``. A GPU machine with JAX but no TensorFlow (``scripts/gan_jax.py``) makes the
same LR here, on its CPU cores, from the same ranges (the constants below; the
TensorFlow module reads them from this one):

* the HR made grey with probability :data:`GRAY_PROB` (BT.601 luma in every channel);
* a Gaussian blur, isotropic or anisotropic and rotated (half each), sigmas in
  :data:`BLUR_SIGMA`, on a 21 x 21 support, the image mirror-padded;
* a bilinear resize (half-pixel centres, no antialiasing: ``tf.image.resize`` and
  ``cv2.resize``'s ``INTER_LINEAR``) to ``1 / (scale * f)`` of the face, ``f`` in
  [1, :data:`SMALLER`];
* Gaussian noise, sigma in :data:`NOISE_SIGMA` levels; JPEG at a quality in
  :data:`JPEG_QUALITY`: libjpeg through Pillow, the bytes TensorFlow encodes (4:2:0
  chroma), decoded with libjpeg's accurate IDCT as Pillow and OpenCV read photos
  (``tf.image.adjust_jpeg_quality`` decodes with the fast one, about a level apart);
* a bilinear resize to ``1 / scale`` of the face;
* with probability :data:`JITTER_PROB` (colour faces only) a shift of each channel in
  +-:data:`JITTER_SHIFT` levels; the LR of a grey face made grey again.

The TensorFlow version draws from stateless TensorFlow seeds, this one from a numpy
``Generator``: the same distribution, not the same draws. The steps and their order
are the same; ``tests/test_face_degradation_numpy.py`` checks each step against its
TensorFlow counterpart and the two LR distributions against each other.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

BLUR_SIGMA = (0.05, 5.0)  # at 256 px; GFPGAN's [0.1, 10] is at 512 px
KERNEL_SIZE = 21
SMALLER = 2.5
NOISE_SIGMA = (0.0, 20.0)
JPEG_QUALITY = (40, 100)
JITTER_PROB, JITTER_SHIFT = 0.3, 20.0
GRAY_PROB = 0.05
LUMA = np.array([0.2989, 0.587, 0.114], np.float32)  # tf.image.rgb_to_grayscale's weights


def to_gray(image: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` -> its BT.601 luma in all three channels, float32."""
    return np.repeat((image.astype(np.float32) @ LUMA)[..., None], 3, axis=-1)


def gaussian_kernel(sigma_x: float, sigma_y: float, theta: float,
                    size: int = KERNEL_SIZE) -> np.ndarray:
    """A Gaussian with std ``sigma_x`` along the axis at angle ``theta`` and ``sigma_y``
    across it, on a ``size x size`` grid: float32 ``(size, size)`` summing to 1."""
    r = np.arange(size, dtype=np.float64) - size // 2
    x, y = np.meshgrid(r, r)
    c, s = np.cos(theta), np.sin(theta)
    u, v = c * x + s * y, -s * x + c * y
    kernel = np.exp(-0.5 * ((u / sigma_x) ** 2 + (v / sigma_y) ** 2))
    return (kernel / kernel.sum()).astype(np.float32)


def filter2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve each channel of ``image`` ``(H, W, C)`` with ``kernel`` ``(k, k)`` (odd
    ``k``), mirror-padded with the edge repeated (numpy's ``symmetric``, as
    :func:`srgan.data.kernels.filter2d`): same shape out, float32. By FFT: a 21 x 21
    kernel over a 256 px face costs about a millisecond this way."""
    k = kernel.shape[0]
    h, w = image.shape[:2]
    padded = np.pad(image.astype(np.float32), ((k // 2,) * 2, (k // 2,) * 2, (0, 0)),
                    mode="symmetric")
    shape = padded.shape[:2]
    spectrum = np.fft.rfft2(padded, axes=(0, 1)) * np.fft.rfft2(
        kernel[::-1, ::-1], s=shape)[..., None]
    full = np.fft.irfft2(spectrum, s=shape, axes=(0, 1))
    return full[k - 1:k - 1 + h, k - 1:k - 1 + w].astype(np.float32)


def resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of ``(H, W, C)`` to ``(height, width, C)`` with half-pixel centres
    and no antialiasing, as ``tf.image.resize(..., "bilinear")``: float32."""
    def taps(n_in: int, n_out: int):
        pos = np.clip((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0.0, n_in - 1)
        low = np.floor(pos).astype(np.int64)
        return low, np.minimum(low + 1, n_in - 1), (pos - low).astype(np.float32)

    y0, y1, fy = taps(image.shape[0], height)
    x0, x1, fx = taps(image.shape[1], width)
    image = image.astype(np.float32)
    rows = image[y0] * (1 - fy)[:, None, None] + image[y1] * fy[:, None, None]
    return rows[:, x0] * (1 - fx)[None, :, None] + rows[:, x1] * fx[None, :, None]


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` ``(H, W, 3)`` in [0, 1] through JPEG at ``quality``, back in [0, 1]: the 8-bit
    conversion of ``tf.image.adjust_jpeg_quality`` (``x * 255.5`` truncated), libjpeg with
    4:2:0 chroma, the accurate IDCT (module docstring), float32."""
    levels = np.clip(np.floor(np.clip(image, 0.0, 1.0) * 255.5), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(levels).save(buffer, "JPEG", quality=int(quality), subsampling=2)
    return np.asarray(Image.open(buffer).convert("RGB"), np.float32) / 255.0


def make_gray(hr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``hr`` made grey with probability :data:`GRAY_PROB` (else unchanged, float32)."""
    return to_gray(hr) if rng.uniform() < GRAY_PROB else hr.astype(np.float32)


def gfpgan(hr: np.ndarray, scale: int, rng: np.random.Generator) -> np.ndarray:
    """The LR of an aligned face, degraded as :func:`srgan.data.face_degradation.gfpgan`.

    Args:
        hr: ``(H, W, 3)`` in [0, 255], H and W multiples of ``scale``.
        scale: the LR is ``1/scale`` of the HR.
        rng: the draws.

    Returns:
        ``(H/scale, W/scale, 3)`` float32 in [0, 255], rounded to 8-bit levels.
    """
    hr = np.asarray(hr, np.float32)
    h, w = hr.shape[:2]
    if rng.uniform() < 0.5:
        sigma_x = sigma_y = rng.uniform(*BLUR_SIGMA)
        theta = 0.0
    else:
        sigma_x, sigma_y = rng.uniform(*BLUR_SIGMA), rng.uniform(*BLUR_SIGMA)
        theta = rng.uniform(-np.pi, np.pi)
    x = filter2d(hr / 255.0, gaussian_kernel(sigma_x, sigma_y, theta))
    factor = scale * rng.uniform(1.0, SMALLER)
    x = resize_bilinear(x, max(int(h / factor), 1), max(int(w / factor), 1))
    x = x + rng.standard_normal(x.shape, np.float32) * (rng.uniform(*NOISE_SIGMA) / 255.0)
    x = jpeg(x, rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))
    x = resize_bilinear(x, h // scale, w // scale)
    is_gray = bool(np.all(hr[..., 0] == hr[..., 1]) and np.all(hr[..., 1] == hr[..., 2]))
    shift = rng.uniform(-JITTER_SHIFT, JITTER_SHIFT, 3).astype(np.float32) / 255.0
    if rng.uniform() < JITTER_PROB and not is_gray:
        x = x + shift
    if is_gray:
        x = to_gray(x)
    return np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.float32)


def make_pair(hr: np.ndarray, scale: int, rng: np.random.Generator):
    """A training pair from an aligned HR face ``(H, W, 3)`` uint8, as
    :func:`srgan.data.transforms.make_pair` makes one for ``gfpgan`` whole frames: flipped
    left-right with probability 1/2, grey with probability :data:`GRAY_PROB`, then
    :func:`gfpgan`. Returns ``(lr (H/scale, W/scale, 3), hr (H, W, 3))`` float32 in [-1, 1].
    """
    hr = np.asarray(hr, np.float32)
    if rng.uniform() < 0.5:
        hr = hr[:, ::-1]
    hr = make_gray(hr, rng)
    lr = gfpgan(hr, scale, rng)
    return lr / 127.5 - 1.0, hr / 127.5 - 1.0
