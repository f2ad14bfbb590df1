"""The Python API: a generator by name, and an image array upscaled the way predict.py does.

    import srgan
    generator = srgan.load("srgan_x4_faces")   # or a short name (srgan, blind, ...), a path
    generator.card["training"]["step"]         # its model card; generator.model is Keras
    sr = srgan.upscale(image, model=generator)  # uint8 (H, W, 3) -> (4H, 4W, 3)

Names are those of ``--model`` (:mod:`srgan.pretrained`, where the shipped weights are
looked for). ``import srgan`` stays cheap: TensorFlow is imported by the first call, with
its C++ start-up lines kept off the terminal as the commands keep them
(:func:`srgan.console.import_tensorflow`; nothing changes if it is imported already).
"""

from __future__ import annotations

import os
import weakref
from typing import TYPE_CHECKING, Optional, Union

from srgan import console
from srgan.options import PredictOptions

if TYPE_CHECKING:
    import numpy as np

    from srgan.models.weights import Generator

# Keras model -> {backend: runner}: the ONNX and TFLite conversions (seconds each) are made
# once per loaded generator, not on every upscale() call; dropped with the model.
_RUNNERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

def load(name: Union[str, os.PathLike] = "srgan") -> "Generator":
    """A trained generator and its model card, by name, like a Keras Hub preset.

    Args:
        name: a shipped model (``srgan``, ``srresnet``, ``blind``, ``srcnn``, or the full
            name such as ``srgan_x4_faces``) or a ``.weights.h5`` file with its ``.json``
            card beside it (a training run exports ``checkpoints/generator.weights.h5``).

    Returns:
        a :class:`srgan.models.weights.Generator`: ``.model`` the Keras model, ``lr (B, h,
        w, 3) in [-1, 1] -> sr (B, h*scale, w*scale, 3)``; ``.card`` its model card
        (training data, steps, scores, licence); ``.config``, ``.scale``, ``.path``.

    Raises:
        ValueError: a name that is neither shipped nor a file, or a damaged card or
            weights file (named).
        FileNotFoundError: shipped weights that cannot be found, or a missing card.
    """
    console.import_tensorflow()
    from srgan import pretrained
    from srgan.models.weights import load_generator

    name = os.fspath(name)
    if pretrained.shipped_name(name) is None and not os.path.isfile(name):
        shipped = ", ".join([*pretrained.SHIPPED, *pretrained.SHIPPED.values()])
        raise ValueError(f"{name!r} is no shipped model ({shipped}) and no .weights.h5 file")
    return load_generator(pretrained.resolve(name))


def upscale(image: "np.ndarray", model: Union[str, os.PathLike, "Generator"] = "srgan", *,
            tile: Optional[int] = None, tile_pad: int = PredictOptions.tile_pad,
            pre_pad: int = PredictOptions.pre_pad, max_memory: Optional[int] = None,
            batch_size: int = PredictOptions.batch_size,
            alpha_upsampler: str = PredictOptions.alpha_upsampler,
            backend: str = PredictOptions.backend,
            self_ensemble: bool = PredictOptions.self_ensemble) -> "np.ndarray":
    """Upscale one image by the model's scale, in tiles as ``predict.py -i`` does.

    The same path as predict.py: tiles sized from a memory budget, ``tile_pad`` pixels of
    context cross-faded at the seams, ``pre_pad`` pixels mirrored around the image, gray
    input kept gray, alpha upscaled apart (:mod:`srgan.inference.upscale`). The keyword
    arguments are predict.py's flags of the same names, with the same defaults.

    Args:
        image: uint8 ``(H, W)`` or ``(H, W, 1)`` gray, ``(H, W, 3)`` RGB or ``(H, W, 4)``
            RGBA, any size.
        model: a name or path for :func:`load`, or a generator it returned (load once and
            pass it when upscaling many images: its ONNX or TFLite conversion is then made
            on the first call only).
        tile: LR tile side (default: the largest that fits ``max_memory``).
        tile_pad, pre_pad, batch_size, alpha_upsampler, backend, self_ensemble: as
            predict.py's flags.
        max_memory: MiB the tiles may use (default: a quarter of the available memory, at
            most 1024).

    Returns:
        uint8 ``(H*scale, W*scale, 3)`` (gray input as R = G = B), or ``(..., 4)`` for RGBA.

    Raises:
        ValueError: a bad image (dtype, shape) or option, named.
    """
    console.import_tensorflow()
    from srgan.inference.backends import make_runner
    from srgan.inference.upscale import upscale as upscale_image
    from srgan.inference.upscale import upscale_kwargs

    options = PredictOptions(tile=tile, tile_pad=tile_pad, pre_pad=pre_pad,
                             max_memory=max_memory, batch_size=batch_size,
                             alpha_upsampler=alpha_upsampler, backend=backend,
                             self_ensemble=self_ensemble)
    generator = load(model) if isinstance(model, (str, os.PathLike)) else model
    runners = _RUNNERS.setdefault(generator.model, {})
    key = (options.backend, options.self_ensemble)
    if key not in runners:
        runners[key] = make_runner(generator, options.backend,
                                   self_ensemble=options.self_ensemble)
    runner = runners[key]
    return upscale_image(runner, image, generator.scale, **upscale_kwargs(options))
