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
from srgan.inference.backends import FlipEnsemble, KerasRunner
from srgan.inference.upscale import receptive_radius, upscale, upscale_stack
from srgan.models.generators import build_generator
from srgan.models.layers import PixelShuffle
from srgan.options import PredictOptions

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


def _pad(generator: keras.Model) -> int:
    """The production receptive radius, rounded up to whole LR pixels of tile pad."""
    return math.ceil(receptive_radius(generator))


def test_receptive_radius_of_tiny_model(gen4, gen2):
    # 4 (9x9 head) + 2 (block) + 1 (body) + 1 (3x3 at x1) + 0.5 (3x3 at x2) + 1 (9x9 at x4)
    assert receptive_radius(gen4) == 9.5
    assert receptive_radius(gen2) == 10  # 4 + 2 + 1 + 1 + the 9x9 tail at x2 (2)


def test_receptive_radius_of_the_papers_generator():
    """Kernel sizes alone set it: 16 blocks of 4 filters reach as far as 16 of 64."""
    generator = build_generator(ModelConfig(num_filters=4, num_blocks=16))
    assert receptive_radius(generator) == 4 + 2 * 16 + 1 + 1 + 0.5 + 1


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


@pytest.mark.parametrize("tile", [None, 5])
def test_gray_stays_gray(gen4, tile):
    """The colour model tints gray texture (R, G, B differ by tens of levels); the output
    of a gray input is its luma, R = G = B."""
    gray = _image((13, 21))
    out = upscale(gen4, gray, 4, tile=tile, tile_pad=3)
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])
    colour = upscale(gen4, np.stack([gray, gray, gray ^ 1], axis=2), 4)  # not quite gray
    assert _max_diff(colour[..., :1], colour[..., 1:2]) > 10


@pytest.fixture(scope="module")
def shipped():
    from srgan.models.weights import load_generator
    from srgan.pretrained import resolve

    return load_generator(resolve("srgan")).model


@pytest.mark.parametrize("level", [0, 128, 255])
def test_flat_images_keep_their_level_and_colour(shipped, level):
    """A flat grey, black or white image comes back flat at predict.py's defaults: within
    1 level, no tint.

    The mirrored margin (``pre_pad``) matters: without it the zero padding of the
    convolutions pulls the border further off (by 2 levels with the SRGAN shipped before
    December 4, 2026; by 1 on more pixels with the current one).
    """
    image = np.full((16, 24, 3), level, np.uint8)
    out = upscale(shipped, image, 4, pre_pad=PredictOptions().pre_pad).astype(int)
    assert np.abs(out - level).max() <= 1
    unpadded = upscale(shipped, image, 4).astype(int)
    assert np.abs(unpadded - level).sum() > np.abs(out - level).sum()


def test_alpha_through_the_model(gen4):
    rgba = _image((13, 21, 4))
    out = upscale(gen4, rgba, 4, alpha="model", tile=8, tile_pad=3)
    expected = upscale(gen4, rgba[..., 3], 4, tile=8, tile_pad=3)[..., 0]
    np.testing.assert_array_equal(out[..., 3], expected)
    np.testing.assert_array_equal(out[..., :3], upscale(gen4, rgba[..., :3], 4, tile=8,
                                                        tile_pad=3))


def test_memory_budget_tiles_large_images_only(gen4):
    image = _image((23, 37, 3))
    whole = upscale(gen4, image, 4)
    np.testing.assert_array_equal(upscale(gen4, image, 4, max_memory=1 << 30), whole)
    shapes = []

    class Recording(KerasRunner):
        def __call__(self, batch):
            shapes.append(batch.shape)
            return super().__call__(batch)

    image = _image((80, 80, 3))
    out = upscale(Recording(gen4), image, 4, max_memory=4 << 20, tile_pad=12, blend=4)
    assert len(shapes) > 1 and max(s[1] for s in shapes) < 80
    assert _max_diff(out, upscale(gen4, image, 4)) <= 1  # 12 - 4 / 2 >= radius 10


def test_stack_batches_equal_images(gen4):
    images = np.stack([_image((13, 21, 3), seed) for seed in range(3)])
    out = upscale_stack(gen4, images, 4, batch=3)
    for image, sr in zip(images, out):
        np.testing.assert_array_equal(sr, upscale(gen4, image, 4))


def test_progress_counts_every_tile_once(gen4):
    images = np.stack([_image((20, 30, 3), seed) for seed in range(2)])  # 2 x 3 tiles each
    calls = []
    upscale_stack(gen4, images, 4, tile=10, tile_pad=2, batch=4,
                  progress=lambda done, total: calls.append((done, total)))
    assert calls == [(4, 12), (8, 12), (12, 12)]
    calls.clear()  # alpha through the model: 6 more tiles per image, counted on
    rgba = np.concatenate([images, images[..., :1]], axis=3)
    upscale_stack(gen4, rgba, 4, tile=10, tile_pad=2, batch=4, alpha="model",
                  progress=lambda done, total: calls.append((done, total)))
    assert calls == [(4, 12), (8, 12), (12, 12), (16, 24), (18, 24), (22, 24), (24, 24)]


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
@pytest.mark.parametrize("blend", [0, 4])
def test_tiled_equals_untiled(gen4, tile, extra_pad, blend):
    """Full overlap: the cross-fade lies wholly in pixels every tile gets right."""
    image = _image((23, 37, 3))
    pad = _pad(gen4) + blend // 2 + extra_pad
    assert _max_diff(upscale(gen4, image, 4, tile=tile, tile_pad=pad, blend=blend),
                     upscale(gen4, image, 4)) <= 1


def test_blend_wider_than_the_overlap_allows_shows(gen4):
    """The exactness condition is tight: a blend reaching into wrong pixels shows."""
    image = _image((23, 37, 3))
    pad = _pad(gen4)
    assert _max_diff(upscale(gen4, image, 4, tile=16, tile_pad=pad, blend=8),
                     upscale(gen4, image, 4)) > 1


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

    Vertical seams at LR columns 32 and 64 (HR 128 and 256); height 24 < tile, so no
    other seam. The middle tile's window has exactly ``pad`` pixels of context each side
    (the outer windows are shifted inward and see more).
    """
    scale, radius = 4, _pad(gen4)
    image = _image((24, 96, 3))
    full = upscale(gen4, image, scale)
    x = np.arange(96 * scale) + 0.5
    near = (np.abs(x - 32 * scale) < radius * scale) | (np.abs(x - 64 * scale) < radius * scale)
    for pad, worst_near_seam in [(0, 64), (radius - 2, 1)]:
        tiled = upscale(gen4, image, scale, tile=32, tile_pad=pad, blend=0)
        assert _max_diff(tiled[:, near], full[:, near]) > worst_near_seam
        assert _max_diff(tiled[:, ~near], full[:, ~near]) <= 1


def test_scale_2(gen2):
    image = _image((13, 21, 3))
    full = upscale(gen2, image, 2)
    assert full.shape == (26, 42, 3)
    pad = _pad(gen2)
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


def test_flip_ensemble_averages_the_image_and_its_mirror(gen4):
    """The ensemble is the rounded mean of the plain output and the mirrored output of the
    mirrored input, tiled or not; a random generator is not mirror-symmetric, so both
    halves count."""
    image = _image((12, 17, 3))
    plain = upscale(gen4, image, 4).astype(np.float32)
    mirrored = upscale(gen4, np.ascontiguousarray(image[:, ::-1]), 4)[:, ::-1]
    assert _max_diff(plain.astype(np.uint8), mirrored) > 8
    expected = np.round((plain + mirrored) / 2).astype(np.uint8)
    ensemble = FlipEnsemble(KerasRunner(gen4))
    assert _max_diff(upscale(ensemble, image, 4), expected) == 0
    pad = _pad(gen4) + 8
    assert _max_diff(upscale(ensemble, image, 4, tile=7, tile_pad=pad, blend=8), expected) <= 1
    # A symmetric input gives a symmetric output.
    symmetric = np.concatenate([image, image[:, ::-1]], axis=1)
    out = upscale(ensemble, symmetric, 4)
    assert _max_diff(out, np.ascontiguousarray(out[:, ::-1])) <= 1
