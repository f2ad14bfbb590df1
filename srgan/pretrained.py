"""The trained generators that ship in ``weights/``, and which one a command uses.

``weights/srresnet_x4_faces.weights.h5`` (PSNR-oriented, L1-trained SRResNet) and
``weights/srgan_x4_faces.weights.h5`` (the same network after the GAN stage), each with
its JSON model card beside it. They were trained by this project's own ``train.py`` on
face images for research use only; their cards say on what, for how long and how well.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from srgan.models.weights import GENERATOR_WEIGHTS, generator_json

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
SHIPPED = {"srresnet": "srresnet_x4_faces", "srgan": "srgan_x4_faces"}


def shipped_path(name: str) -> Path:
    """``srresnet`` or ``srgan`` -> the shipped ``.weights.h5`` path (it may be missing)."""
    return WEIGHTS_DIR / f"{SHIPPED[name]}.weights.h5"


def resolve(model: Optional[str], checkpoint_dir: str | Path = "checkpoints") -> Path:
    """The weights file a ``--model`` value names.

    Args:
        model: ``srresnet`` or ``srgan`` (the shipped ones), a ``.weights.h5`` path, or
            None: the newest generator exported into ``checkpoint_dir`` by a training
            run, if any, else the shipped SRGAN.
        checkpoint_dir: where ``train.py`` exports its generator.

    Raises:
        FileNotFoundError: one line naming the missing file and what to do.
    """
    if model in SHIPPED:
        path = shipped_path(model)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: the shipped {model} weights are missing; "
                                    f"restore them with `git checkout -- weights/`")
        return path
    if model is not None:
        return Path(model)
    trained = Path(checkpoint_dir) / GENERATOR_WEIGHTS
    if trained.is_file() and generator_json(trained).is_file():
        return trained
    return resolve("srgan")
