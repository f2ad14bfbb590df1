"""Exported generators do what the Keras one does: SavedModel, ONNX and TFLite parity (tiny model).

Tolerances, in grey levels of the uint8 output: SavedModel, ONNX and TFLite float32 within 1
(float rounding, then quantisation); float16 weights within 3; int8 weights within 12 (the
tiny random model is far more sensitive to weight error than a trained one;
docs/performance.md gives the cost on the shipped model). Each bound is also shown to be
needed or tight enough to catch a wrong model: the parity of a model with other weights
fails. Conversions take seconds each: the module is ``slow``.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from srgan.cli import export_main
from srgan.config import ModelConfig
from srgan.inference import export
from srgan.inference.backends import OnnxRunner, TFLiteRunner
from srgan.inference.upscale import upscale
from srgan.models.generators import build_generator
from srgan.models.weights import export_generator

pytestmark = pytest.mark.slow
CONFIG = ModelConfig(num_filters=4, num_blocks=1)
TOLERANCE = {"float32": 1, "float16": 3, "int8": 12}


def _generator(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return build_generator(CONFIG)


@pytest.fixture(scope="module")
def generator():
    return _generator(0)


def _image(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _max_diff(a, b) -> int:
    assert a.shape == b.shape and a.dtype == b.dtype == np.uint8
    return int(np.abs(a.astype(int) - b.astype(int)).max())


def test_savedmodel_matches_keras_at_any_size(generator, tmp_path):
    path = export.save_savedmodel(generator, CONFIG, tmp_path / "sm")
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    for shape in [(1, 16, 16, 3), (2, 13, 21, 3)]:
        lr = _image(shape)
        sr = serve(lr=tf.constant(lr))
        (out,) = sr.values()
        expected = np.stack([upscale(generator, im, 4) for im in lr])
        assert _max_diff(out.numpy(), expected) <= TOLERANCE["float32"]
        assert _max_diff(out.numpy(), np.stack([upscale(_generator(1), im, 4) for im in lr])) > 10


def test_onnx_matches_keras_at_any_size(generator):
    """Run as ``predict.py --backend onnx`` runs it: :class:`OnnxRunner`, ONNX Runtime CPU."""
    pytest.importorskip("onnxruntime")
    runner = OnnxRunner(export.to_onnx(generator, CONFIG), bytes_per_pixel=0)
    for shape in [(1, 16, 16, 3), (2, 13, 21, 3)]:
        lr = _image(shape)
        out = runner(lr)
        expected = np.stack([upscale(generator, im, 4) for im in lr])
        assert _max_diff(out, expected) <= TOLERANCE["float32"]
        assert _max_diff(out, np.stack([upscale(_generator(1), im, 4) for im in lr])) > 10


@pytest.mark.parametrize("precision", export.PRECISIONS)
def test_tflite_matches_keras(generator, precision):
    runner = TFLiteRunner(export.to_tflite(generator, CONFIG, window=16, precision=precision))
    assert runner.window == 16 and runner.scale == 4
    lr = _image((16, 16, 3))
    tolerance = TOLERANCE[precision]
    assert _max_diff(upscale(runner, lr, 4, tile_pad=0), upscale(generator, lr, 4)) <= tolerance
    assert _max_diff(upscale(runner, lr, 4, tile_pad=0), upscale(_generator(1), lr, 4)) > 2 * tolerance


def test_onnx_runs_the_tail_on_space_to_depth_blocks(generator):
    """The 9x9 conv to 3 channels goes out as the block conv Keras runs (1.4x faster in
    ONNX Runtime and TFLite), its kernel a constant: no op rebuilds it at run time."""
    import onnx

    graph = onnx.load_from_string(export.to_onnx(generator, CONFIG)).graph
    ops = [node.op_type for node in graph.node]
    assert ops.count("SpaceToDepth") == 1 and "Gather" not in ops
    kernels = [list(t.dims) for t in graph.initializer if len(t.dims) == 4]
    assert [3 * 16, 4 * 16, 3, 3] in kernels  # (out, in, kh, kw): 3 and 4 channels x 4x4


def _other(name: str):
    config = ModelConfig(generator=name, num_filters=4, num_blocks=1, rrdb_growth=4)
    keras.utils.set_random_seed(0)
    return build_generator(config), config


def test_rrdb_exports_to_tflite():
    model, config = _other("rrdb")
    runner = TFLiteRunner(export.to_tflite(model, config, window=16))
    lr = _image((16, 16, 3))
    assert _max_diff(upscale(runner, lr, 4, tile_pad=0), upscale(model, lr, 4)) <= 1


def test_srcnn_exports_to_savedmodel_and_says_why_not_tflite(tmp_path):
    model, config = _other("srcnn")
    serve = tf.saved_model.load(str(export.save_savedmodel(model, config, tmp_path / "sm")))
    lr = _image((1, 13, 21, 3))
    (out,) = serve.signatures["serving_default"](lr=tf.constant(lr)).values()
    assert _max_diff(out.numpy()[0], upscale(model, lr[0], 4)) <= 1
    with pytest.raises(ValueError, match=r"^the srcnn generator needs ResizeBicubic, which "
                       r"TFLite does not have; export it as savedmodel or onnx$"):
        export.to_tflite(model, config, window=16)


def test_tflite_tiles_any_size_like_keras(generator):
    """The fixed window is tiled (pad 4 + blend 2 / 2 < radius 10, so compare at the
    tolerance of tiling, not exactness: both sides tile the same way)."""
    runner = TFLiteRunner(export.to_tflite(generator, CONFIG, window=16))
    lr = _image((23, 37, 3))
    assert _max_diff(upscale(runner, lr, 4, tile_pad=4),
                     upscale(generator, lr, 4, tile=8, tile_pad=4)) <= 1
    small = _image((5, 7, 3))  # smaller than the window: padded, then cropped
    assert upscale(runner, small, 4, tile_pad=4).shape == (20, 28, 3)


def test_export_cli_writes_each_format(tmp_path, capsys):
    weights = tmp_path / "tiny.weights.h5"
    export_generator(_generator(0), CONFIG, weights, {"hr_size": 64})
    out = tmp_path / "out"
    assert export_main(["--model", str(weights), "--format", "tflite", "--precision",
                        "float16", "--window", "16", "-o", str(out)]) == 0
    assert export_main(["--model", str(weights), "--format", "savedmodel", "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["tiny", "tiny_float16_16.tflite"]
    assert TFLiteRunner(out / "tiny_float16_16.tflite").window == 16
    assert export_main(["--model", str(weights), "--window", "0", "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip().startswith("error: window must be positive")
