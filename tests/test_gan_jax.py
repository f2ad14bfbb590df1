"""scripts/gan_jax.py, the parts that run here: the pack holds the aligned crops, the
validation faces as train.py's validation makes them and the VGG16/LPIPS weights; the
batches are a pure function of (seed, step); training refuses any Keras backend but JAX.

The JAX training itself needs jax, which the project does not install; its first
validation of the face model it started from reproduced train.py's LPIPS (0.4027 against
0.4028), and the CPU rescores its snapshots to the same figures (docs/model_zoo.md)."""

import multiprocessing
import os

import numpy as np
import pytest
import tensorflow as tf

from scripts import gan_jax
from scripts.synthetic import smooth_face
from srgan.data import pipeline
from srgan.evaluation import metrics
from srgan.models import vgg
from srgan.pixels import to_uint8


@pytest.fixture(scope="module")
def aligned(tmp_path_factory):
    """An aligned folder as scripts.align_faces writes it: 3 faces x 2 crops, 2 val faces."""
    root = tmp_path_factory.mktemp("aligned")
    rng = np.random.default_rng(0)
    for sub, names in (("train", [f"f{i}_{k}" for i in range(3) for k in range(2)]),
                       ("val", ["v0_0", "v1_0"])):
        (root / sub).mkdir()
        for name in names:
            smooth_face(rng, 32, 32).save(root / sub / f"{name}.png")
    return root


@pytest.fixture(scope="module")
def packed(aligned, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "pack.npz"
    gan_jax.pack(aligned, out, per_face=1, quality=95, hr_size=32)
    return np.load(out)


def test_pack_keeps_the_first_crops_of_each_face_as_jpeg(aligned, packed):
    faces = gan_jax.decode_faces(packed)
    assert faces.shape == (3, 32, 32, 3) and faces.dtype == np.uint8
    for face, name in zip(faces, ["f0_0", "f1_0", "f2_0"]):
        original = np.asarray(tf.io.decode_png(tf.io.read_file(str(aligned / "train" /
                                                                  f"{name}.png"))))
        assert np.abs(face.astype(float) - original).mean() < 2.0  # quality 95, 4:4:4


def test_pack_validation_is_train_pys(aligned, packed):
    val = sorted((aligned / "val").iterdir())
    lr, hr, _ = pipeline.load_samples(val, 2, 32, 4, 10**8, "gfpgan")
    np.testing.assert_array_equal(packed["val_lr"], lr)
    np.testing.assert_array_equal(packed["val_hr"], to_uint8(tf.constant(hr)).numpy())
    assert int(packed["scale"]) == 4 and 0 < float(packed["bicubic_lpips"]) < 1


def test_pack_holds_the_offline_vgg16_in_float16(packed):
    ours, theirs = gan_jax.vgg_checkpoint(packed), vgg.load_lpips_checkpoint()
    for i in (0, 12):
        a, b = ours["VGG16_0"][f"Conv_{i}"]["kernel"], theirs["VGG16_0"][f"Conv_{i}"]["kernel"]
        assert a.dtype == np.float32 and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(ours["NetLinLayer_4"]["Conv_0"]["kernel"],
                               theirs["NetLinLayer_4"]["Conv_0"]["kernel"], rtol=1e-3)
    assert gan_jax.LPIPS_LAYERS == metrics.LPIPS_LAYERS


def test_pack_refuses_a_crop_of_another_size(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "val").mkdir()
    smooth_face(np.random.default_rng(0), 32, 40).save(tmp_path / "train" / "f_0.png")
    with pytest.raises(ValueError, match=r"f_0\.png: 40x32, not an aligned 32 px crop"):
        gan_jax.pack(tmp_path, tmp_path / "pack.npz", 1, 95, hr_size=32)
    assert not (tmp_path / "pack.npz").exists()


def test_batches_are_a_function_of_seed_and_step(packed):
    gan_jax._init_worker(gan_jax.decode_faces(packed))
    lr, hr = gan_jax.make_batch(0, 7, 4, 4)
    assert lr.shape == (4, 8, 8, 3) and hr.shape == (4, 32, 32, 3) and lr.dtype == np.uint8
    again = gan_jax.make_batch(0, 7, 4, 4)
    np.testing.assert_array_equal(lr, again[0])
    np.testing.assert_array_equal(hr, again[1])
    assert not np.array_equal(lr, gan_jax.make_batch(0, 8, 4, 4)[0])
    assert not np.array_equal(lr, gan_jax.make_batch(1, 7, 4, 4)[0])


def test_train_refuses_the_tensorflow_backend(tmp_path, packed, monkeypatch):
    path = tmp_path / "pack.npz"
    np.savez(path, **{k: packed[k] for k in packed.files})
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    with pytest.raises(SystemExit, match="needs jax"):
        gan_jax.main(["train", "--pack", str(path), "--init-from",
                      str(tmp_path / "none.weights.h5"), "--workers", "1",
                      "-o", str(tmp_path / "run")])
    # Keras was imported already (on TensorFlow): the processes this one starts later
    # must not inherit a JAX backend, and no batch worker was started.
    assert "KERAS_BACKEND" not in os.environ
    assert not multiprocessing.active_children()


def test_train_names_a_file_that_is_not_a_pack(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(2))
    with pytest.raises(SystemExit, match=r"other\.npz: not a restore pack \(no train_jpeg"):
        gan_jax.main(["train", "--pack", str(tmp_path / "other.npz"), "--init-from", "x",
                      "-o", str(tmp_path / "run")])
