"""Shared fixtures: tiny configs and synthetic faces. No network, no ../shared, tmp_path only."""

import dataclasses
import os
import shutil
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Tests compare runs bit for bit (--deterministic); oneDNN's CPU kernels are outside
# TensorFlow's op determinism, and TensorFlow reads this once, when it starts.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # One worker per core (pytest.ini: -n auto): each runs its ops on one thread, instead of
    # every worker spreading each tiny op over all the cores and waiting on the others.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

# The tiny run and the synthetic faces live in scripts/, which scripts/kill9.py shares.
from scripts.synthetic import TINY_FLAGS, TINY_MODEL, smooth_face  # noqa: E402,F401
from srgan.config import Config, DataConfig, LossConfig, ModelConfig, TrainConfig  # noqa: E402

TRAINED_STEPS = 5  # steps of the shared run, trained_run


def write_faces(root: Path) -> Path:
    """Five decodable images of odd sizes and modes, in nested folders, under ``root``."""
    rng = np.random.default_rng(0)
    (root / "nested").mkdir(parents=True)
    smooth_face(rng, 45, 37).save(root / "a.jpg", quality=95)
    smooth_face(rng, 40, 52, "L").save(root / "b_gray.PNG")
    smooth_face(rng, 33, 33, "RGBA").save(root / "nested" / "c_rgba.png")
    smooth_face(rng, 64, 48).save(root / "nested" / "d.bmp")
    smooth_face(rng, 3, 5).save(root / "e_tiny.png")
    return root


def tiny_config(root: Path, faces: Path) -> Config:
    """A whole run at 8 -> 32 px with a 1-block generator (1 GAN epoch of 2 steps, no
    triptychs) on ``faces``; all outputs under ``root``."""
    return Config(
        data=DataConfig(data_dirs=(str(faces),), hr_size=32, batch_size=2),
        model=ModelConfig(**TINY_MODEL),
        loss=LossConfig(perceptual="vgg16-offline", feature_layers=("block1_conv2",)),
        train=TrainConfig(epochs=1, steps_per_epoch=2, logdir=str(root / "logs"),
                          checkpoint_dir=str(root / "ckpt"),
                          results_dir=str(root / "results"), num_samples=2,
                          sample_every=1000))


def pytest_collection_modifyitems(items):
    """Tests that read the shared training run are ``slow``: trained_run trains a model."""
    for item in items:
        if "trained_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def face_dir(tmp_path):
    """Five decodable images of odd sizes and modes, in nested folders."""
    return write_faces(tmp_path / "faces")


@pytest.fixture
def tiny_cfg(tmp_path, face_dir):
    """:func:`tiny_config` under tmp_path, not run yet."""
    return tiny_config(tmp_path, face_dir)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """``(cfg, model)``: one :func:`tiny_config` run, trained once per session and shared
    by the tests that only read what it left: 1 GAN epoch of 5 steps, validated every 2
    steps on two of its faces and saved every 3 (so at steps 3 and 5), about 10 s on 2
    CPU cores. Never train it further or change its files: :func:`trained_copy` gives a
    copy to resume, extend or damage."""
    from srgan.training.run import train

    root = tmp_path_factory.mktemp("trained_run")
    faces = write_faces(root / "faces")
    cfg = tiny_config(root, faces)
    cfg = dataclasses.replace(
        cfg, data=dataclasses.replace(cfg.data, val_data=str(faces), val_max_images=2),
        train=dataclasses.replace(cfg.train, steps_per_epoch=TRAINED_STEPS, val_every=2,
                                  save_every=3))
    return cfg, train(cfg, log=lambda m: None, verbose=0)


@pytest.fixture
def trained_copy(trained_run, tmp_path):
    """The shared run's config with its checkpoint folder copied under tmp_path (logs and
    results there too): a run that has done its steps, to resume, extend or damage."""
    cfg, _ = trained_run
    shutil.copytree(cfg.train.checkpoint_dir, tmp_path / "ckpt")
    train = dataclasses.replace(cfg.train, checkpoint_dir=str(tmp_path / "ckpt"),
                                logdir=str(tmp_path / "logs"),
                                results_dir=str(tmp_path / "results"))
    return dataclasses.replace(cfg, train=train)


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory):
    """A :class:`srgan.models.weights.Generator` loaded from an exported 4-filter, 1-block
    x4 SRResNet with ``hr_size`` 32 on its card (random weights)."""
    from srgan.config import ModelConfig
    from srgan.models.generators import build_generator
    from srgan.models.weights import export_generator, load_generator

    model = ModelConfig(num_filters=4, num_blocks=1)
    weights = tmp_path_factory.mktemp("model") / "g.weights.h5"
    export_generator(build_generator(model), model, weights, {"hr_size": 32})
    return load_generator(weights)


@pytest.fixture
def tiny_flags(tmp_path, face_dir):
    """CLI flags for the same tiny run as ``tiny_cfg``."""
    return TINY_FLAGS + ["--data", str(face_dir), "--logdir", str(tmp_path / "logs"),
                         "--checkpoint-dir", str(tmp_path / "ckpt"),
                         "--results-dir", str(tmp_path / "results")]
