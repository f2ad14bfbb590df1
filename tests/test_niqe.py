"""NIQE against BasicSR's own implementation, and its parts against closed forms.

The reference values were produced by BasicSR's ``calculate_niqe`` exactly as published
(``basicsr/metrics/niqe.py`` at commit 8d56e3a045f9fb3e1d8872f92ee4a4f07f886b0a, with its
``niqe_pris_params.npz``, ``metric_util.py``, ``color_util.py`` and ``matlab_functions.py``;
numpy 2.4.6, scipy 1.17.1, torch 2.13.0+cpu), imported directly in a throwaway venv, on
the RGB arrays below reversed to BGR: ``calculate_niqe(bgr, crop_border,
input_order='HWC', convert_to='y')``, and ``input_order='HW'`` for the grey case. The
sample images were decoded by Pillow 13.0.0. For the same code BasicSR documents 5.7296 on
its ``baboon.png`` (MATLAB's release: 5.72957338); this implementation gives 5.729574.
"""

import math

import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image
from skimage import data

from srgan.evaluation import niqe


def pattern(h: int = 192, w: int = 288) -> np.ndarray:
    """A deterministic RGB test card ``(h, w, 3)`` uint8: smooth waves plus hashed
    integer noise (no random generator, so no dependence on numpy's streams)."""
    y, x = np.mgrid[:h, :w].astype(np.int64)
    noise = (((x * 2654435761) ^ (y * 2246822519)) >> 11) % 41 - 20
    base = 120 + 50 * np.sin(x / 17.0 + np.sin(y / 23.0) * 2) + 30 * np.cos(y / 13.0 - x / 29.0)
    rgb = [base + noise * 0.5, base * 0.8 + 20 + noise * 0.4, 255 - base * 0.6 + noise * 0.3]
    return np.clip(np.round(np.stack(rgb, -1)), 0, 255).astype(np.uint8)


def grace_hopper() -> np.ndarray:
    return np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg")).convert("RGB"))


# (image, crop_border, BasicSR's value, tolerance): natural photos to 0.002 (this code
# differs from BasicSR's float32 arithmetic by at most 0.0007 on them), the synthetic
# card (NIQE 58, far from natural) to 1e-5 relative.
CASES = {
    "astronaut": (data.astronaut, 0, 3.0649476661849033, 0.002),
    "astronaut-crop4": (data.astronaut, 4, 2.991296048454476, 0.002),
    "grace_hopper": (grace_hopper, 0, 3.578503942336651, 0.002),
    "grace_hopper-crop4": (grace_hopper, 4, 3.490845844786714, 0.002),
    "pattern": (pattern, 0, 58.137736324974234, 58.14e-5),
    "pattern-crop4": (pattern, 4, 57.82935572655528, 57.83e-5),
    "pattern-green-as-grey": (lambda: pattern()[..., 1], 0, 32.307257594602326, 32.31e-5),
}


@pytest.mark.parametrize("name", CASES)
def test_niqe_matches_basicsr(name):
    make, crop, reference, tol = CASES[name]
    assert niqe.niqe(make(), crop_border=crop) == pytest.approx(reference, abs=tol)


def test_grey_inputs_agree_in_every_layout():
    grey = pattern()[..., 1]
    assert niqe.niqe(grey[..., None]) == niqe.niqe(grey) == niqe.niqe(grey.astype(np.float32))


def test_grey_rgb_scores_its_luma():
    grey = pattern()[..., 1]
    # R = G = B = v has BT.601 luma 16 + 219 v / 255: the same picture at a lower contrast.
    luma = np.round(16 + 219 * grey.astype(np.float64) / 255)
    assert niqe.niqe(np.repeat(grey[..., None], 3, -1)) == pytest.approx(niqe.niqe(luma), abs=1e-12)


def test_too_small_or_flat_images_have_no_score():
    assert niqe.block_features(np.zeros((95, 500, 3), np.uint8)).shape == (0, niqe.FEATURES)
    assert math.isnan(niqe.niqe(pattern(96, 191)))  # one block: no covariance
    assert not math.isnan(niqe.niqe(pattern(96, 192)))
    assert math.isnan(niqe.niqe(np.full((192, 192, 3), 128, np.uint8)))


def test_undefined_blocks_leave_the_covariance_alone():
    features = niqe.block_features(pattern())
    with_flat = np.concatenate([features, np.full((1, niqe.FEATURES), np.nan)])
    assert niqe.score_features(with_flat) == niqe.score_features(features)
    assert niqe.score_features(features[:1]) != niqe.score_features(features[:1])  # NaN


def test_flat_neighbourhoods_give_exact_zeros():
    # 90 and 31: levels whose float64 local mean is off by rounding noise.
    image = np.full((40, 40), 90.0)
    image[20:, 20:] = 31.0
    taps = niqe.window_taps(niqe.pristine_model().window)
    coeffs = niqe.normalised_coefficients(image, taps)
    assert np.all(coeffs[:14, :14] == 0) and np.all(coeffs[27:, 27:] == 0)
    assert np.all(coeffs[19, 19:21] != 0)


@pytest.mark.parametrize("shape", [2.0, 1.0, 0.5])
def test_aggd_fit_recovers_a_generalised_gaussian(shape):
    # Samples of a symmetric generalised Gaussian: |x|^shape ~ Gamma(1/shape).
    rng = np.random.default_rng(0)
    n = 200_000
    magnitude = rng.gamma(1 / shape, size=n) ** (1 / shape)
    x = np.where(rng.random(n) < 0.5, -magnitude, magnitude)[None]
    fitted, left, right = niqe.fit_aggd(x)
    assert fitted[0] == pytest.approx(shape, rel=0.03)
    assert left[0] == pytest.approx(right[0], rel=0.02)


def test_aggd_fit_sees_asymmetry_and_one_sided_samples():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(100_000)
    shape, left, right = niqe.fit_aggd(np.where(x < 0, 0.5 * x, 2.0 * x)[None])
    assert right[0] / left[0] == pytest.approx(4.0, rel=0.02)
    shape, left, right = niqe.fit_aggd(np.abs(x)[None])
    assert math.isnan(left[0]) and not math.isnan(right[0])


def test_halve_is_matlabs_antialiased_bicubic():
    # MATLAB imresize(x, 0.5) of a ramp is the ramp sampled between pixel pairs, away from
    # the mirrored borders; a constant stays constant everywhere.
    ramp = np.tile(np.arange(32.0), (16, 1))
    half = niqe.halve(ramp)
    assert half.shape == (8, 16)
    np.testing.assert_allclose(half[:, 2:-2], np.tile(np.arange(2, 14) * 2 + 0.5, (8, 1)),
                               atol=1e-12)
    np.testing.assert_allclose(niqe.halve(np.full((8, 6), 9.0)), 9.0, atol=1e-12)


def test_window_must_be_separable():
    window = niqe.pristine_model().window.copy()
    np.testing.assert_allclose(np.outer(*[niqe.window_taps(window)] * 2), window, atol=1e-15)
    window[0, 0] += 0.01
    with pytest.raises(ValueError, match="not separable"):
        niqe.window_taps(window)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        niqe.niqe(np.zeros((200, 200, 2)))
