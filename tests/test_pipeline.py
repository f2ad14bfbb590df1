import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from srgan import files
from srgan.config import DataConfig
from srgan.data import pipeline, transforms


def _take(ds, n):
    return [(lr.numpy(), hr.numpy()) for lr, hr in ds.take(n)]


def _keys(x):
    """Keys' cubic, a = -0.5 (MATLAB ``imresize``'s kernel)."""
    x = np.abs(x)
    return np.where(x <= 1, 1.5 * x**3 - 2.5 * x**2 + 1,
                    np.where(x < 2, -0.5 * x**3 + 2.5 * x**2 - 4 * x + 2, 0.0))


def _imresize_down(image, scale):
    """A numpy reference of MATLAB's antialiased bicubic downscale by an integer ``scale``
    (the kernel widened by ``scale``), written from its definition: ``(H, W, C)`` ->
    ``(H/scale, W/scale, C)``, float. Taps past the border are dropped and the rest
    renormalised, which differs from MATLAB's mirroring in the outermost 2 output pixels."""
    def along(a, axis):
        n = a.shape[axis]
        centres = (np.arange(n // scale) + 0.5) * scale - 0.5
        weights = _keys((centres[:, None] - np.arange(n)[None]) / scale)
        weights /= weights.sum(1, keepdims=True)
        return np.moveaxis(np.tensordot(weights, np.moveaxis(a, axis, 0), 1), 0, axis)
    return along(along(image.astype(np.float64), 0), 1)


def _levels(x):
    """[-1, 1] -> [0, 255] levels."""
    return (x + 1) * 127.5


def _assert_lr_is_bicubic_of(lr, hr, scale):
    """The interior of ``lr`` is the antialiased bicubic of ``hr``, rounded to 8 bits;
    both ``(..., h, w, C)`` in [0, 255]."""
    lr, hr = np.reshape(lr, (-1,) + lr.shape[-3:]), np.reshape(hr, (-1,) + hr.shape[-3:])
    for low, high in zip(lr, hr):
        expected = np.round(_imresize_down(high, scale))
        assert np.abs(low - expected)[2:-2, 2:-2].max() <= 1


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
        # LR is the antialiased bicubic of its own HR (flip commutes with the resize).
        _assert_lr_is_bicubic_of(_levels(lr), _levels(hr), 4)
    assert not guard.bad


def _find_patch(patch, image):
    """``(y, x, flipped)`` where ``patch`` lies in ``image``, or None."""
    side = patch.shape[0]
    for y in range(image.shape[0] - side + 1):
        for x in range(image.shape[1] - side + 1):
            window = image[y:y + side, x:x + side]
            for flipped in (False, True):
                if np.array_equal(window[:, ::-1] if flipped else window, patch):
                    return y, x, flipped
    return None


def test_random_crop_gives_patches_from_random_places(tmp_path):
    """A 64 px noise image, so each 32 px patch can be found; not all at the centre."""
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)
    Image.fromarray(image).save(tmp_path / "noise.png")
    paths = files.list_images(tmp_path)
    ds = pipeline.make_dataset(paths, DataConfig(hr_size=64, crop=32, batch_size=4), 4, 0,
                               pipeline.DecodeGuard(len(paths), 10**6))
    places = []
    for lr, hr in _take(ds, 2):
        assert lr.shape == (4, 8, 8, 3) and hr.shape == (4, 32, 32, 3)
        _assert_lr_is_bicubic_of(_levels(lr), _levels(hr), 4)
        for patch in np.round(_levels(hr)).astype(np.uint8):
            places.append(_find_patch(patch, image))
    assert None not in places  # every HR is a patch of the image, at native resolution
    assert len({(y, x) for y, x, _ in places}) > 4 and {f for _, _, f in places} == {False, True}


def test_prepare_hr_centre_crops_then_resizes():
    img = np.zeros((30, 10, 3), np.uint8)
    img[10:20] = 200  # the centre square is uniformly 200
    hr = transforms.prepare_hr(img, 16).numpy()
    assert hr.shape == (16, 16, 3) and np.all(hr == 200)


@pytest.mark.parametrize("scale", [2, 4])
def test_degrade_is_antialiased_bicubic(scale):
    """On noise, where kernels differ most: bilinear, or bicubic not widened by the scale
    (no antialiasing), is many levels off the reference."""
    hr = np.random.default_rng(scale).integers(0, 256, (48, 40, 3)).astype(np.float32)
    lr = transforms.degrade(hr, scale).numpy()
    assert lr.shape == (48 // scale, 40 // scale, 3) and np.array_equal(lr, np.round(lr))
    _assert_lr_is_bicubic_of(lr, hr, scale)


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
