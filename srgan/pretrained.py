"""The trained generators that ship with the package, and which one a command uses.

``srresnet_x4_faces`` (PSNR-oriented, L1-trained SRResNet), ``srgan_x4_faces`` (the same
network after the GAN stage), ``srgan_x4_faces_hq`` (that one after a second GAN stage on
high-quality aligned faces alone), ``srresnet_x4_faces_blind`` (fine-tuned on Real-ESRGAN
degradations), ``srgan_x4_faces_blind`` (that model after a GAN stage on the same
degradations), ``srgan_x4_faces_restore`` (the face model of ``--face-enhance``, trained on
aligned faces with GFPGAN's degradations) and ``srcnn_x4_faces`` (the classic baseline):
each a ``.weights.h5`` file with its JSON model card beside it. They were trained by this
project's own ``train.py`` on face images for research use only; their cards say on what,
for how long and how well.

Where they are found (:func:`weights_dirs`), the first folder holding the file wins:

1. ``$SRGAN_WEIGHTS``, when set: a folder of your own copies;
2. ``srgan/weights/`` inside the installed package (``pip install .`` puts them there);
3. ``weights/`` at the top of a clone (running from a clone, or ``pip install -e .``).

:func:`resolve` picks the generator ``predict.py`` and ``evaluate.py`` run
(``--model``); :func:`init_weights_path` the one a fresh ``train.py`` run starts from
(``--init-from``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Optional

from srgan.config import GENERATOR_FIELDS, Config
from srgan.models.weights import GENERATOR_WEIGHTS, generator_json, read_card

logger = logging.getLogger(__name__)

ENV = "SRGAN_WEIGHTS"
PACKAGE_WEIGHTS = Path(__file__).resolve().parent / "weights"
CLONE_WEIGHTS = Path(__file__).resolve().parent.parent / "weights"
# Short name -> shipped name; either names the model (--model srgan, srgan.load("srgan")).
SHIPPED = {"srresnet": "srresnet_x4_faces", "srgan": "srgan_x4_faces",
           "srcnn": "srcnn_x4_faces", "blind": "srresnet_x4_faces_blind",
           "blindgan": "srgan_x4_faces_blind", "restore": "srgan_x4_faces_restore",
           "srgan-hq": "srgan_x4_faces_hq"}


def weights_dirs() -> list[Path]:
    """The folders searched for shipped weights, in order: ``$SRGAN_WEIGHTS`` (if set), the
    installed package's ``srgan/weights``, a clone's ``weights/``."""
    env = os.environ.get(ENV)
    return ([Path(env)] if env else []) + [PACKAGE_WEIGHTS, CLONE_WEIGHTS]


def shipped_name(model: Optional[str]) -> Optional[str]:
    """``srgan`` or ``srgan_x4_faces`` -> ``srgan_x4_faces``; None for anything else."""
    if model in SHIPPED:
        return SHIPPED[model]
    return model if model in SHIPPED.values() else None


def shipped_path(name: str) -> Path:
    """A shipped model's name (short or full) -> its ``.weights.h5`` in the first folder of
    :func:`weights_dirs` that holds it; the last folder's path when none does (the caller
    checks ``is_file()``)."""
    file = f"{shipped_name(name)}.weights.h5"
    folders = weights_dirs()
    return next((d / file for d in folders if (d / file).is_file()), folders[-1] / file)


def resolve(model: Optional[str], checkpoint_dir: str | Path = "checkpoints") -> Path:
    """The weights file a ``--model`` value names.

    Args:
        model: a shipped name (``srresnet``, ``srgan``, ``srgan-hq``, ``srcnn``, ``blind``,
            ``blindgan``, ``restore``, or the full name such as ``srgan_x4_faces``), a
            ``.weights.h5`` path, or None: the newest generator exported into ``checkpoint_dir`` by a
            training run, if any, else the shipped SRGAN.
        checkpoint_dir: where ``train.py`` exports its generator.

    Raises:
        FileNotFoundError: one line naming the missing file, where it was looked for and
            what to do.
    """
    if shipped_name(model) is not None:
        path = shipped_path(model)
        if not path.is_file():
            where = ", ".join(str(d) for d in weights_dirs())
            raise FileNotFoundError(f"{path.name}: the shipped {model} weights are in none "
                                    f"of {where}; restore them with `git checkout -- "
                                    f"weights/`, reinstall, or set {ENV} to their folder")
        return path
    if model is not None:
        return Path(model)
    trained = Path(checkpoint_dir) / GENERATOR_WEIGHTS
    if trained.is_file() and generator_json(trained).is_file():
        return trained
    return resolve("srgan")


def _generator_arch(model_cfg) -> dict:
    return {k: getattr(model_cfg, k) for k in GENERATOR_FIELDS}


def init_weights_path(cfg: Config, log: Callable[[str], None] = logger.info) -> Optional[Path]:
    """The generator weights a fresh run starts from (``--init-from``), or None.

    Unset: the shipped SRResNet when the run has no pre-training phase (so ``train.py
    --epochs N`` is the paper's GAN stage, started from a trained SRResNet) and its
    architecture matches this run's; otherwise none, with a line saying why.

    Raises:
        FileNotFoundError, ValueError: a named file that is missing, or whose
            architecture differs from this run's.
    """
    t = cfg.train
    if t.init_from == "none":
        return None
    if t.init_from is None:
        path = shipped_path("srresnet")
        if t.pretrain_epochs > 0:
            return None
        if not path.is_file():
            log(f"init: {path} not found; the generator starts from random weights")
            return None
        _, arch = read_card(path)
        if _generator_arch(arch) != _generator_arch(cfg.model):
            log(f"init: the shipped SRResNet's architecture differs from this run's; the "
                f"generator starts from random weights (--init-from PATH to choose)")
            return None
        return path
    path = resolve(t.init_from)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: --init-from names no such file")
    _, arch = read_card(path)
    theirs, ours = _generator_arch(arch), _generator_arch(cfg.model)
    if theirs != ours:
        diff = ", ".join(f"{k} {theirs[k]!r} here {ours[k]!r}" for k in ours
                         if theirs[k] != ours[k])
        raise ValueError(f"{path}: its generator differs from this run's ({diff}); "
                         f"pass matching model flags or --init-from none")
    return path
