"""srgan.data.face_degradation_numpy: the numpy twin of GFPGAN's degradation, step by step
against the TensorFlow version, and the two LR distributions against each other."""

import numpy as np
import pytest
import tensorflow as tf

from srgan.data import face_degradation, face_degradation_numpy as fdn, kernels


def _face(side=64, seed=0):
    """A smooth colour image with edges: (side, side, 3) float32 in [0, 255]."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side] / side
    image = np.stack([128 + 100 * np.sin(6 * x + c) * np.cos(4 * y - c) for c in range(3)], -1)
    image[side // 4:side // 2, side // 4:3 * side // 4] += 60
    return np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.float32)


def test_kernel_matches_tensorflow_and_rotates():
    # A sigma range of one value pins TensorFlow's draw: the isotropic kernel is fixed.
    theirs = kernels.gaussian_kernel(tf.constant([1, 2], tf.int64), (1.7, 1.7)).numpy()
    np.testing.assert_allclose(fdn.gaussian_kernel(1.7, 1.7, 0.0), theirs, atol=1e-7)
    # Separable when unrotated; a quarter turn swaps the axes.
    g = np.exp(-0.5 * (np.arange(21) - 10.0) ** 2 / np.array([[2.0], [0.7]]) ** 2)
    g /= g.sum(axis=1, keepdims=True)
    along_x = fdn.gaussian_kernel(2.0, 0.7, 0.0)
    np.testing.assert_allclose(along_x, np.outer(g[1], g[0]), atol=1e-7)
    np.testing.assert_allclose(fdn.gaussian_kernel(2.0, 0.7, np.pi / 2), along_x.T, atol=1e-7)
    assert abs(fdn.gaussian_kernel(3.0, 0.5, 1.0).sum() - 1) < 1e-5


def test_filter2d_matches_tensorflow():
    image = _face(40) / 255.0
    kernel = fdn.gaussian_kernel(3.0, 1.0, 1.1)
    ours = fdn.filter2d(image, kernel)
    theirs = kernels.filter2d(tf.constant(image), tf.constant(kernel)).numpy()
    np.testing.assert_allclose(ours, theirs, atol=2e-5)


@pytest.mark.parametrize("size", [(13, 29), (64, 64), (100, 37)])
def test_resize_bilinear_matches_tensorflow(size):
    image = _face(64)
    ours = fdn.resize_bilinear(image, *size)
    theirs = tf.image.resize(image, size, method="bilinear").numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-3)


def test_jpeg_matches_tensorflow():
    image = _face(48) / 255.0
    for quality in (40, 75, 100):
        ours = fdn.jpeg(image, quality)
        # The same bytes as TensorFlow's encoder, decoded with libjpeg's accurate IDCT.
        levels = np.floor(image * 255.5).astype(np.uint8)
        accurate = tf.io.decode_jpeg(tf.io.encode_jpeg(levels, quality=quality),
                                     dct_method="INTEGER_ACCURATE").numpy()
        np.testing.assert_array_equal(np.round(ours * 255), accurate)
        # tf.image.adjust_jpeg_quality decodes with the fast IDCT: about a level apart.
        fast = tf.image.adjust_jpeg_quality(tf.constant(image, tf.float32), quality).numpy()
        assert np.abs(ours - fast).mean() * 255 < 2.5, quality


def test_gfpgan_is_seeded_and_shaped():
    hr = _face(64)
    a = fdn.gfpgan(hr, 4, np.random.default_rng(5))
    np.testing.assert_array_equal(a, fdn.gfpgan(hr, 4, np.random.default_rng(5)))
    assert a.shape == (16, 16, 3) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 255 and np.array_equal(a, np.round(a))
    assert not np.array_equal(a, fdn.gfpgan(hr, 4, np.random.default_rng(6)))


def test_gray_face_stays_gray():
    gray = fdn.to_gray(_face(64))
    for i in range(8):
        lr = fdn.gfpgan(gray, 4, np.random.default_rng(i))
        assert np.array_equal(lr[..., 0], lr[..., 1]) and np.array_equal(lr[..., 1], lr[..., 2])


def test_make_pair_ranges_and_flip():
    hr = _face(64).astype(np.uint8)
    flipped = 0
    for i in range(16):
        lr, out = fdn.make_pair(hr, 4, np.random.default_rng(i))
        assert lr.shape == (16, 16, 3) and out.shape == (64, 64, 3)
        assert -1 <= lr.min() and lr.max() <= 1 and -1 <= out.min() and out.max() <= 1
        flipped += np.allclose(out, hr[:, ::-1] / 127.5 - 1, atol=1e-5) and not np.allclose(
            out, hr / 127.5 - 1, atol=1e-5)
    assert 3 <= flipped <= 13


def test_same_distribution_as_tensorflow():
    # 48 draws each on one face: the mean and spread of the LR's error against the plain
    # bicubic LR agree, so both versions damage faces alike.
    hr = _face(64)
    bicubic = tf.image.resize(hr, (16, 16), "bicubic", antialias=True).numpy()

    def errors(make):
        return np.array([np.abs(make(i) - bicubic).mean() for i in range(48)])

    ours = errors(lambda i: fdn.gfpgan(hr, 4, np.random.default_rng(i)))
    theirs = errors(lambda i: face_degradation.gfpgan(
        hr, 4, tf.constant([11, i], tf.int64)).numpy())
    assert abs(ours.mean() - theirs.mean()) < 0.25 * theirs.mean(), (ours.mean(), theirs.mean())
    assert abs(ours.std() - theirs.std()) < 0.5 * theirs.std(), (ours.std(), theirs.std())
