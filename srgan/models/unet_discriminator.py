"""Real-ESRGAN's U-Net discriminator with spectral normalisation (Wang et al. 2021, sec. 4.2).

It judges every pixel: ``(B, H, W, 3) -> (B, H, W, 1)`` logits, trained with the same
per-example BCE as the strided discriminator (:func:`srgan.training.losses.discriminator_loss`
averages over the map). Layers, as ``UNetDiscriminatorSN`` (F = ``disc_filters``, 64 in the
paper), every conv but the first and the last spectrally normalised, LeakyReLU(0.2) after
each but the last:

* encoder: conv3x3 (F) -> conv4x4/2 (2F) -> conv4x4/2 (4F) -> conv4x4/2 (8F), no biases;
* decoder: three times [bilinear x2, conv3x3, LeakyReLU, + the encoder map of that size]
  (4F, 2F, F);
* head: two conv3x3 (F), conv3x3 to 1 logit.

Spectral normalisation is Keras's ``SpectralNormalization`` (one power iteration per
training call). Unlike PyTorch's ``spectral_norm`` it writes the normalised kernel back
into the wrapped layer's variable instead of differentiating through the norm; the
constraint (largest singular value 1) is the same.
"""

from __future__ import annotations

import keras
from keras import layers

from srgan.config import ModelConfig
from srgan.models.layers import FastConv2D


def _sn_conv(filters: int, kernel: int, stride: int, name: str) -> layers.Layer:
    conv = FastConv2D(filters, kernel, strides=stride, padding="same", use_bias=False,
                      name=f"{name}_conv")
    return layers.SpectralNormalization(conv, name=name)


def _lrelu(x, name: str):
    return layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)


def build_unet_discriminator(cfg: ModelConfig, hr_size: int) -> keras.Model:
    """U-Net discriminator (see the module docstring).

    Args:
        cfg: model config; uses ``disc_filters``.
        hr_size: side of the HR (or HR crop) images it judges; a multiple of 8.

    Returns:
        Model ``hr (B, hr_size, hr_size, 3) in [-1, 1] -> logits (B, hr_size, hr_size, 1)``.
    """
    f = cfg.disc_filters
    img = keras.Input((hr_size, hr_size, 3), name="hr")
    x0 = _lrelu(FastConv2D(f, 3, padding="same", name="d_in_conv")(img), "d_in")
    x1 = _lrelu(_sn_conv(2 * f, 4, 2, "d_down1")(x0), "d_down1")
    x2 = _lrelu(_sn_conv(4 * f, 4, 2, "d_down2")(x1), "d_down2")
    x3 = _lrelu(_sn_conv(8 * f, 4, 2, "d_down3")(x2), "d_down3")
    x = x3
    for i, (skip, filters) in enumerate([(x2, 4 * f), (x1, 2 * f), (x0, f)], start=1):
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"d_up{i}_resize")(x)
        x = _lrelu(_sn_conv(filters, 3, 1, f"d_up{i}")(x), f"d_up{i}")
        x = layers.Add(name=f"d_up{i}_skip")([x, skip])
    x = _lrelu(_sn_conv(f, 3, 1, "d_head1")(x), "d_head1")
    x = _lrelu(_sn_conv(f, 3, 1, "d_head2")(x), "d_head2")
    logits = layers.Conv2D(1, 3, padding="same", dtype="float32", name="logits")(x)
    return keras.Model(img, logits, name="discriminator")
