"""What ``predict.py`` does with a user's files (``--input``):

* :func:`srgan.inference.photos.predict_folder`: real low-resolution photos (a file or a
  folder) upscaled at their native size, in tiles sized from a memory budget.
* :func:`srgan.inference.video.predict_video`: a video, frame by frame.

Without ``--input``, ``predict.py`` runs the sample-face demo instead
(:func:`srgan.evaluation.samples.predict_samples`), which scores the model. All take a
:class:`PredictOptions`; ``predict.py`` builds it from its flags.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from srgan.faces.restore import FaceRestorer
from srgan.inference.photos import predict_folder
from srgan.models.weights import Generator
from srgan.options import VIDEO_EXTENSIONS, PredictOptions

__all__ = ["PredictOptions", "predict_folder", "run"]


def run(generator: Generator, options: PredictOptions,
        restorer: Optional[FaceRestorer] = None) -> int:
    """Upscale ``options.input``: a video, or an image file or folder; with a ``restorer``
    (``--face-enhance``), each face restored by the face model and pasted back."""
    if Path(options.input).suffix.lower() in VIDEO_EXTENSIONS:
        from srgan.inference.video import predict_video

        return predict_video(generator, options, restorer)
    return predict_folder(generator, options, restorer)
