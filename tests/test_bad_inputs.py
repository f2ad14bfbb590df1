"""Bad images through train-data loading and predict (docs/reliability.md, promise 7).

The per-kind table with timings is ``scripts/bad_inputs_report.py``; here the whole
fixture folder goes through both, and every outcome is checked.
"""

from pathlib import Path

import pytest
import tensorflow as tf

from scripts.bad_images import EXPECTED, make_bad_images
from srgan import console, files
from srgan.config import DataConfig, ModelConfig
from srgan.data import pipeline
from srgan.inference import predict
from srgan.models.generators import build_generator
from srgan.models.weights import GENERATOR_WEIGHTS, export_generator, load_generator


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_inputs")
    kinds = make_bad_images(root)
    listed = files.list_images(root)
    by_path = {p: k for k, p in kinds.items() if k in EXPECTED}
    return root, listed, {p: by_path[p] for p in listed}


def _run_training_data(paths, fraction, caplog):
    guard = pipeline.DecodeGuard(len(paths), DataConfig.max_pixels, fraction)
    ds = pipeline.make_dataset(paths, DataConfig(hr_size=32, batch_size=1), 4, 0, guard)
    batches = [hr for _, hr in ds.take(len(paths))]  # more than one pass
    return guard, batches, [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


@pytest.mark.slow  # the training pipeline over 32 kinds of bad input
def test_training_skips_each_bad_file_with_one_line(fixtures, caplog):
    _, listed, kind_of = fixtures
    guard, batches, warnings = _run_training_data(listed, 1.0, caplog)
    bad = {kind_of[Path(name)] for name in guard.bad}
    assert bad == {kind_of[p] for p in listed if EXPECTED[kind_of[p]] == "error"}
    assert sorted(warnings) == sorted(f"skipping {line}" for line in guard.bad.values())
    assert all(line.startswith(f"{name}: ") and "\n" not in line
               for name, line in guard.bad.items())
    assert all(hr.shape == (1, 32, 32, 3) for hr in batches)  # normalised to RGB


def test_training_stops_when_more_than_max_bad_fraction_fail(fixtures, caplog):
    _, listed, _ = fixtures
    with pytest.raises(tf.errors.OpError):
        _run_training_data(listed, DataConfig.max_bad_fraction, caplog)
    guard = pipeline.DecodeGuard(len(listed), DataConfig.max_pixels, DataConfig.max_bad_fraction)
    with pytest.raises(files.ImageError, match=r"too many bad images: 3 of 25 files could "
                       r"not be decoded, more than --max-bad-fraction 0.1 allows"):
        for path in listed:
            guard.read(str(path).encode())


def test_predict_continues_and_leaves_no_partial_output(fixtures, tmp_path, capsys):
    root, listed, kind_of = fixtures
    model = ModelConfig(num_filters=8, num_blocks=1)
    weights = tmp_path / GENERATOR_WEIGHTS
    export_generator(build_generator(model), model, weights, {"hr_size": 32})
    generator = load_generator(weights)
    out = tmp_path / "out"
    options = predict.PredictOptions(input=str(root), output=str(out))
    with console.to_terminal():  # as predict.py shows it
        assert predict.predict_folder(generator, options) == 1
    captured = capsys.readouterr()
    errors = captured.err.strip().splitlines()
    failed = [p for p in listed if EXPECTED[kind_of[p]] == "error"]
    assert len(errors) == len(failed)
    for path in failed:
        assert sum(line.startswith(f"error: {path}: ") for line in errors) == 1
    written = {p.name for p in out.iterdir()}
    assert not any(name.startswith(".") for name in written)  # no temp file left
    assert len(written) == len(listed) - len(failed)  # image.bmp, image.webp: two outputs
    for path in listed:
        rel = path.relative_to(root)
        target = "_".join(rel.with_suffix("").parts) + "_x4.png"
        if EXPECTED[kind_of[path]] == "error":
            assert target not in written
        else:
            assert target in written and str(path) in captured.out
