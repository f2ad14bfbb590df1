"""The SRCNN baseline of Dong et al. 2014 ("Learning a Deep Convolutional Network for
Image Super-Resolution"): three convolutions on the bicubic-upscaled image.

Here on RGB (the paper's main results use the Y channel only), with 'same' padding so the
output keeps the input's size, and, by default, the project's global residual: the
network predicts the difference to bicubic, which it reaches within a short CPU training
(``--no-global-residual`` gives the paper's direct output). The bicubic upscaling is the
model's first layer, so its interface is a generator's: LR in, SR out.
"""

from __future__ import annotations

import keras
from keras import layers

from srgan.config import ModelConfig
from srgan.models.layers import BicubicUpsample


def build_srcnn(cfg: ModelConfig, fast: bool = True) -> keras.Model:
    """SRCNN 9-1-5: bicubic x``scale`` -> conv9x9 (F) ReLU -> conv1x1 (F/2) ReLU -> conv5x5 (3).

    Args:
        cfg: uses ``scale``, ``num_filters`` (F: 64 in the paper, then 32) and
            ``global_residual`` (add the bicubic upscaling to the output).
        fast: accepted for the builders' common signature; SRCNN has only Keras's own
            layers, so both builds are the same.

    Returns:
        Model ``lr (B, h, w, 3) in [-1, 1] -> sr (B, h*scale, w*scale, 3)``, float32,
        unclipped (clip for display).
    """
    del fast
    f = cfg.num_filters
    lr = keras.Input((None, None, 3), name="lr")
    base = BicubicUpsample(cfg.scale, dtype="float32", name="lr_bicubic")(lr)
    relu = dict(activation="relu", kernel_initializer="he_normal")
    x = layers.Conv2D(f, 9, padding="same", name="patch_extraction", **relu)(base)
    x = layers.Conv2D(max(1, f // 2), 1, name="nonlinear_mapping", **relu)(x)
    # The paper's N(0, 0.001) start: the first output is (almost) the bicubic upscaling.
    sr = layers.Conv2D(3, 5, padding="same", dtype="float32", name="reconstruction",
                       kernel_initializer=keras.initializers.RandomNormal(stddev=1e-3))(x)
    if cfg.global_residual:
        sr = layers.Add(dtype="float32", name="global_residual")([sr, base])
    return keras.Model(lr, sr, name="srcnn")
