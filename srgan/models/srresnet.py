"""The SRResNet generator, after Ledig et al. 2017 (SRGAN), fig. 4 (top).

A plain functional Keras model on float images in [-1, 1], NHWC:
``(B, h, w, 3) -> (B, h*scale, w*scale, 3)``, fully convolutional, so any LR size works at
inference. The discriminator is in :mod:`srgan.models.discriminator`.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from srgan.config import ModelConfig
from srgan.models.layers import BilinearUpsample, BlockConv2D, PixelShuffle, conv_layer


def _prelu(name: str) -> layers.Layer:
    # One slope per channel, shared over space.
    return layers.PReLU(shared_axes=[1, 2], name=name)


def _maybe_bn(x, batch_norm: bool, name: str):
    return layers.BatchNormalization(name=name)(x) if batch_norm else x


def res_block(x, num_filters: int, name: str, batch_norm: bool = True, fast: bool = True):
    """conv3x3-[BN]-PReLU-conv3x3-[BN] plus identity skip; shape preserved ``(B, h, w, F)``."""
    conv = conv_layer(fast)
    y = conv(num_filters, 3, padding="same", name=f"{name}_conv1")(x)
    y = _maybe_bn(y, batch_norm, f"{name}_bn1")
    y = _prelu(f"{name}_prelu")(y)
    y = conv(num_filters, 3, padding="same", name=f"{name}_conv2")(y)
    y = _maybe_bn(y, batch_norm, f"{name}_bn2")
    return layers.Add(name=f"{name}_add")([x, y])


def upsample(x, mode: str, num_filters: int, name: str, fast: bool = True):
    """One x2 stage: ``(B, h, w, F) -> (B, 2h, 2w, F')``.

    ``subpixel``: conv3x3 to 4F, depth_to_space(2), PReLU; F' = F (the paper).
    ``nearest``: UpSampling2D(2), conv3x3 with 256 filters at the doubled size, ReLU;
    F' = 256 (the original Keras SRGAN code). Its conv runs on 4x the pixels, hence several times slower.
    """
    conv = conv_layer(fast)
    if mode == "subpixel":
        x = conv(num_filters * 4, 3, padding="same", name=f"{name}_conv")(x)
        x = PixelShuffle(2, name=f"{name}_shuffle")(x)
        return _prelu(f"{name}_prelu")(x)
    x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up")(x)
    x = conv(256, 3, padding="same", name=f"{name}_conv")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_srresnet(cfg: ModelConfig, fast: bool = True) -> keras.Model:
    """SRResNet generator.

    9x9 conv (F filters) + PReLU -> ``num_blocks`` residual blocks -> conv3x3 [+ BN] + long
    skip -> log2(scale) x2 upsampling stages -> 9x9 conv to 3 channels. Then either tanh
    (the paper) or, with ``global_residual``, plus a bilinear x``scale`` upsampling of the
    LR input (MSRResNet), no activation.

    Args:
        cfg: model config; uses ``scale``, ``num_filters``, ``num_blocks``, ``upsample``,
            ``batch_norm`` and ``global_residual``.
        fast: use :mod:`srgan.models.layers` (same weights and outputs, faster on
            CPU). ``False`` builds the plain Keras model that shipped weight files hold.

    Returns:
        Model ``lr (B, h, w, 3) in [-1, 1] -> sr (B, h*scale, w*scale, 3)``: in [-1, 1]
        with tanh; with ``global_residual`` it may overshoot slightly (clip for display).
    """
    f, conv = cfg.num_filters, conv_layer(fast)
    lr = keras.Input((None, None, 3), name="lr")
    x = conv(f, 9, padding="same", name="head_conv")(lr)
    x = skip = _prelu("head_prelu")(x)
    for i in range(cfg.num_blocks):
        x = res_block(x, f, name=f"res{i}", batch_norm=cfg.batch_norm, fast=fast)
    x = conv(f, 3, padding="same", name="body_conv")(x)
    x = _maybe_bn(x, cfg.batch_norm, "body_bn")
    x = layers.Add(name="long_skip")([skip, x])
    for i in range(int(math.log2(cfg.scale))):
        x = upsample(x, cfg.upsample, f, name=f"up{i}", fast=fast)
    # float32 output even under a mixed-precision policy, so losses stay in float32.
    # Computed on space-to-depth blocks (srgan.models.layers): same weights, several times faster.
    activation = None if cfg.global_residual else "tanh"
    tail = dict(activation=activation, dtype="float32", name="tail_conv")
    sr = (BlockConv2D(3, 9, block=min(cfg.scale, 4), **tail) if fast
          else layers.Conv2D(3, 9, padding="same", **tail))(x)
    if cfg.global_residual:
        base = BilinearUpsample(cfg.scale, dtype="float32", name="lr_upsampled")(lr)
        sr = layers.Add(dtype="float32", name="global_residual")([sr, base])
    return keras.Model(lr, sr, name="generator")
