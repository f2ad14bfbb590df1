"""The face model behind ``--face-enhance``: a shipped or trained generator, run the way
``predict.py`` runs any generator, inside a :class:`srgan.faces.restore.FaceRestorer`."""

from __future__ import annotations

import logging
from typing import Optional

from srgan.faces import align
from srgan.faces.restore import FaceRestorer
from srgan.inference.backends import make_runner
from srgan.inference.upscale import upscale_stack
from srgan.options import FaceOptions

logger = logging.getLogger(__name__)


def load_restorer(options: FaceOptions, backend: str = "keras") -> Optional[FaceRestorer]:
    """The :class:`FaceRestorer` ``options`` ask for, or None without ``face_enhance``;
    says which face model runs.

    The face model runs on ``backend`` (:data:`srgan.options.BACKENDS`); its aligned crop is
    ``hr_size / scale`` of its card (64 for the shipped models), and its card's
    ``aligned_faces`` says whether it was trained on faces aligned to the template.

    Raises:
        FileNotFoundError, ValueError: ``face_model`` names no usable generator.
    """
    if not options.face_enhance:
        return None
    from srgan import pretrained
    from srgan.models.weights import load_generator

    generator = load_generator(pretrained.resolve(options.face_model))
    scale = generator.scale
    size = (generator.hr_size or align.TEMPLATE_SIZE * scale) // scale
    runner = make_runner(generator, backend, window=size)
    aligned = bool(generator.card.get("aligned_faces"))
    logger.info(f"faces: {generator.path} on " + (f"{size} px aligned crops" if aligned else
                                                  "each face at its own scale"))
    return FaceRestorer(lambda crops: upscale_stack(runner, crops, scale), scale, size,
                        options, aligned)
