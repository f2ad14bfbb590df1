"""srgan.data.face_degradation: GFPGAN's degradations for the aligned face model."""

import numpy as np
import pytest
import tensorflow as tf

from conftest import smooth_face
from srgan.data import face_degradation, kernels, pipeline, transforms


def _hr(size=32, seed=0):
    return tf.constant(np.asarray(smooth_face(np.random.default_rng(seed), size, size),
                                  np.float32))


def _seed(a, b=0):
    return tf.constant([a, b], tf.int64)


def test_gfpgan_is_a_function_of_the_seed_and_stays_in_range():
    hr = _hr()
    a = face_degradation.gfpgan(hr, 4, _seed(3, 1)).numpy()
    np.testing.assert_array_equal(a, face_degradation.gfpgan(hr, 4, _seed(3, 1)).numpy())
    assert a.shape == (8, 8, 3) and np.array_equal(a, np.round(a))
    assert 0 <= a.min() and a.max() <= 255
    assert all(not np.array_equal(a, face_degradation.gfpgan(hr, 4, _seed(3, i)).numpy())
               for i in range(2, 6))


def test_gfpgan_degrades_more_than_bicubic_and_draws_faces_smaller_than_the_crop():
    hr = _hr(64, seed=1)
    bicubic = transforms.degrade(hr, 4).numpy()
    errors = [np.abs(face_degradation.gfpgan(hr, 4, _seed(0, i)).numpy() - bicubic).mean()
              for i in range(8)]
    assert np.mean(errors) > 2


def test_gaussian_kernels_are_normalised_and_sometimes_anisotropic():
    ks = [kernels.gaussian_kernel(_seed(i), (0.5, 4.0)).numpy() for i in range(20)]
    assert all(abs(k.sum() - 1) < 1e-5 for k in ks)
    asymmetric = [not np.allclose(k, k.T, atol=1e-6) for k in ks]
    assert 0 < sum(asymmetric) < 20


def test_a_gray_face_stays_gray_through_the_degradation():
    gray = tf.tile(tf.image.rgb_to_grayscale(_hr(32, seed=2)), [1, 1, 3])
    for i in range(12):  # some of these draw the colour jitter, which must not apply
        lr = face_degradation.gfpgan(gray, 4, _seed(7, i)).numpy()
        np.testing.assert_array_equal(lr[..., 0], lr[..., 1])
        np.testing.assert_array_equal(lr[..., 1], lr[..., 2])


def test_gray_pairs_come_at_the_documented_rate():
    hr = _hr(8)
    grays = sum(bool(np.all(face_degradation.gray(hr, _seed(1, i)).numpy()[..., 0] ==
                            face_degradation.gray(hr, _seed(1, i)).numpy()[..., 2]))
                for i in range(400))
    assert 0.02 * 400 < grays < 0.09 * 400  # GRAY_PROB 0.05


def test_validation_samples_are_degraded_with_fixed_seeds(face_dir):
    from srgan import files

    paths = files.list_images(face_dir)[:3]
    lr_a, hr_a, _ = pipeline.load_samples(paths, 3, 32, 4, 10**6, "gfpgan")
    lr_b, _, _ = pipeline.load_samples(paths, 3, 32, 4, 10**6, "gfpgan")
    lr_bic, hr_bic, _ = pipeline.load_samples(paths, 3, 32, 4, 10**6)
    np.testing.assert_array_equal(lr_a, lr_b)
    np.testing.assert_array_equal(hr_a, hr_bic)
    assert not np.array_equal(lr_a, lr_bic)
    with pytest.raises(ValueError, match="needs a seed"):
        transforms.degrade(_hr(), 4, "gfpgan")
