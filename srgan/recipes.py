"""Recipes: every stage of a model's training in a TOML file, loaded into the same frozen
dataclasses as ``train.py``'s flags (``train.py --config FILE [--stage N]``).

A recipe (``recipes/*.toml``)::

    name = "srresnet_x4_faces"          # what it makes: weights/NAME.weights.h5
    summary = "..."                     # one paragraph

    [common]                            # settings every stage starts from
    data_dirs = ["$FACES_HQ", "$CELEBA_ALIGNED"]
    crop = 96

    [[stages]]
    about = "..."                       # what this stage does (optional)
    pretrain_epochs = 6

Settings are the fields of :class:`srgan.config.Config` as ``config.json`` names them
(``data_dirs`` for ``--data``, ``num_blocks`` for ``--num-blocks``...), in one table: a
stage's own settings override ``[common]``'s, and flags given on the command line
override both. Each stage writes to ``checkpoints/NAME/stageN``, ``logs/NAME/stageN`` and
``results/NAME/stageN`` unless it names its own folders, so a later stage can start from
an earlier one's generator (``init_from``). A string ``"$NAME"`` is a placeholder for a
data folder: the environment variable ``NAME`` fills it in (or the flag replaces the
setting), else the stage stops with one line saying which to set. Nothing here imports
TensorFlow.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from srgan.config import Config, config_from_fields, field_type, flag_name, setting_fields

PLACEHOLDER = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")
SHIPPED_RECIPES = (Path(__file__).resolve().parent / "recipes",
                   Path(__file__).resolve().parent.parent / "recipes")
# The folders a stage writes to, unless it says otherwise: one set per stage.
OUTPUTS = {"checkpoint_dir": "checkpoints", "logdir": "logs", "results_dir": "results"}
_RECIPE_KEYS = {"name", "summary", "common", "stages"}
_STAGE_KEYS = {"about"}


@dataclass(frozen=True)
class Stage:
    """One stage of a recipe, its settings as written (placeholders unresolved).

    Attributes:
        file: the recipe file.
        name: the recipe's ``name``: the model it makes.
        number: 1-based position among the recipe's stages; ``count``: how many there are.
        about: what the stage does.
        settings: ``{config field: value}``, ``[common]`` and the stage's own merged, with
            the per-stage output folders.
    """

    file: Path
    name: str
    number: int
    count: int
    about: str
    settings: Mapping[str, Any]

    def where(self) -> str:
        """``recipes/x.toml, stage 2 of 4``: how messages name the stage."""
        return f"{self.file}, stage {self.number} of {self.count}"

    def card(self) -> dict:
        """What a model card records of the stage that made it."""
        return {"recipe": self.file.name, "recipe_stage": self.number}

    def config(self, overrides: Optional[Mapping[str, Any]] = None,
               environ: Optional[Mapping[str, str]] = None) -> Config:
        """The stage's :class:`Config`: its settings, ``overrides`` (from flags) on top,
        placeholders filled in from ``environ`` (default: the process environment).

        Raises:
            ValueError: one line naming the recipe, the stage and what is wrong (a
                placeholder left unfilled, a value :class:`Config` refuses).
        """
        fields = {**self.settings, **(overrides or {})}
        environ = os.environ if environ is None else environ
        try:
            return config_from_fields({k: _fill(k, v, environ) for k, v in fields.items()})
        except ValueError as e:
            raise ValueError(f"{self.where()}: {e}") from None


def _fill(name: str, value: Any, environ: Mapping[str, str]) -> Any:
    """``value`` with each ``$NAME`` string replaced by the environment variable NAME."""
    if isinstance(value, (list, tuple)):
        return type(value)(_fill(name, v, environ) for v in value)
    if not isinstance(value, str) or not (m := PLACEHOLDER.match(value)):
        return value
    if m.group(1) in environ:
        return environ[m.group(1)]
    raise ValueError(f"{name} holds the placeholder {value}: set {m.group(1)}=FOLDER in the "
                     f"environment, or pass {flag_name(name)}")


def find(recipe: str | os.PathLike) -> Path:
    """A recipe file: ``recipe`` itself when it exists, else the shipped recipe of that
    name (``srresnet_x4_faces`` or ``srresnet_x4_faces.toml``), in the installed package or
    a clone's ``recipes/``.

    Raises:
        FileNotFoundError: one line naming what was looked for and the shipped recipes.
    """
    path = Path(recipe)
    if path.is_file():
        return path
    name = path.name if path.suffix == ".toml" else f"{path.name}.toml"
    for folder in SHIPPED_RECIPES:
        if (folder / name).is_file() and path.parent == Path("."):
            return folder / name
    shipped = sorted({p.stem for folder in SHIPPED_RECIPES for p in folder.glob("*.toml")})
    raise FileNotFoundError(f"{recipe}: no such recipe file, and no shipped recipe of that "
                            f"name ({', '.join(shipped) or 'none found'})")


def load(recipe: str | os.PathLike) -> list[Stage]:
    """Every stage of a recipe, in order, each checked: known settings of the right types.

    Raises:
        FileNotFoundError: no such recipe (:func:`find`).
        ValueError: one line naming the file (and stage) and what is wrong.
    """
    path = find(recipe)
    try:
        doc = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a TOML file ({e})") from None
    unknown = set(doc) - _RECIPE_KEYS
    if unknown:
        raise ValueError(f"{path}: unknown key {sorted(unknown)[0]!r} (a recipe has "
                         f"{', '.join(sorted(_RECIPE_KEYS))})")
    name, stages = doc.get("name"), doc.get("stages")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{path}: needs name = \"...\", the model it makes")
    if not isinstance(stages, list) or not stages:
        raise ValueError(f"{path}: needs at least one [[stages]] table")
    common = _checked(doc.get("common", {}), f"{path} [common]")
    out = []
    for number, table in enumerate(stages, 1):
        where = f"{path}, stage {number}"
        about = table.get("about", "") if isinstance(table, dict) else ""
        own = _checked({k: v for k, v in table.items() if k not in _STAGE_KEYS}, where)
        defaults = {field: f"{root}/{name}/stage{number}" for field, root in OUTPUTS.items()}
        out.append(Stage(path, name, number, len(stages), about,
                         {**defaults, **common, **own}))
    return out


def _checked(table: Any, where: str) -> dict[str, Any]:
    """``table`` when every key is a :class:`Config` field and every value has its type.

    Raises:
        ValueError: the first unknown name (with the closest field) or wrong type.
    """
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table of settings")
    hints = setting_fields()
    for key, value in table.items():
        if key not in hints:
            close = difflib.get_close_matches(key, list(hints), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ValueError(f"{where}: unknown setting {key!r}{hint}")
        if not _fits(value, hints[key]):
            raise ValueError(f"{where}: {key} must be {_describe(hints[key])}, got {value!r}")
    return dict(table)


def _fits(value: Any, hint) -> bool:
    """Whether a TOML value fits a field's type (an int where a float goes, a list where a
    tuple goes); ``bool`` is not an int here."""
    kind, several = field_type(hint)
    values = value if several else [value]
    if several and not isinstance(value, list):
        return False
    if kind is float:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if kind is int:
        return all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    return all(isinstance(v, kind) for v in values)


def _describe(hint) -> str:
    kind, several = field_type(hint)
    word = {bool: "true or false", int: "an integer", float: "a number",
            str: "a string"}[kind]
    return f"a list, each {word}" if several else word

