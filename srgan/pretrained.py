"""The trained generators that ship in ``weights/``, and which one a command uses.

``weights/srresnet_x4_faces.weights.h5`` (PSNR-oriented, L1-trained SRResNet) and
``weights/srgan_x4_faces.weights.h5`` (the same network after the GAN stage), each with
its JSON model card beside it. They were trained by this project's own ``train.py`` on
face images for research use only; their cards say on what, for how long and how well.

:func:`resolve` picks the generator ``predict.py`` and ``evaluate.py`` run
(``--model``); :func:`init_weights_path` the one a fresh ``train.py`` run starts from
(``--init-from``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from srgan.config import GENERATOR_FIELDS, Config
from srgan.models.weights import GENERATOR_WEIGHTS, generator_json, read_card

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
SHIPPED = {"srresnet": "srresnet_x4_faces", "srgan": "srgan_x4_faces",
           "srcnn": "srcnn_x4_faces", "blind": "srresnet_x4_faces_blind"}


def shipped_path(name: str) -> Path:
    """A :data:`SHIPPED` name -> the shipped ``.weights.h5`` path (it may be missing)."""
    return WEIGHTS_DIR / f"{SHIPPED[name]}.weights.h5"


def resolve(model: Optional[str], checkpoint_dir: str | Path = "checkpoints") -> Path:
    """The weights file a ``--model`` value names.

    Args:
        model: a :data:`SHIPPED` name (``srresnet``, ``srgan``, ``srcnn``, ``blind``), a ``.weights.h5`` path, or
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


def _generator_arch(model_cfg) -> dict:
    return {k: getattr(model_cfg, k) for k in GENERATOR_FIELDS}


def init_weights_path(cfg: Config, log: Callable[[str], None] = print) -> Optional[Path]:
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
