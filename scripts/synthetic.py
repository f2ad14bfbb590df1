"""The tiny training run and the synthetic faces that the tests (tests/conftest.py) and
the stress scripts (scripts/kill9.py) share; no real image, no network."""

from __future__ import annotations

import numpy as np
from PIL import Image

TINY_MODEL = dict(num_filters=8, num_blocks=1, disc_filters=4, disc_dense=8)
# Offline VGG16 cut at block1: the real ImageNet weights, cheap at 32x32. No triptychs
# (matplotlib takes a sixth of a tiny run): tests/test_cli.py turns them on and checks them.
TINY_FLAGS = ["--hr-size", "32", "--num-blocks", "1", "--num-filters", "8",
              "--disc-filters", "4", "--disc-dense", "8", "--batch-size", "2",
              "--perceptual", "vgg16-offline", "--feature-layers", "block1_conv2",
              "--num-samples", "2", "--sample-every", "1000"]


def smooth_face(rng: np.random.Generator, height: int, width: int,
                mode: str = "RGB") -> Image.Image:
    """A smooth random colour field (upsampled noise), closer to a photo than white noise:
    a ``width x height`` PIL image in ``mode``."""
    small = rng.integers(0, 256, (max(2, height // 6), max(2, width // 6), 3), np.uint8)
    img = Image.fromarray(small).resize((width, height), Image.BICUBIC)
    return img.convert(mode)
