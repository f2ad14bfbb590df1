"""The RRDB generator of ESRGAN (Wang et al. 2018), also Real-ESRGAN's (``RRDBNet``).

Residual-in-residual dense blocks, no BatchNorm, residual scaling 0.2:

* dense block (RDB): five 3x3 convs, each fed the concatenation of the block input and all
  earlier outputs; the first four grow by ``growth`` channels (32 in the paper) and end in
  LeakyReLU(0.2); the fifth maps back to F channels; output ``x + 0.2 * conv5``;
* RRDB: three dense blocks in sequence, output ``x + 0.2 * rdb3(rdb2(rdb1(x)))``;
* network: conv3x3 (F) -> ``num_blocks`` RRDBs -> conv3x3 + long skip -> log2(scale) x
  [nearest x2, conv3x3, LeakyReLU(0.2)] -> conv3x3 + LeakyReLU -> conv3x3 to 3, linear.

The paper's model has F = 64, 23 RRDBs and growth 32 (16.7 M parameters). Convs inside the
dense blocks start at a tenth of Kaiming-normal scale, as ESRGAN initialises them, so that
the deep residual stack starts near the identity. With ``global_residual`` a bilinear
x``scale`` upsampling of the input is added to the output (this project's default; ESRGAN
has none: ``--no-global-residual``). ``cfg.upsample`` and ``cfg.batch_norm`` do not apply.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from srgan.config import ModelConfig
from srgan.models.layers import BilinearUpsample, conv_layer

RESIDUAL_SCALE = 0.2
# Kaiming normal (variance 2 / fan_in) times 0.1, as ESRGAN initialises its dense blocks.
DENSE_INIT = keras.initializers.VarianceScaling(0.02, "fan_in", "untruncated_normal")


def _lrelu(name: str) -> layers.Layer:
    return layers.LeakyReLU(0.2, name=name)


def _scaled_sum(x, y, name: str):
    """``x + 0.2 * y``: ``(B, h, w, F)`` x 2 -> same."""
    scaled = layers.Rescaling(RESIDUAL_SCALE, name=f"{name}_scale")(y)
    return layers.Add(name=f"{name}_add")([x, scaled])


def dense_block(x, num_filters: int, growth: int, name: str, fast: bool = True):
    """Residual dense block: ``(B, h, w, F) -> (B, h, w, F)``."""
    conv = conv_layer(fast)
    features = [x]
    for i in range(1, 5):
        inputs = layers.Concatenate(name=f"{name}_cat{i}")(features) if i > 1 else x
        y = conv(growth, 3, padding="same", kernel_initializer=DENSE_INIT,
                 name=f"{name}_conv{i}")(inputs)
        features.append(_lrelu(f"{name}_lrelu{i}")(y))
    y = conv(num_filters, 3, padding="same", kernel_initializer=DENSE_INIT,
             name=f"{name}_conv5")(layers.Concatenate(name=f"{name}_cat5")(features))
    return _scaled_sum(x, y, name)


def rrdb(x, num_filters: int, growth: int, name: str, fast: bool = True):
    """Residual-in-residual dense block: ``(B, h, w, F) -> (B, h, w, F)``."""
    y = x
    for i in range(1, 4):
        y = dense_block(y, num_filters, growth, f"{name}_rdb{i}", fast)
    return _scaled_sum(x, y, name)


def build_rrdb(cfg: ModelConfig, fast: bool = True) -> keras.Model:
    """ESRGAN's RRDB generator.

    Args:
        cfg: model config; uses ``scale``, ``num_filters``, ``num_blocks`` (RRDBs),
            ``rrdb_growth`` and ``global_residual``.
        fast: use :class:`srgan.models.layers.FastConv2D` (same weights and outputs);
            ``False`` builds the plain Keras model that exported weight files hold.

    Returns:
        Model ``lr (B, h, w, 3) in [-1, 1] -> sr (B, h*scale, w*scale, 3)``, linear output
        (clip for display).
    """
    f, conv = cfg.num_filters, conv_layer(fast)
    lr = keras.Input((None, None, 3), name="lr")
    x = skip = conv(f, 3, padding="same", name="head_conv")(lr)
    for i in range(cfg.num_blocks):
        x = rrdb(x, f, cfg.rrdb_growth, f"rrdb{i}", fast)
    x = conv(f, 3, padding="same", name="body_conv")(x)
    x = layers.Add(name="long_skip")([skip, x])
    for i in range(int(math.log2(cfg.scale))):
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"up{i}_nearest")(x)
        x = _lrelu(f"up{i}_lrelu")(conv(f, 3, padding="same", name=f"up{i}_conv")(x))
    x = _lrelu("hr_lrelu")(conv(f, 3, padding="same", name="hr_conv")(x))
    sr = conv(3, 3, padding="same", dtype="float32", name="tail_conv")(x)
    if cfg.global_residual:
        base = BilinearUpsample(cfg.scale, dtype="float32", name="lr_upsampled")(lr)
        sr = layers.Add(dtype="float32", name="global_residual")([sr, base])
    return keras.Model(lr, sr, name="generator")
