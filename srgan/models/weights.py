"""A trained generator as files: weights plus a JSON model card, exported and loaded.

``export_generator`` writes ``NAME.weights.h5`` (the weights of the plain Keras build) and
``NAME.json`` (the model card: the architecture that rebuilds it, ``hr_size`` and training
facts); ``load_generator`` rebuilds the network from the card and returns a
:class:`Generator`. A training run exports ``generator.weights.h5`` (the latest) and
``generator_best.weights.h5`` (the best by validation) into its checkpoint folder.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import keras

from srgan import files
from srgan.config import LEGACY_MODEL_FIELDS, ModelConfig
from srgan.models.generators import build_generator, copy_weights

GENERATOR_WEIGHTS = "generator.weights.h5"
GENERATOR_BEST_WEIGHTS = "generator_best.weights.h5"
# 1: weights of the fast build (keys named after srgan.models.layers' classes), BatchNorm and
#    tanh implied. 2: weights of the plain Keras build, every architecture field written.
CARD_FORMAT = 2


@dataclass(frozen=True)
class Generator:
    """A loaded generator.

    Attributes:
        model: the fast build (:mod:`srgan.models.layers`), ``lr (B, h, w, 3) in [-1, 1] ->
            sr (B, h*scale, w*scale, 3)``.
        config: the architecture the card describes.
        card: the model card as read, its ``model`` entry completed to every field.
        path: the weights file it was loaded from.
    """

    model: keras.Model
    config: ModelConfig
    card: dict
    path: Path

    @property
    def scale(self) -> int:
        """The upscaling factor."""
        return self.config.scale

    @property
    def hr_size(self) -> Optional[int]:
        """The HR side it was trained at, or None when the card does not say."""
        return self.card.get("hr_size")


def export_generator(generator: keras.Model, model_cfg: ModelConfig, path: Path,
                     extra: Optional[dict] = None) -> None:
    """Save generator weights to ``path`` and its model card (JSON) beside it.

    The weights are those of the plain Keras build (``build_generator(cfg, fast=False)``:
    ``Conv2D``, ``PReLU``, ``Add``...), so the file never depends on srgan's CPU speed
    layers, whose class names Keras would otherwise use as keys. ``path`` ends in
    ``.weights.h5``; the card goes to the same name with ``.json``. Both are written
    atomically, the card last, so a reader that finds the card finds matching weights.
    """
    path = Path(path)
    plain = build_generator(model_cfg, fast=False)
    copy_weights(generator, plain)
    with files.atomic_path(path) as tmp:
        plain.save_weights(tmp)
    card = {"format": CARD_FORMAT, "model": asdict(model_cfg), **(extra or {})}
    files.atomic_write_bytes(generator_json(path), json.dumps(card, indent=2).encode() + b"\n")


def generator_json(weights_path: Path) -> Path:
    """``run/generator.weights.h5`` -> ``run/generator.json``."""
    name = Path(weights_path).name
    stem = name[: -len(".weights.h5")] if name.endswith(".weights.h5") else Path(name).stem
    return Path(weights_path).with_name(stem + ".json")


def read_card(weights_path: Path) -> tuple[dict, ModelConfig]:
    """The model card beside ``weights_path`` and the architecture it describes.

    Cards of format 1 (before ``batch_norm`` and ``global_residual`` existed) mean the
    paper's BatchNorm generator with a tanh output; unknown fields (a newer version's)
    are ignored.

    Raises:
        FileNotFoundError: one line naming the missing file and what to do.
        ValueError: one line naming the card and what is wrong with it.
    """
    card_path = generator_json(weights_path)
    if not card_path.is_file():
        raise FileNotFoundError(f"{card_path}: missing model card (the JSON that must sit "
                                f"beside {Path(weights_path).name}); re-export the generator "
                                f"or pass another --model")
    try:
        card = json.loads(card_path.read_text())
        fields = dict(card["model"])
        if card.get("format", 1) < 2:
            fields = {**LEGACY_MODEL_FIELDS, **fields}
        known = set(ModelConfig.__dataclass_fields__)
        return card, ModelConfig(**{k: v for k, v in fields.items() if k in known})
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"{card_path}: not a generator model card ({files.first_line(e)}); "
                         f"re-export the generator or pass another --model") from None


def load_generator(weights_path: Path) -> Generator:
    """Rebuild the generator described beside ``weights_path`` and load its weights.

    Returns the fast build (:mod:`srgan.models.layers`) with its architecture and model
    card (``hr_size``, training facts...). Format-1 files, written by earlier versions with
    the fast layers' keys, load straight into the fast build.

    Raises:
        FileNotFoundError: one line naming the missing file and the command to run first.
        ValueError: a damaged card or weights file, named.
    """
    weights_path = Path(weights_path)
    if not weights_path.is_file():
        raise FileNotFoundError(f"{weights_path}: no trained generator here; run `python "
                                f"train.py` first or pass --model srresnet|srgan|srcnn|PATH")
    card, model_cfg = read_card(weights_path)
    generator = build_generator(model_cfg)
    try:
        if card.get("format", 1) < 2:
            generator.load_weights(weights_path)
        else:
            plain = build_generator(model_cfg, fast=False)
            plain.load_weights(weights_path)
            copy_weights(plain, generator)
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"{weights_path}: cannot load generator weights "
                         f"({files.first_line(e)})") from None
    card["model"] = asdict(model_cfg)
    return Generator(generator, model_cfg, card, weights_path)
