"""Generator architectures by name: ``--generator`` picks one, and the model card records
it, so :mod:`srgan.models.weights` rebuilds the same network.

Each builder takes ``(cfg: ModelConfig, fast: bool)`` and returns a functional model
``lr (B, h, w, 3) in [-1, 1] -> sr (B, h*scale, w*scale, 3)``; ``fast`` selects the CPU
speed layers of :mod:`srgan.models.layers` (same weights), ``False`` the plain Keras
layers that exported weight files hold. A new architecture is one entry here and its
name in :data:`srgan.config.GENERATORS`.
"""

from __future__ import annotations

import keras

from srgan.config import ModelConfig
from srgan.models import rrdb, srcnn, srresnet

BUILDERS = {
    "srresnet": srresnet.build_srresnet,
    "rrdb": rrdb.build_rrdb,
    "srcnn": srcnn.build_srcnn,
}


def build_generator(cfg: ModelConfig, fast: bool = True) -> keras.Model:
    """The generator ``cfg.generator`` names, built from ``cfg``."""
    return BUILDERS[cfg.generator](cfg, fast)


def copy_weights(source: keras.Model, target: keras.Model) -> None:
    """Copy every layer's weights from ``source`` to the same-named layer of ``target``
    (the fast and the plain build of one generator, say)."""
    for layer in target.layers:
        if layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())
