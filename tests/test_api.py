"""srgan.load and srgan.upscale: a generator by name with its card, and the image predict.py
writes, without importing TensorFlow at ``import srgan``."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import srgan
from conftest import smooth_face
from srgan import pretrained
from srgan.cli import predict_main


def test_import_srgan_does_not_import_tensorflow():
    code = ("import sys, srgan; print(sorted(m for m in ('tensorflow', 'keras') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["srcnn", "srcnn_x4_faces"])
def test_load_a_shipped_model_by_short_or_full_name(name):
    generator = srgan.load(name)
    assert generator.card["name"] == "srcnn_x4_faces" and generator.scale == 4
    assert generator.path == pretrained.resolve("srcnn")
    assert generator.model.output_shape == (None, None, None, 3)
    assert generator.card["licence"] and generator.card["training"]["step"] > 0


def test_load_the_shipped_srgan_with_its_card():
    generator = srgan.load("srgan_x4_faces")
    assert generator.card["training"]["phase"] == "gan"
    assert generator.config.generator == "srresnet" and generator.hr_size == 256


def test_load_a_path_and_refuse_an_unknown_name(tiny_generator, tmp_path):
    loaded = srgan.load(tiny_generator.path)
    assert loaded.config == tiny_generator.config and loaded.card["hr_size"] == 32
    with pytest.raises(ValueError, match="'srgann' is no shipped model .*srgan_x4_faces"):
        srgan.load("srgann")


@pytest.mark.parametrize("flags", [[], ["--tile", "8"], ["--tile", "8", "--pre-pad", "0"]])
def test_upscale_returns_what_predict_writes(tiny_generator, tmp_path, flags):
    """Same tiles, pre-pad and feathering as predict.py: identical pixels."""
    image = np.asarray(smooth_face(np.random.default_rng(1), 21, 26))
    Image.fromarray(image).save(tmp_path / "face.png")
    assert predict_main(["--model", str(tiny_generator.path), "-i", str(tmp_path / "face.png"),
                         "-o", str(tmp_path / "out"), *flags]) == 0
    written = np.asarray(Image.open(tmp_path / "out" / "face_x4.png"))
    options = dict(zip([f.lstrip("-").replace("-", "_") for f in flags[::2]],
                       map(int, flags[1::2])))
    sr = srgan.upscale(image, model=tiny_generator, **options)
    assert sr.dtype == np.uint8 and sr.shape == (84, 104, 3)
    np.testing.assert_array_equal(sr, written)
    # By path too, and the result depends on the options: tiles without context differ.
    if flags:
        np.testing.assert_array_equal(srgan.upscale(image, model=tiny_generator.path,
                                                    **options), written)
        assert np.any(srgan.upscale(image, model=tiny_generator, tile=8, tile_pad=0,
                                    pre_pad=0) != written)


def test_upscale_names_a_bad_input(tiny_generator):
    with pytest.raises(ValueError, match="uint8"):
        srgan.upscale(np.zeros((8, 8, 3), np.float32), model=tiny_generator)
    with pytest.raises(ValueError, match="backend"):
        srgan.upscale(np.zeros((8, 8, 3), np.uint8), model=tiny_generator, backend="nope")


def test_upscale_converts_a_generator_once_per_backend(tiny_generator, monkeypatch):
    """ONNX/TFLite conversion takes seconds: upscale() makes it on a generator's first call."""
    from srgan.inference import backends

    made = []
    real = backends.make_runner
    monkeypatch.setattr(backends, "make_runner", lambda g, backend, self_ensemble=False: (
        made.append(backend + "+flip" * self_ensemble) or real(g, backend,
                                                               self_ensemble=self_ensemble)))
    image = np.zeros((8, 8, 3), np.uint8)
    loaded = srgan.load(tiny_generator.path)  # a fresh model: nothing cached for it yet
    first = srgan.upscale(image, model=loaded, tile=8)
    np.testing.assert_array_equal(srgan.upscale(image, model=loaded, tile=8), first)
    srgan.upscale(image, model=loaded, tile=8, backend="tflite")
    srgan.upscale(image, model=loaded, tile=8, backend="tflite")
    assert made == ["keras", "tflite"]
    for _ in range(2):  # the self-ensemble is a runner of its own, made once too
        srgan.upscale(image, model=loaded, tile=8, self_ensemble=True)
    assert made == ["keras", "tflite", "keras+flip"]
    srgan.upscale(image, model=srgan.load(tiny_generator.path), tile=8)  # another model
    assert made == ["keras", "tflite", "keras+flip", "keras"]
