"""Which network a ``ModelConfig`` describes: one builder per ``generator`` value.

Every builder takes ``(cfg, fast=True)`` and returns a model ``lr (B, h, w, 3) in [-1, 1]
-> sr (B, h*scale, w*scale, 3)``; ``fast=False`` is the plain Keras build whose weights
are saved (:mod:`srgan.models.weights`).
"""

from __future__ import annotations

import keras

from srgan.config import ModelConfig
from srgan.models import srcnn, srresnet

BUILDERS = {"srresnet": srresnet.build_generator, "srcnn": srcnn.build_srcnn}


def build_generator(cfg: ModelConfig, fast: bool = True) -> keras.Model:
    """The generator ``cfg.generator`` names, built for ``cfg``."""
    return BUILDERS[cfg.generator](cfg, fast=fast)
