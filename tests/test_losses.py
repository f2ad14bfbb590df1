import math

import numpy as np
import pytest
import tensorflow as tf

from srgan.config import Config, LossConfig
from srgan.models import vgg
from srgan.training import losses


def test_content_loss_known_value():
    a = np.zeros((2, 2, 2, 3), np.float32)
    b = np.full((2, 2, 2, 3), 12.75, np.float32)
    b[1] = 25.5
    # (12.75 / 12.75)^2 = 1 for the first example, (25.5 / 12.75)^2 = 4 for the second.
    np.testing.assert_allclose(losses.content_loss(a, b, 1 / 12.75), [1.0, 4.0], rtol=1e-6)


def test_content_loss_l1_known_value():
    a = np.zeros((2, 2, 2, 3), np.float32)
    b = np.full((2, 2, 2, 3), 3.0, np.float32)
    b[1] = -6.0
    np.testing.assert_allclose(losses.content_loss(a, b, 0.5, "l1"), [1.5, 3.0], rtol=1e-6)


def test_pixel_loss_known_value():
    np.testing.assert_allclose(losses.pixel_loss(np.zeros((1, 4, 4, 3)), np.full((1, 4, 4, 3), 0.5)),
                               [0.25])


def test_bce_values_for_both_heads():
    zero_patch = tf.zeros((2, 4, 4, 1))
    np.testing.assert_allclose(losses.generator_adv_loss(zero_patch), [math.log(2)] * 2,
                               rtol=1e-6)
    np.testing.assert_allclose(losses.discriminator_loss(tf.zeros((2, 1)), tf.zeros((2, 1))),
                               [2 * math.log(2)] * 2, rtol=1e-6)
    # A confident, correct discriminator: logit +20 on real, -20 on fake -> loss ~ 0,
    # while the generator's loss on that fake is ~ 20.
    real, fake = tf.fill((1, 2, 2, 1), 20.0), tf.fill((1, 2, 2, 1), -20.0)
    assert losses.discriminator_loss(real, fake).numpy()[0] < 1e-6
    np.testing.assert_allclose(losses.generator_adv_loss(fake), [20.0], rtol=1e-6)
    # Patch labels are per location: one wrong patch out of four costs a quarter.
    mixed = tf.constant([[[[20.0], [20.0]], [[20.0], [-20.0]]]])
    np.testing.assert_allclose(losses.generator_adv_loss(mixed), [20.0 / 4], rtol=1e-5)


def test_auto_falls_back_to_offline_vgg16(monkeypatch):
    monkeypatch.setattr(vgg, "vgg19_weights_available", lambda: False)
    assert losses.resolve_backbone(LossConfig()) == "vgg16-offline"
    monkeypatch.setattr(vgg, "vgg19_weights_available", lambda: True)
    assert losses.resolve_backbone(LossConfig()) == "vgg19"
    assert losses.resolve_backbone(LossConfig(perceptual="auto", vgg_weights="w.h5")) == "vgg19"


def test_offline_perceptual_is_frozen_imagenet_vgg16():
    p = losses.build_perceptual(LossConfig(perceptual="vgg16-offline",
                                           feature_layers=("block1_conv2",)))
    assert (p.backbone, p.layer) == ("vgg16-offline", "block1_conv2")
    assert p.feature_scale == pytest.approx(28.8 / 12.75)
    assert not p.extractor.trainable and not p.extractor.trainable_weights
    assert p.extractor(np.zeros((1, 16, 16, 3), np.float32)).shape == (1, 16, 16, 64)


def test_several_layers_add_their_weighted_losses():
    p = losses.build_perceptual(LossConfig(perceptual="vgg16-offline",
                                           feature_layers=("block1_conv2", "block2_conv1"),
                                           layer_weights=(0.25, 2.0), feature_scale=0.5))
    rng = np.random.default_rng(0)
    a, b = (rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32) for _ in range(2))
    fa, fb = p.extractor(a), p.extractor(b)
    assert [f.shape[1] for f in fa] == [16, 8]
    expected = (0.25 * losses.content_loss(fa[0], fb[0], 0.5)
                + 2.0 * losses.content_loss(fa[1], fb[1], 0.5))
    np.testing.assert_allclose(p.loss(fa, fb), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="layer_weights has 1 values for 2"):
        Config(loss=LossConfig(feature_layers=("block1_conv2", "block2_conv1"),
                               layer_weights=(1.0,)))


def test_vgg19_unavailable_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(vgg, "vgg19_weights_available", lambda: False)
    with pytest.raises(vgg.BackboneUnavailable) as err:
        losses.build_perceptual(LossConfig(perceptual="vgg19", vgg_weights=str(tmp_path / "no.h5")))
    msg = str(err.value)
    assert "\n" not in msg and "vgg16-offline" in msg and "--vgg-weights" in msg


def test_normalized_feature_loss_compares_directions_not_lengths():
    a = np.zeros((1, 2, 2, 3), np.float32)
    a[..., 0] = 5.0                            # every location points along channel 0
    same_direction = 0.1 * a                   # other length, same direction: distance 0
    orthogonal = np.zeros_like(a)
    orthogonal[..., 1] = 2.0                   # |e0 - e1|^2 = 2 at every location
    np.testing.assert_allclose(losses.normalized_feature_loss(a, same_direction), [0.0],
                               atol=1e-6)
    np.testing.assert_allclose(losses.normalized_feature_loss(a, orthogonal), [2.0], rtol=1e-6)


def test_realesrgan_perceptual_recipe_is_recorded_and_used():
    cfg = LossConfig(perceptual="vgg16-offline", feature_layers=("block1_conv2",),
                     features_before_relu=True, feature_criterion="l1", feature_scale=1.0)
    p = losses.build_perceptual(cfg)
    assert p.describe()["before_relu"] and p.describe()["criterion"] == "l1"
    rng = np.random.default_rng(3)
    sr, hr = (rng.uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32) for _ in range(2))
    fs, fh = p.extractor(sr), p.extractor(hr)
    assert np.min(fs) < 0  # features before the ReLU
    np.testing.assert_allclose(p.loss(fs, fh), np.mean(np.abs(fs - fh), axis=(1, 2, 3)),
                               rtol=1e-5)
