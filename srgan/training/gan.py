"""The SRGAN training model: a ``keras.Model`` whose ``train_step`` runs one GAN update.

``fit()`` drives it, so callbacks, the progress bar and TensorBoard logging work as for
any Keras model (the pattern of the Keras guide "Customizing what happens in fit()").

Two phases, picked at ``compile``:

* ``pretrain``: SRResNet, the generator alone on a pixel loss (L1, or the paper's MSE;
  the paper's initialisation).
* ``gan``: generator loss = content + adv_weight * BCE(D(SR) -> real)
  [+ pixel_weight * L1(SR, HR)]; discriminator loss =
  BCE(D(HR) -> real) + BCE(D(SR) -> fake). Both networks are updated from the same forward
  pass (simultaneous updates, as in TensorFlow's DCGAN tutorial).

Losses are per-example and reduced with ``tf.nn.compute_average_loss``, so gradients are
right under ``tf.distribute`` (summed over replicas, each divided by the global batch).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from srgan.training import keras_compat, losses

PHASES = ("pretrain", "gan")
GAN_METRICS = ("g_loss", "content_loss", "adv_loss", "d_loss", "d_real", "d_fake", "psnr")
PRETRAIN_METRICS = ("g_loss", "psnr")


def batch_psnr(sr, hr):
    """Per-image PSNR in dB of [-1, 1] images (peak-to-peak 2): ``(B, H, W, 3) x 2 -> (B,)``."""
    return tf.image.psnr(tf.cast(sr, tf.float32), tf.cast(hr, tf.float32), max_val=2.0)


class SRGAN(keras_compat.PrebuiltModel):
    """Generator, discriminator and a frozen perceptual extractor, trained together.

    Args:
        generator: ``lr (B, h, w, 3) -> sr (B, h*s, w*s, 3)``, both in [-1, 1].
        discriminator: ``hr (B, H, W, 3) -> logits`` (``(B, 1)`` or ``(B, H/16, W/16, 1)``).
        perceptual: the frozen extractor and its feature scale (:class:`losses.Perceptual`).
        adv_weight: weight of the generator's adversarial term (1e-3 in the paper).
        pixel_loss: ``l1`` or ``mse``, the pre-training loss (:func:`losses.pixel_loss`).
        pixel_weight: weight of an L1 pixel term in the GAN phase's generator loss.
        average: the moving average of ``generator`` (:mod:`srgan.training.ema`), or None.
            It is updated by a callback; :attr:`inference_generator` is the network that
            is validated, sampled and exported.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model,
                 perceptual: losses.Perceptual, adv_weight: float = 1e-3,
                 pixel_loss: str = "mse", average: keras.Model | None = None,
                 pixel_weight: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.pixel_loss, self.pixel_weight = pixel_loss, pixel_weight
        if average is not None:
            average.trainable = False
        self.inference_generator = average if average is not None else generator
        self.discriminator = discriminator
        self.extractor = perceptual.extractor
        self.extractor.trainable = False
        self.perceptual = perceptual
        self.adv_weight = adv_weight
        self.phase = "gan"
        self.trackers = {name: keras.metrics.Mean(name=name) for name in GAN_METRICS}
        # This step's values (the trackers hold running epoch means), for TensorBoard
        # (srgan.training.callbacks.TensorBoardLogger reads them every --log-every steps).
        # Under tf.distribute each replica assigns its mean; "mean" averages them (equal
        # per-replica batches), which is the global-batch mean.
        self.last = {name: keras.Variable(0.0, trainable=False, name=f"last_{name}",
                                          aggregation="mean")
                     for name in GAN_METRICS}

    def compile(self, g_optimizer: keras.optimizers.Optimizer,
                d_optimizer: keras.optimizers.Optimizer, phase: str = "gan", **kwargs):
        """Set both optimizers and the phase (``pretrain`` or ``gan``).

        ``g_optimizer`` doubles as ``self.optimizer``, so Keras builds no unused optimizer.
        """
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
        super().compile(optimizer=g_optimizer, **kwargs)
        self.g_optimizer, self.d_optimizer, self.phase = g_optimizer, d_optimizer, phase

    @property
    def metrics(self):
        names = PRETRAIN_METRICS if self.phase == "pretrain" else GAN_METRICS
        return [self.trackers[n] for n in names]

    def ready_to_train(self) -> bool:
        """Both networks are built functional models, so once both optimizers are built
        (by :class:`srgan.training.checkpoint.TrainingState`) nothing is left to build
        (:mod:`srgan.training.keras_compat`)."""
        return self.g_optimizer.built and self.d_optimizer.built

    def call(self, lr, training=False):
        return self.generator(lr, training=training)

    def _record(self, **values):
        for name, value in values.items():
            self.trackers[name].update_state(value)
            self.last[name].assign(tf.reduce_mean(value))
        return keras_compat.stackable_step_outputs({m.name: m.result() for m in self.metrics})

    def train_step(self, data):
        lr, hr = data
        if self.phase == "pretrain":
            return self._pretrain_step(lr, hr)
        return self._gan_step(lr, hr)

    def _pretrain_step(self, lr, hr):
        with tf.GradientTape() as tape:
            sr = self.generator(lr, training=True)
            per_example = losses.pixel_loss(sr, hr, self.pixel_loss)
            # scale_loss: loss scaling under mixed_float16, identity otherwise.
            loss = self.g_optimizer.scale_loss(tf.nn.compute_average_loss(per_example))
        g_vars = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(loss, g_vars), g_vars))
        return self._record(g_loss=tf.reduce_mean(per_example), psnr=batch_psnr(sr, hr))

    def _gan_step(self, lr, hr):
        # HR features need no gradient: compute them outside the tapes.
        hr_features = self.extractor(hr, training=False)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            sr = self.generator(lr, training=True)
            real_logits = self.discriminator(hr, training=True)
            fake_logits = self.discriminator(sr, training=True)
            content = self.perceptual.loss(self.extractor(sr, training=False), hr_features)
            adv = losses.generator_adv_loss(fake_logits)
            g_per_example = content + self.adv_weight * adv
            if self.pixel_weight:
                g_per_example += self.pixel_weight * losses.pixel_loss(sr, hr, "l1")
            d_per_example = losses.discriminator_loss(real_logits, fake_logits)
            g_loss = self.g_optimizer.scale_loss(tf.nn.compute_average_loss(g_per_example))
            d_loss = self.d_optimizer.scale_loss(tf.nn.compute_average_loss(d_per_example))
        g_vars = self.generator.trainable_variables
        d_vars = self.discriminator.trainable_variables
        g_grads = g_tape.gradient(g_loss, g_vars)
        d_grads = d_tape.gradient(d_loss, d_vars)
        self.g_optimizer.apply_gradients(zip(g_grads, g_vars))
        self.d_optimizer.apply_gradients(zip(d_grads, d_vars))
        return self._record(
            g_loss=tf.reduce_mean(g_per_example), content_loss=tf.reduce_mean(content),
            adv_loss=tf.reduce_mean(adv), d_loss=tf.reduce_mean(d_per_example),
            d_real=tf.reduce_mean(tf.sigmoid(tf.cast(real_logits, tf.float32))),
            d_fake=tf.reduce_mean(tf.sigmoid(tf.cast(fake_logits, tf.float32))),
            psnr=batch_psnr(sr, hr))
