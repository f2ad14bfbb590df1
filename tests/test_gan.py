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


def _unchanged(before, model):
    return all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def _bce(logits, label: float):
    """Mean binary cross-entropy of ``logits`` against one ``label`` (1 real, 0 fake)."""
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.fill(tf.shape(logits), label), logits=logits))


def _assert_sgd_step(network, before, grads, rate):
    """``network``'s weights took one plain SGD step down ``grads``: w <- w - rate * g.
    A flipped label or a wrong sign or weight in the loss gives other gradients."""
    for var, old, grad in zip(network.trainable_variables, before, grads):
        expected = old - rate * (0 if grad is None else grad.numpy())
        np.testing.assert_allclose(var.numpy(), expected, rtol=1e-4, atol=1e-6,
                                   err_msg=var.path)
    assert any(np.abs(g.numpy()).max() > 1e-3 for g in grads if g is not None)


RATE = 0.1  # The steps run eagerly: training runs elsewhere trace them, in seconds each.


def test_one_gan_step_descends_the_papers_losses_for_g_and_d_and_leaves_vgg():
    """With plain SGD, one step moves G down content + 1e-3 BCE(D(SR) -> real) and D down
    BCE(D(HR) -> real) + BCE(D(SR) -> fake), both from the same forward pass."""
    model = _model()
    model.compile(keras.optimizers.SGD(RATE), keras.optimizers.SGD(RATE), run_eagerly=True)
    g, d = model.generator, model.discriminator
    g_before, d_before = ([v.numpy() for v in n.trainable_variables] for n in (g, d))
    vgg = _snapshot(model.extractor)
    lr, hr = next(iter(_batches()))
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        sr = g(lr, training=True)
        real, fake = d(hr, training=True), d(sr, training=True)
        content = tf.reduce_mean(model.perceptual.loss(model.extractor(sr), model.extractor(hr)))
        g_loss = content + 1e-3 * _bce(fake, 1.0)
        d_loss = _bce(real, 1.0) + _bce(fake, 0.0)
    g_grads = g_tape.gradient(g_loss, g.trainable_variables)
    d_grads = d_tape.gradient(d_loss, d.trainable_variables)

    history = model.fit(_batches(), epochs=1, steps_per_epoch=1, verbose=0)
    _assert_sgd_step(g, g_before, g_grads, RATE)
    _assert_sgd_step(d, d_before, d_grads, RATE)
    assert _unchanged(vgg, model.extractor)
    assert set(history.history) == set(GAN_METRICS)
    logs = {k: v[0] for k, v in history.history.items()}
    assert logs["g_loss"] == pytest.approx(float(g_loss), rel=1e-4)
    assert logs["d_loss"] == pytest.approx(float(d_loss), rel=1e-4)
    assert logs["g_loss"] == pytest.approx(logs["content_loss"] + 1e-3 * logs["adv_loss"],
                                           rel=1e-4)
    # The step values TensorBoard reads: after one step, the epoch means are those values.
    assert {k: float(model.last[k].numpy()) for k in GAN_METRICS} == pytest.approx(logs)


def test_pretrain_step_descends_the_pixel_loss_for_the_generator_only():
    model = _model()
    model.compile(keras.optimizers.SGD(RATE), keras.optimizers.SGD(RATE), phase="pretrain",
                  run_eagerly=True)
    g = model.generator
    g_before = [v.numpy() for v in g.trainable_variables]
    d = _snapshot(model.discriminator)
    lr, hr = next(iter(_batches()))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(g(lr, training=True) - hr))  # the model's MSE
    grads = tape.gradient(loss, g.trainable_variables)
    history = model.fit(_batches(), epochs=1, steps_per_epoch=1, verbose=0)
    _assert_sgd_step(g, g_before, grads, RATE)
    assert _unchanged(d, model.discriminator)
    assert set(history.history) == set(PRETRAIN_METRICS)
    assert history.history["g_loss"][0] == pytest.approx(float(loss), rel=1e-4)


def test_batch_psnr_known_value():
    hr = np.zeros((2, 4, 4, 3), np.float32)
    sr = hr + np.array([0.02, 0.2], np.float32)[:, None, None, None]
    # peak-to-peak 2 on [-1, 1]: PSNR = 10 log10(4 / d^2)
    np.testing.assert_allclose(batch_psnr(sr, hr), 10 * np.log10(4 / np.array([0.02, 0.2]) ** 2),
                               rtol=1e-5)
