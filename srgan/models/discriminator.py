"""Discriminators: the SRGAN paper's strided net (Ledig et al. 2017, fig. 4, bottom), and
by ``disc_arch`` Real-ESRGAN's U-Net (:mod:`srgan.models.unet_discriminator`).

Plain functional Keras models on float images in [-1, 1], NHWC. The strided net gives
``(B, H, H, 3) -> (B, H/16, H/16, 1)`` logits with the ``patch`` head, ``(B, 1)`` with the
paper's ``global`` head; the U-Net gives ``(B, H, H, 1)``.
"""

from __future__ import annotations

import keras
from keras import layers

from srgan.config import ModelConfig
from srgan.models.layers import FastConv2D
from srgan.models.unet_discriminator import build_unet_discriminator


def build_discriminator(cfg: ModelConfig, hr_size: int) -> keras.Model:
    """The discriminator ``cfg.disc_arch`` names: :func:`build_strided_discriminator` or
    :func:`build_unet_discriminator`, judging ``(B, hr_size, hr_size, 3)`` images."""
    if cfg.disc_arch == "unet":
        return build_unet_discriminator(cfg, hr_size)
    return build_strided_discriminator(cfg, hr_size)


def build_strided_discriminator(cfg: ModelConfig, hr_size: int) -> keras.Model:
    """SRGAN discriminator: eight 3x3 conv blocks, strides 1,2,1,2,1,2,1,2.

    Filters F, F, 2F, 2F, 4F, 4F, 8F, 8F; LeakyReLU(0.2); BatchNorm in every block but the
    first. Then Dense(``disc_dense``) + LeakyReLU + Dense(1) giving logits:

    * ``patch`` head: the dense layers act per location on the ``(hr/16, hr/16, 8F)`` map,
      so the output is ``(B, hr/16, hr/16, 1)``, one real/fake logit per receptive field;
      labels are sized to match in :mod:`srgan.training.losses`.
    * ``global`` head: flatten first (the paper), output ``(B, 1)``.

    Args:
        cfg: model config; uses ``disc_filters``, ``disc_dense``, ``disc_head``.
        hr_size: side of the HR (or HR crop) images it judges; a multiple of 16.

    Returns:
        Model ``hr (B, hr_size, hr_size, 3) in [-1, 1] -> logits``.
    """
    f = cfg.disc_filters
    img = keras.Input((hr_size, hr_size, 3), name="hr")
    x = img
    for i, (mult, stride) in enumerate([(1, 1), (1, 2), (2, 1), (2, 2),
                                        (4, 1), (4, 2), (8, 1), (8, 2)]):
        x = FastConv2D(f * mult, 3, strides=stride, padding="same", name=f"d{i}_conv")(x)
        if i > 0:
            x = layers.BatchNormalization(name=f"d{i}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"d{i}_lrelu")(x)
    if cfg.disc_head == "global":
        x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(cfg.disc_dense, name="dense")(x)
    x = layers.LeakyReLU(0.2, name="dense_lrelu")(x)
    logits = layers.Dense(1, dtype="float32", name="logits")(x)
    return keras.Model(img, logits, name="discriminator")
