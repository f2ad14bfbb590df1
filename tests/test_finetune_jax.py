"""scripts/finetune_jax.py, the parts that run here: the pack holds what train.py's own
transforms make of the faces, and training refuses any Keras backend but JAX.

The JAX training itself needs jax, which the project does not install; its parity with
TensorFlow (the exported weights score the same in evaluate.py) is measured in
docs/model_zoo.md. What it relies on here, the backend-neutral BilinearUpsample, is
tested in tests/test_layers.py."""

import os

import numpy as np
import pytest
import tensorflow as tf

from scripts import finetune_jax
from scripts.synthetic import smooth_face
from srgan import files
from srgan.data import pipeline, transforms
from srgan.evaluation import metrics
from srgan.inference.upscale import interpolate
from srgan.pixels import to_uint8


def _faces(folder, sides):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, side in enumerate(sides):
        smooth_face(rng, side, side).save(folder / f"{i:02d}.png")
    return folder


def test_pack_holds_the_training_split_as_train_py_makes_it(tmp_path):
    faces = _faces(tmp_path / "faces", [40] * 9 + [48] * 3)  # 48 px are shrunk to 32
    out = tmp_path / "pack.npz"
    finetune_jax.pack(str(faces), out, hr_size=32, scale=4)
    pack = np.load(out)
    paths = sorted(faces.iterdir())
    held = paths[11]  # train.py's split: one file in ten, every (n // k)-th: the 12th
    train = [p for p in paths if p != held]
    assert pack["train_hr"].shape == (11, 32, 32, 3) and pack["train_hr"].dtype == np.uint8
    expected = transforms.prepare_hr(files.read_image(train[9]), 32, crop=32).numpy()
    np.testing.assert_array_equal(pack["train_hr"][9], expected)
    lr, hr, _ = pipeline.load_samples([held], 1, 32, 4, 10**8)
    np.testing.assert_array_equal(pack["val_lr"], lr)
    np.testing.assert_array_equal(pack["val_hr"], to_uint8(tf.constant(hr)).numpy())
    lr8 = to_uint8(tf.constant(lr)).numpy()[0]
    assert float(pack["bicubic_psnr"]) == pytest.approx(metrics.psnr(
        interpolate(lr8, 4), pack["val_hr"][0], crop_border=4, y_only=True))
    assert int(pack["scale"]) == 4


def test_pack_refuses_faces_smaller_than_the_hr_size(tmp_path):
    faces = _faces(tmp_path / "faces", [24] + [40] * 11)
    with pytest.raises(ValueError, match=r"00\.png: 24x24, smaller than the 32 px HR"):
        finetune_jax.pack(str(faces), tmp_path / "pack.npz", hr_size=32, scale=4)
    assert not (tmp_path / "pack.npz").exists()


def test_train_refuses_the_tensorflow_backend_and_leaves_the_environment(tmp_path,
                                                                         monkeypatch):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    with pytest.raises(SystemExit, match="needs jax"):
        finetune_jax.main(["train", "--pack", str(tmp_path / "none.npz"), "--init-from",
                           str(tmp_path / "none.weights.h5"), "-o", str(tmp_path / "run")])
    # Keras was imported already (on TensorFlow): the processes this one starts later
    # (train.py, the web worker) must not inherit a JAX backend.
    assert "KERAS_BACKEND" not in os.environ
