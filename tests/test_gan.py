import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import TINY_MODEL
from srgan.config import ModelConfig
from srgan.models.discriminator import build_discriminator
from srgan.models.generators import build_generator
from srgan.models.vgg import build_vgg16
from srgan.training import losses
from srgan.training.gan import GAN_METRICS, PRETRAIN_METRICS, SRGAN, batch_psnr


def _model():
    keras.utils.set_random_seed(0)
    cfg = ModelConfig(**TINY_MODEL)
    extractor = build_vgg16(["block1_conv1", "block1_conv2"], weights=None)  # random
    perceptual = losses.Perceptual(extractor, "test", ("block1_conv1", "block1_conv2"),
                                   (0.5, 1.0), 1.0)
    return SRGAN(build_generator(cfg), build_discriminator(cfg, 32), perceptual)


def _batches():
    rng = np.random.default_rng(0)
    hr = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    lr = tf.image.resize(hr, [8, 8], antialias=True).numpy()
    return tf.data.Dataset.from_tensors((lr, hr)).repeat()


def _snapshot(model):
    return [w.copy() for w in model.get_weights()]


def _changed(before, model):
    return any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_one_gan_step_updates_g_and_d_and_not_vgg():
    model = _model()
    model.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    g, d, vgg = (_snapshot(m) for m in (model.generator, model.discriminator, model.extractor))
    history = model.fit(_batches(), epochs=1, steps_per_epoch=1, verbose=0)
    assert _changed(g, model.generator) and _changed(d, model.discriminator)
    assert not _changed(vgg, model.extractor)
    assert set(history.history) == set(GAN_METRICS)
    logs = {k: v[0] for k, v in history.history.items()}
    assert logs["g_loss"] == pytest.approx(logs["content_loss"] + 1e-3 * logs["adv_loss"],
                                           rel=1e-4)
    # The step values TensorBoard reads: after one step, the epoch means are those values.
    assert {k: float(model.last[k].numpy()) for k in GAN_METRICS} == pytest.approx(logs)


def test_pretrain_step_updates_only_the_generator():
    model = _model()
    model.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), phase="pretrain")
    g, d = _snapshot(model.generator), _snapshot(model.discriminator)
    history = model.fit(_batches(), epochs=1, steps_per_epoch=2, verbose=0)
    assert _changed(g, model.generator) and not _changed(d, model.discriminator)
    assert set(history.history) == set(PRETRAIN_METRICS)


def test_batch_psnr_known_value():
    hr = np.zeros((2, 4, 4, 3), np.float32)
    sr = hr + np.array([0.02, 0.2], np.float32)[:, None, None, None]
    # peak-to-peak 2 on [-1, 1]: PSNR = 10 log10(4 / d^2)
    np.testing.assert_allclose(batch_psnr(sr, hr), 10 * np.log10(4 / np.array([0.02, 0.2]) ** 2),
                               rtol=1e-5)
