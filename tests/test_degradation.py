"""srgan.data.kernels and srgan.data.degradation: Real-ESRGAN's degradation model."""

import math

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from conftest import smooth_face
from srgan.cli import degradation_grid_main
from srgan.data import degradation, kernels, pipeline, transforms


def _hr(size=32, seed=0):
    face = smooth_face(np.random.default_rng(seed), size, size)
    return tf.constant(np.asarray(face, np.float32))


def _seed(a, b=0):
    return tf.constant([a, b], tf.int64)


@pytest.mark.parametrize("i", range(6))
def test_random_kernels_are_normalised_and_zero_outside_their_side(i):
    k = kernels.random_kernel(_seed(i), kernels.BlurRanges()).numpy()
    assert k.shape == (21, 21)
    assert abs(k.sum() - 1) < 1e-5
    nonzero = np.argwhere(np.abs(k) > 0)
    half = np.abs(nonzero - 10).max()
    assert 2 * half + 1 in kernels.SIZES


def test_kernel_sides_cover_7_to_21_and_family_probabilities_sum_to_1():
    sizes = {int(kernels.random_size(_seed(i))) for i in range(200)}
    assert sizes == set(kernels.SIZES) == set(range(7, 22, 2))
    assert sum(kernels.FAMILY_PROBS) == pytest.approx(1.0)


def test_isotropic_gaussian_is_symmetric_and_sinc_has_negative_lobes():
    iso = kernels._family_kernels(_seed(3), kernels.BlurRanges()).numpy()[0]
    np.testing.assert_allclose(iso, iso.T, atol=1e-6)
    np.testing.assert_allclose(iso, iso[::-1], atol=1e-6)
    sinc = kernels.sinc_kernel(tf.constant(math.pi / 4)).numpy()
    assert sinc.min() < 0 < sinc[10, 10] == sinc.max()


def test_final_sinc_is_sometimes_the_identity():
    pulses = [np.count_nonzero(kernels.final_sinc_kernel(_seed(i), 0.8).numpy()) == 1
              for i in range(40)]
    assert 0 < sum(pulses) < 40
    assert not any(np.count_nonzero(kernels.final_sinc_kernel(_seed(i), 1.0).numpy()) == 1
                   for i in range(10))


def test_filter2d_keeps_shape_and_flat_images_even_when_the_kernel_is_wider():
    flat = tf.fill([5, 7, 3], 0.25)
    k = kernels.random_kernel(_seed(1), kernels.BlurRanges())
    out = kernels.filter2d(flat, k).numpy()
    assert out.shape == (5, 7, 3)
    np.testing.assert_allclose(out, 0.25, atol=1e-6)


def test_symmetric_pad_mirrors_the_edge():
    x = tf.reshape(tf.range(3.0), [1, 3, 1])
    padded = kernels.symmetric_pad(x, 0, 4).numpy()[0, :, 0]
    np.testing.assert_array_equal(padded, [2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 0])


def test_realesrgan_is_a_function_of_the_seed():
    hr = _hr()
    a = degradation.realesrgan(hr, 4, _seed(5, 1)).numpy()
    b = degradation.realesrgan(hr, 4, _seed(5, 1)).numpy()
    assert a.shape == (8, 8, 3) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert np.all((a >= 0) & (a <= 255)) and np.array_equal(a, np.round(a))
    others = [degradation.realesrgan(hr, 4, _seed(5, i)).numpy() for i in range(2, 6)]
    assert all(not np.array_equal(a, o) for o in others)


def test_realesrgan_degrades_more_than_bicubic():
    hr = _hr(64)
    bicubic = transforms.degrade(hr, 4).numpy()
    errors = [np.abs(degradation.realesrgan(hr, 4, _seed(0, i)).numpy() - bicubic).mean()
              for i in range(8)]
    assert np.mean(errors) > 2  # levels: blur, noise and JPEG move pixels


def test_noise_gray_is_equal_across_channels():
    stage = degradation.Stage(kernels.BlurRanges(), 1.0, (0, 0, 1), (1, 1), 1.0, (20, 20),
                              (1, 1), 1.0, (95, 95))
    image = tf.fill([6, 6, 3], 0.5)
    noisy = degradation.add_noise(image, stage, _seed(0)).numpy()
    assert noisy.std() > 0.02
    np.testing.assert_array_equal(noisy[..., 0], noisy[..., 2])
    poisson = degradation.Stage(*[getattr(stage, f) for f in ("blur", "blur_prob",
                                  "resize_probs", "resize_range")], 0.0, (1, 1), (3, 3), 0.0,
                                (95, 95))
    noisy = degradation.add_noise(image, poisson, _seed(0)).numpy()
    assert noisy.std() > 0 and not np.array_equal(noisy[..., 0], noisy[..., 2])


def test_unsharp_mask_keeps_flat_areas_and_steepens_edges():
    flat = tf.fill([40, 40, 3], 100.0)
    np.testing.assert_array_equal(degradation.unsharp_mask(flat).numpy(), 100.0)
    edge = np.full((40, 40, 3), 60.0, np.float32)
    edge[:, 20:] = 180.0
    out = degradation.unsharp_mask(edge).numpy()
    assert out[:, 19].mean() < 60 and out[:, 20].mean() > 180  # overshoot at the edge
    assert out.min() >= 0 and out.max() <= 255


@pytest.mark.slow  # the degradation's graph in tf.data
def test_pipeline_pairs_with_realesrgan_and_sharpened_targets(face_dir):
    from srgan import files
    from srgan.config import DataConfig

    paths = files.list_images(face_dir)
    cfg = DataConfig(hr_size=32, batch_size=2, degradation="realesrgan", sharpen_hr=True)
    ds = pipeline.make_dataset(paths, cfg, 4, 0, pipeline.DecodeGuard(len(paths), 10**6))
    for lr, hr in ds.take(2):
        assert lr.shape == (2, 8, 8, 3) and hr.shape == (2, 32, 32, 3)
        assert -1 <= lr.numpy().min() and lr.numpy().max() <= 1
    with pytest.raises(ValueError, match="needs a seed"):
        transforms.degrade(_hr(), 4, "realesrgan")


@pytest.mark.slow  # 16 degradations and a figure
def test_grid_command_writes_16_samples(tmp_path, capsys):
    face = tmp_path / "face.png"
    smooth_face(np.random.default_rng(1), 50, 40).save(face)
    out = tmp_path / "grid.png"
    assert degradation_grid_main([str(face), "-o", str(out), "--hr-size", "32"]) == 0
    grid = np.asarray(Image.open(out))
    assert grid.shape == (4 * 34 - 2, 4 * 34 - 2, 3)
    tiles = {grid[r * 34:r * 34 + 32, c * 34:c * 34 + 32].tobytes()
             for r in range(4) for c in range(4)}
    assert len(tiles) == 16


def test_grid_command_names_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    assert degradation_grid_main([str(bad), "-o", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {bad}") and "\n" not in err
    assert not (tmp_path / "g.png").exists()
