"""Hostile files (docs/reliability.md, promise 8): no unsafe deserialisation in the
product, weights-only model files, and outputs that stay inside ``--output``."""

import ast
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan.cli import predict_main
from srgan.config import ModelConfig
from srgan.models.generators import build_generator
from srgan.models.weights import GENERATOR_WEIGHTS, export_generator

PRODUCT = sorted((Path(__file__).resolve().parents[1] / "srgan").rglob("*.py"))
UNSAFE = {"pickle.load", "pickle.loads", "pickle.Unpickler", "marshal.load",
          "marshal.loads", "yaml.load", "torch.load", "eval", "exec", "dill.load",
          "joblib.load", "shelve.open"}


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            yield node, _dotted(node.func)


def test_product_has_no_unsafe_deserialisation():
    found = [f"{p.name}:{node.lineno} {name}" for p in PRODUCT for node, name in _calls(p)
             if name in UNSAFE or (name.endswith("np.load") and any(
                 k.arg == "allow_pickle" and not (isinstance(k.value, ast.Constant)
                                                  and k.value.value is False)
                 for k in node.keywords))]
    assert found == []
    # The one unpickler: vgg.py's numpy-only subclass, whose find_class refuses the rest.
    subclasses = [f"{p.name}:{node.name}" for p in PRODUCT
                  for node in ast.walk(ast.parse(p.read_text()))
                  if isinstance(node, ast.ClassDef)
                  and any(_dotted(b).endswith("Unpickler") for b in node.bases)]
    assert subclasses == ["vgg.py:_ArrayUnpickler"]


def test_generators_are_loaded_as_weights_only():
    """No full-model loading (which rebuilds whatever layers a file names) anywhere in the
    product: generators are rebuilt from their JSON card and receive weights only."""
    calls = [(p, node.lineno, name) for p in PRODUCT for node, name in _calls(p)]
    full = [f"{p.name}:{line} {name}" for p, line, name in calls
            if name.split(".")[-1] in ("load_model", "model_from_json", "model_from_config")]
    assert full == []
    loaders = {(p.name, name.split(".")[-1]) for p, _, name in calls
               if name.endswith(".load_weights")}
    assert loaders == {("weights.py", "load_weights")}


@pytest.fixture
def weights(tmp_path):
    model = ModelConfig(num_filters=8, num_blocks=1)
    path = tmp_path / "model" / GENERATOR_WEIGHTS
    path.parent.mkdir()
    export_generator(build_generator(model), model, path, {"hr_size": 32})
    return str(path)


def _tree(root: Path) -> set:
    return {p.relative_to(root) for p in root.rglob("*")}


def test_crafted_input_names_cannot_write_outside_output(tmp_path, weights):
    inputs, out = tmp_path / "in", tmp_path / "sandbox" / "out"
    (inputs / "sub").mkdir(parents=True)
    out.mkdir(parents=True)
    names = ["x\\..\\..\\escape.png", "sub/y\\..\\..\\..\\up.png", "-rf .png",
             "new\nline.png", "dots..png"]
    pixels = np.full((5, 6, 3), 120, np.uint8)
    for name in names:
        Image.fromarray(pixels).save(inputs / name, format="PNG")
    before = _tree(tmp_path) - _tree(out)
    assert predict_main(["-i", str(inputs), "-o", str(out), "--weights", weights]) == 0
    written = sorted(out.iterdir())
    assert len(written) == len(names)
    assert all(p.resolve().parent == out.resolve() and p.suffix == ".png" for p in written)
    assert _tree(tmp_path) - {Path("sandbox/out") / p for p in _tree(out)} == before


def test_symlinked_output_cannot_redirect_writes(tmp_path, weights, capsys):
    inputs, outside = tmp_path / "in", tmp_path / "outside"
    inputs.mkdir()
    outside.mkdir()
    Image.fromarray(np.full((5, 6, 3), 80, np.uint8)).save(inputs / "face.png")
    Image.fromarray(np.full((5, 6, 3), 90, np.uint8)).save(inputs / "other.png")
    # The output folder itself is a symlink: refused, nothing written through it.
    (tmp_path / "link").symlink_to(outside, target_is_directory=True)
    assert predict_main(["-i", str(inputs), "-o", str(tmp_path / "link"),
                         "--weights", weights]) == 1
    assert list(outside.iterdir()) == []
    assert "output folder is a symlink" in capsys.readouterr().err
    # A planted symlink named like an output, pointing outside: that input fails, the
    # file outside is untouched, the other input is still written.
    out = tmp_path / "out"
    out.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("keep me")
    (out / "face_x4.png").symlink_to(victim)
    assert predict_main(["-i", str(inputs), "-o", str(out), "--weights", weights]) == 1
    assert victim.read_text() == "keep me" and (out / "face_x4.png").is_symlink()
    assert (out / "other_x4.png").is_file()
    assert "outside" in capsys.readouterr().err
