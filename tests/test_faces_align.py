"""Alignment: the similarity fit, exact inverses, and warps that round-trip."""

import numpy as np
import pytest

from srgan.faces import align


def _rotation(deg: float, s: float, t=(0.0, 0.0)) -> np.ndarray:
    c, n = np.cos(np.radians(deg)) * s, np.sin(np.radians(deg)) * s
    return np.array([[c, -n, t[0]], [n, c, t[1]]])


def test_similarity_recovers_a_known_transform_and_ignores_noise_in_least_squares():
    m = _rotation(17, 2.5, (3.0, -4.0))
    src = align.TEMPLATE
    np.testing.assert_allclose(align.similarity(src, align.apply(m, src)), m, atol=1e-9)
    rng = np.random.default_rng(0)
    noisy = align.apply(m, src) + rng.normal(0, 0.3, src.shape)
    fit = align.similarity(src, noisy)
    # No other similarity has a smaller residual: perturbing the fit only makes it worse.
    best = np.sum((align.apply(fit, src) - noisy) ** 2)
    for k in range(20):
        other = fit @ np.vstack([_rotation(rng.normal(0, 1), 1 + rng.normal(0, 0.01),
                                           rng.normal(0, 0.1, 2)), [0, 0, 1]])
        assert np.sum((align.apply(other, src) - noisy) ** 2) > best


def test_similarity_never_reflects():
    mirrored = align.TEMPLATE * [-1, 1]
    assert np.linalg.det(align.similarity(align.TEMPLATE, mirrored)[:, :2]) > 0


def test_invert_is_exact_and_scaled_keeps_points():
    m = _rotation(-33, 0.7, (12.5, 40.25))
    pts = np.array([[1.0, 2.0], [30.0, -5.0]])
    np.testing.assert_allclose(align.apply(align.invert(m), align.apply(m, pts)), pts,
                               atol=1e-12)
    # The same point in images 4x as large: 4p maps to 4m(p).
    np.testing.assert_allclose(align.apply(align.scaled(m, 4), 4 * pts),
                               4 * align.apply(m, pts), atol=1e-9)


def test_half_pixel_convention_flip_is_exact():
    """With pixel centres at half-integers, x -> W - x maps centres onto centres, so the
    warp is an exact mirror image (no interpolation)."""
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (16, 20, 3), dtype=np.uint8)
    # Rotation by 180 degrees about the image centre: (x, y) -> (W - x, H - y).
    m = np.array([[-1.0, 0, 20], [0, -1.0, 16]])
    np.testing.assert_array_equal(align.warp(image, m, (20, 16)), image[::-1, ::-1])


@pytest.mark.parametrize("degrees,scale", [(23, 1.0), (23, 1.6), (-8, 2.5)])
def test_warp_and_inverse_round_trip_a_smooth_pattern(degrees, scale):
    """extract() then the inverse warp gives the pattern back where the crop covered it,
    with no shift: the error has no component along the pattern's gradient (a half-pixel
    mistake in either direction would show as a shift of 0.5 px)."""
    h = w = 96
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    pattern = 127.5 + 60 * np.sin(xs / 7.0) * np.cos(ys / 9.0) + 40 * np.sin((xs + ys) / 13)
    image = np.repeat(np.clip(np.round(pattern), 0, 255).astype(np.uint8)[..., None], 3, 2)
    size = round(96 * scale)
    m = _rotation(degrees, scale, (0, 0))
    m[:, 2] = size / 2 - m[:, :2] @ [w / 2, h / 2]  # the image centre to the crop centre
    back = align.warp(align.extract(image, m, size), align.invert(m), (w, h))
    inside = align.apply(m, np.stack([xs.ravel(), ys.ravel()], 1)).reshape(h, w, 2)
    keep = np.all((inside > 6 * scale) & (inside < size - 6 * scale), axis=-1)
    keep[:6], keep[-6:], keep[:, :6], keep[:, -6:] = False, False, False, False
    assert keep.sum() > 1500
    error = back[..., 0].astype(float) - image[..., 0]
    gy, gx = np.gradient(image[..., 0].astype(float))
    shift, *_ = np.linalg.lstsq(np.stack([gx[keep], gy[keep]], 1), error[keep], rcond=None)
    assert np.abs(shift).max() < 0.05
    assert np.abs(error[keep]).max() <= 4 and np.abs(error[keep]).mean() < 1.2


def test_extract_mirrors_outside_the_image_instead_of_black():
    image = np.full((32, 32, 3), 200, np.uint8)
    m = np.array([[1.0, 0, 16], [0, 1.0, 16]])  # the crop's top-left quarter is outside
    crop = align.extract(image, m, 32)
    assert crop.min() == 200


def test_warp_antialiases_when_shrinking():
    """A one-pixel checkerboard shrunk 4x is flat grey, not an aliased pattern."""
    board = ((np.indices((64, 64)).sum(0) % 2) * 255).astype(np.uint8)
    image = np.repeat(board[..., None], 3, 2)
    small = align.warp(image, align.scaled(np.array([[0.25, 0, 0], [0, 0.25, 0]]), 1), (16, 16))
    assert abs(small[2:-2, 2:-2].astype(float) - 127.5).max() < 12


def test_misfit_is_small_for_the_template_and_large_for_a_profile():
    assert align.misfit(align.apply(_rotation(30, 3, (5, 5)), align.TEMPLATE)) < 1e-9
    profile = align.TEMPLATE.copy()
    profile[2, 0] = profile[1, 0] + 4  # the nose beyond the right eye
    assert align.misfit(profile) > 0.2


@pytest.mark.parametrize("size", [32, 64, 128])
def test_template_scales_with_the_crop(size):
    np.testing.assert_allclose(align.template(size), align.TEMPLATE * size / 64)
