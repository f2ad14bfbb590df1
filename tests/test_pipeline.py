import numpy as np
import pytest
import tensorflow as tf

from srgan import files
from srgan.config import DataConfig
from srgan.data import pipeline, transforms


def _take(ds, n):
    return [(lr.numpy(), hr.numpy()) for lr, hr in ds.take(n)]


def test_pipeline_on_odd_sizes_and_modes(face_dir):
    paths = files.list_images(face_dir)
    assert len(paths) == 5
    guard = pipeline.DecodeGuard(len(paths), max_pixels=10**6)
    ds = pipeline.make_dataset(paths, DataConfig(hr_size=32, batch_size=3), scale=4, seed=0,
                               guard=guard)
    for lr, hr in _take(ds, 4):
        assert lr.shape == (3, 8, 8, 3) and hr.shape == (3, 32, 32, 3)
        assert lr.dtype == hr.dtype == np.float32
        # HR and LR are 8-bit levels mapped to [-1, 1], as a saved image would be.
        for x in (hr, lr):
            np.testing.assert_allclose((x + 1) * 127.5, np.round((x + 1) * 127.5), atol=1e-3)
        # LR is the fixed degradation of HR (flip commutes with the separable resize).
        expected = transforms.degrade((hr + 1) * 127.5, 4).numpy() / 127.5 - 1
        np.testing.assert_allclose(lr, expected, atol=1e-5)
    assert not guard.bad


def test_random_crop_gives_patches(face_dir):
    paths = files.list_images(face_dir)
    ds = pipeline.make_dataset(paths, DataConfig(hr_size=64, crop=32, batch_size=2), 4, 0,
                               pipeline.DecodeGuard(len(paths), 10**6))
    lr, hr = _take(ds, 1)[0]
    assert lr.shape == (2, 8, 8, 3) and hr.shape == (2, 32, 32, 3)


def test_prepare_hr_centre_crops_then_resizes():
    img = np.zeros((30, 10, 3), np.uint8)
    img[10:20] = 200  # the centre square is uniformly 200
    hr = transforms.prepare_hr(img, 16).numpy()
    assert hr.shape == (16, 16, 3) and np.all(hr == 200)


def test_degrade_is_antialiased_bicubic():
    stripes = np.zeros((16, 16, 1), np.float32)
    stripes[:, ::2] = 255.0  # a pattern at the Nyquist limit
    lr = transforms.degrade(stripes, 4).numpy()
    # Antialiasing averages the stripes to grey; plain point sampling would keep 0 or 255.
    # Interior columns are within 2 levels of grey; border taps see the edge padding.
    assert lr.shape == (4, 4, 1)
    assert np.all(np.abs(lr[:, 1:3] - 127.5) < 2)
    assert np.all(np.abs(lr - 127.5) < 12)


def test_bad_file_skipped_with_named_warning(face_dir, caplog):
    bad = face_dir / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    paths = files.list_images(face_dir)
    guard = pipeline.DecodeGuard(len(paths), 10**6)
    _take(pipeline.make_dataset(paths, DataConfig(hr_size=32, batch_size=2), 4, 0, guard), 6)
    assert list(guard.bad) == [str(bad)]
    assert any(r.levelname == "WARNING" and r.getMessage().startswith(f"skipping {bad}")
               for r in caplog.records), caplog.records


def test_no_usable_image_is_a_clear_error(tmp_path):
    for name in ("a.jpg", "b.png"):
        (tmp_path / name).write_bytes(b"junk")
    paths = files.list_images(tmp_path)
    guard = pipeline.DecodeGuard(len(paths), 10**6)
    with pytest.raises(tf.errors.OpError):
        _take(pipeline.make_dataset(paths, DataConfig(hr_size=32, batch_size=1), 4, 0, guard), 1)
    assert "no usable images" in str(guard.error)


def test_find_images_uses_samples_only_for_default_folder(tmp_path):
    assert [p.name for p in pipeline.find_images(tmp_path / "data", log=lambda m: None)] == [
        "grace_hopper.jpg", "astronaut.png"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no images"):
        pipeline.find_images(tmp_path / "empty", allow_samples=False)


def test_samples_are_the_first_decodable_files_in_order(face_dir):
    (face_dir / "0_broken.png").write_bytes(b"not a png")
    paths = files.list_images(face_dir)
    assert paths[0].name == "0_broken.png"
    lr, hr, used = pipeline.load_samples(paths, 3, 32, 4, 10**6)
    assert used == paths[1:4]
    assert lr.shape == (3, 8, 8, 3) and hr.shape == (3, 32, 32, 3)
    expected = transforms.make_pair(files.read_image(paths[1]), 32, 4)[1]
    np.testing.assert_array_equal(hr[0], expected)
    with pytest.raises(files.ImageError, match="no decodable sample image"):
        pipeline.load_samples(paths[:1], 1, 32, 4, 10**6)
