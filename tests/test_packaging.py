"""pyproject.toml against the tree: the same dependencies as requirements.txt, every
package of srgan/ listed, the weights and recipes shipped, console scripts that exist, and
the lookup order of the shipped weights (srgan.pretrained)."""

import shutil
import tomllib
from pathlib import Path

import pytest

from srgan import cli, pretrained

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirements() -> set[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return {line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()}


def test_dependencies_agree_with_requirements_txt():
    project = PROJECT["project"]
    runtime = set(project["dependencies"])
    extras = {d for group in project["optional-dependencies"].values() for d in group}
    assert runtime <= _requirements(), runtime - _requirements()
    assert _requirements() == runtime | extras, _requirements() ^ (runtime | extras)


def test_every_package_of_srgan_is_listed_and_data_folders_are_mapped():
    settings = PROJECT["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts)
               for p in (ROOT / "srgan").rglob("__init__.py")}
    mapped = settings["package-dir"]
    assert set(settings["packages"]) == on_disk | set(mapped)
    for package, folder in mapped.items():
        assert (ROOT / folder).is_dir(), folder
        globs = settings["package-data"][package]
        files = [p for p in (ROOT / folder).iterdir() if p.is_file()]
        assert files and all(any(p.match(g) for g in globs) for p in files), (folder, files)


def test_console_scripts_name_the_entry_points():
    scripts = PROJECT["project"]["scripts"]
    assert set(scripts) == {"srgan-train", "srgan-predict", "srgan-evaluate",
                            "srgan-export", "srgan-web"}
    for target in scripts.values():
        module, _, name = target.partition(":")
        assert module == "srgan.cli" and callable(getattr(cli, name)), target


@pytest.fixture
def own_weights(tmp_path, monkeypatch):
    """$SRGAN_WEIGHTS pointing at a folder that holds a copy of the shipped SRCNN only."""
    src = pretrained.shipped_path("srcnn")
    shutil.copy(src, tmp_path / src.name)
    shutil.copy(src.with_name("srcnn_x4_faces.json"), tmp_path / "srcnn_x4_faces.json")
    monkeypatch.setenv(pretrained.ENV, str(tmp_path))
    return tmp_path


def test_srgan_weights_folder_comes_first_and_the_rest_follow(own_weights):
    assert pretrained.resolve("srcnn") == own_weights / "srcnn_x4_faces.weights.h5"
    assert pretrained.resolve("srcnn_x4_faces") == pretrained.resolve("srcnn")
    # Not in $SRGAN_WEIGHTS: found where the package or the clone keeps it.
    assert pretrained.resolve("srgan").parent in (pretrained.PACKAGE_WEIGHTS,
                                                 pretrained.CLONE_WEIGHTS)


def test_missing_shipped_weights_name_every_folder_searched(tmp_path, monkeypatch):
    monkeypatch.setenv(pretrained.ENV, str(tmp_path))
    monkeypatch.setattr(pretrained, "PACKAGE_WEIGHTS", tmp_path / "package")
    monkeypatch.setattr(pretrained, "CLONE_WEIGHTS", tmp_path / "clone")
    with pytest.raises(FileNotFoundError) as err:
        pretrained.resolve("blind")
    message = str(err.value)
    assert "\n" not in message and "srresnet_x4_faces_blind.weights.h5" in message
    for folder in (tmp_path, tmp_path / "package", tmp_path / "clone"):
        assert str(folder) in message
    assert pretrained.ENV in message
