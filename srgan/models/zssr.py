"""The image-specific network of ZSSR ("Zero-Shot" Super-Resolution, Shocher et al. 2018).

Eight 3x3 convolutions of 64 channels with ReLU between them, on the LR image already
interpolated to the output size; the network predicts the residual over that
interpolation. It has no upsampling layer: training and inference happen at the size of
its input. :mod:`srgan.inference.zssr` trains it on one image.
"""

from __future__ import annotations

import keras
from keras import layers


def build_zssr_net(num_layers: int = 8, num_filters: int = 64, seed: int = 0) -> keras.Model:
    """The ZSSR network.

    Args:
        num_layers: convolutions in all (8 in the paper); the last maps to 3 channels.
        num_filters: width of the hidden convolutions (64 in the paper).
        seed: seed of the initial weights (each layer its own, derived from it).

    Returns:
        Model ``interpolated (B, H, W, 3) in [-1, 1] -> sr (B, H, W, 3)``, the input plus
        the predicted residual (unclipped).
    """
    up = keras.Input((None, None, 3), name="interpolated")
    x = up
    for i in range(num_layers - 1):
        x = layers.Conv2D(num_filters, 3, padding="same", activation="relu", name=f"conv{i}",
                          kernel_initializer=keras.initializers.HeNormal(seed + i))(x)
    last = keras.initializers.RandomNormal(stddev=1e-3, seed=seed + num_layers)
    residual = layers.Conv2D(3, 3, padding="same", name=f"conv{num_layers - 1}",
                             kernel_initializer=last)(x)
    return keras.Model(up, layers.Add(name="residual")([up, residual]), name="zssr")
