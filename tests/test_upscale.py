"""Tests for srgan.inference.upscale: shapes per channel layout, alpha, and tiled == whole image.

The generator is tiny (4 filters, 1 block) with seeded random weights. Its kernels are
scaled by 1.5 so the output depends strongly on the input (std ~70 grey levels instead of
~13); otherwise a missing tile pad could hide inside the 1/255 tolerance.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from srgan.config import ModelConfig
from srgan.inference.upscale import upscale
from srgan.models.srresnet import PixelShuffle, build_generator

KERNEL_GAIN = 1.5


def _generator(scale: int) -> keras.Model:
    keras.utils.set_random_seed(0)
    generator = build_generator(ModelConfig(num_filters=4, num_blocks=1, scale=scale))
    for weight in generator.weights:
        if weight.path.endswith("kernel"):
            weight.assign(weight.numpy() * KERNEL_GAIN)
    return generator


@pytest.fixture(scope="module")
def gen4():
    return _generator(4)


@pytest.fixture(scope="module")
def gen2():
    return _generator(2)


def _image(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _max_diff(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape and a.dtype == b.dtype == np.uint8
    return int(np.abs(a.astype(int) - b.astype(int)).max())


def receptive_radius(generator: keras.Model) -> int:
    """Upper bound, in LR pixels, on how far any output depends on the input.

    Sums every conv's half-kernel divided by the upscaling reached at that layer (so the
    9x9 tail at x4 counts 1); summing parallel residual branches only overestimates.
    For 1 block at x4: 4 (head) + 2 (block) + 1 (body) + 1 (up0) + 0.5 (up1) + 1 (tail).
    """
    radius, factor = 0.0, 1
    for layer in generator.layers:
        if isinstance(layer, keras.layers.Conv2D):
            radius += (layer.kernel_size[0] - 1) / 2 / factor
        elif isinstance(layer, PixelShuffle):
            factor *= layer.factor
        elif isinstance(layer, keras.layers.UpSampling2D):
            factor *= layer.size[0]
    return math.ceil(radius)


def test_receptive_radius_of_tiny_model(gen4, gen2):
    assert receptive_radius(gen4) == 10  # 9.5 rounded up
    assert receptive_radius(gen2) == 10  # 4 + 2 + 1 + 1 + 9x9 tail at x2 (2)


def test_output_depends_on_input(gen4):
    a, b = upscale(gen4, _image((13, 21, 3), 0), 4), upscale(gen4, _image((13, 21, 3), 1), 4)
    assert a.std() > 30 and _max_diff(a, b) > 100


@pytest.mark.parametrize("shape, out_shape", [
    ((13, 21, 3), (52, 84, 3)),
    ((13, 21), (52, 84, 3)),
    ((13, 21, 1), (52, 84, 3)),
    ((13, 21, 4), (52, 84, 4)),
    ((1, 1, 3), (4, 4, 3)),
])
@pytest.mark.parametrize("tile", [None, 5])
def test_output_shapes(gen4, shape, out_shape, tile):
    out = upscale(gen4, _image(shape), 4, tile=tile, tile_pad=3)
    assert out.shape == out_shape and out.dtype == np.uint8


def test_gray_is_replicated_to_rgb(gen4):
    gray = _image((13, 21))
    expected = upscale(gen4, np.repeat(gray[..., None], 3, axis=2), 4)
    np.testing.assert_array_equal(upscale(gen4, gray, 4), expected)
    np.testing.assert_array_equal(upscale(gen4, gray[..., None], 4), expected)


def test_alpha_upscaled_separately(gen4):
    h, w, scale = 13, 21, 4
    rgba = _image((h, w, 4))
    rgba[..., 3] = np.linspace(0, 255, w).round().astype(np.uint8)  # left-to-right ramp
    out = upscale(gen4, rgba, scale, tile=8, tile_pad=10)
    np.testing.assert_array_equal(out[..., :3], upscale(gen4, rgba[..., :3], scale))
    # The ramp, sampled at HR pixel centres, away from the clamped ends.
    centres = (np.arange(w * scale) + 0.5) / scale - 0.5
    ramp = np.interp(centres, np.arange(w), np.linspace(0, 255, w))
    alpha = out[..., 3].astype(float)
    assert np.ptp(alpha, axis=0).max() <= 1  # constant down each column
    assert np.abs(alpha[:, scale:-scale] - ramp[scale:-scale]).max() <= 2


@pytest.mark.parametrize("tile", [5, 8, 16])
@pytest.mark.parametrize("extra_pad", [0, 2])
def test_tiled_equals_untiled(gen4, tile, extra_pad):
    image = _image((23, 37, 3))
    pad = receptive_radius(gen4) + extra_pad
    assert _max_diff(upscale(gen4, image, 4, tile=tile, tile_pad=pad),
                     upscale(gen4, image, 4)) <= 1


def test_tiled_batches_equal_single_tiles(gen4):
    image = _image((23, 37, 3))
    assert _max_diff(upscale(gen4, image, 4, tile=5, tile_pad=10, batch=4),
                     upscale(gen4, image, 4, tile=5, tile_pad=10)) <= 1


@pytest.mark.parametrize("tile", [37, 64])
def test_tile_covering_image_equals_untiled(gen4, tile):
    image = _image((23, 37, 3))
    np.testing.assert_array_equal(upscale(gen4, image, 4, tile=tile, tile_pad=0),
                                  upscale(gen4, image, 4))


def test_short_pad_shows_seams_only_near_seams(gen4):
    """Proves the equality tests can fail: without enough pad, seams differ, and only there.

    One vertical seam at LR column 32 (HR column 128); height 24 < tile, so no other seam.
    """
    scale, radius = 4, receptive_radius(gen4)
    image = _image((24, 64, 3))
    full = upscale(gen4, image, scale)
    near = np.abs(np.arange(64 * scale) + 0.5 - 32 * scale) < radius * scale
    for pad, worst_near_seam in [(0, 64), (radius - 2, 1)]:
        tiled = upscale(gen4, image, scale, tile=32, tile_pad=pad)
        assert _max_diff(tiled[:, near], full[:, near]) > worst_near_seam
        assert _max_diff(tiled[:, ~near], full[:, ~near]) <= 1


def test_scale_2(gen2):
    image = _image((13, 21, 3))
    full = upscale(gen2, image, 2)
    assert full.shape == (26, 42, 3)
    pad = receptive_radius(gen2)
    assert _max_diff(upscale(gen2, image, 2, tile=6, tile_pad=pad), full) <= 1


def test_traces_once_for_all_tile_shapes(gen4):
    traced = []

    def counting(x, training=False):
        traced.append(x.shape)
        return gen4(x, training=training)

    upscale(counting, _image((23, 37, 3)), 4, tile=5, tile_pad=3, batch=2)
    assert len(traced) == 1


@pytest.mark.parametrize("image, scale, kwargs", [
    (np.zeros((8, 8, 3), np.float32), 4, {}),
    (np.zeros((8, 8, 2), np.uint8), 4, {}),
    (np.zeros((0, 8, 3), np.uint8), 4, {}),
    (np.zeros((8, 8, 3), np.uint8), 2, {}),  # the generator is x4
    (np.zeros((8, 8, 3), np.uint8), 4, {"tile": 0}),
    (np.zeros((8, 8, 3), np.uint8), 4, {"tile_pad": -1}),
])
def test_rejects_bad_input(gen4, image, scale, kwargs):
    with pytest.raises(ValueError):
        upscale(gen4, image, scale, **kwargs)
