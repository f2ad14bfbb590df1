"""srgan.models.weights: exported generators load back, with their cards, old formats too."""

import json
from pathlib import Path

import numpy as np
import pytest

from srgan.inference.upscale import upscale
from srgan.models.weights import GENERATOR_WEIGHTS, load_generator


def test_exported_generator_round_trips(trained_run):
    cfg, model = trained_run
    generator = load_generator(f"{cfg.train.checkpoint_dir}/{GENERATOR_WEIGHTS}")
    assert generator.hr_size == 32 and generator.config.num_blocks == 1
    x = np.random.default_rng(0).uniform(-1, 1, (1, 5, 7, 3)).astype(np.float32)
    np.testing.assert_allclose(generator.model(x), model.inference_generator(x), atol=1e-6)


def test_missing_generator_names_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `python train.py` first"):
        load_generator(tmp_path / "generator.weights.h5")


def test_generator_saved_by_an_earlier_version_still_loads():
    # tests/data/generator_v1 was written by export_generator (a tiny generator, weights
    # perturbed so every layer matters) with the output it gave. Keras keys weight files by
    # layer class and order: a change that renames or reorders layers fails here, as it
    # would fail for every generator users have saved.
    folder = Path(__file__).parent / "data" / "generator_v1"
    generator = load_generator(folder / "generator.weights.h5")
    expected = np.load(folder / "expected.npz")
    assert (generator.scale, generator.config.batch_norm, generator.hr_size) == (4, True, None)
    sr = upscale(generator.model, expected["lr"], generator.scale)
    assert np.abs(sr.astype(int) - expected["sr"]).max() <= 1


def test_release_weights_writes_the_card_with_the_curve_and_no_local_paths(trained_run,
                                                                             tmp_path):
    from scripts import release_weights

    cfg, _ = trained_run
    run_dir = Path(cfg.train.checkpoint_dir)
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"settings": {"data": "/somewhere/val14", "images": 2},
                                   "summary": {"sr": {"lpips": float("nan")}}}))
    assert release_weights.main([str(run_dir), "tiny_x4", "--which", "latest",
                                 "--recipe", "/somewhere/tiny.toml", "--stage", "2",
                                 "--eval", str(results), "--licence", "non-commercial",
                                 "--out-dir", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "tiny_x4.json").read_text()
    card = json.loads(text)  # strict JSON: NaN became null
    assert "NaN" not in text and "/somewhere" not in text and str(run_dir) not in text
    assert card["training"]["command"] == "python train.py --config recipes/tiny.toml --stage 2"
    rows = (run_dir / "validation.csv").read_text().splitlines()[1:]
    assert [r["step"] for r in card["curve"]] == [int(r.split(",")[2]) for r in rows]
    assert all(isinstance(r["psnr"], float) for r in card["curve"])
    assert card["evaluation"][0]["settings"]["data"] == "val14"
    generator = load_generator(tmp_path / "out" / "tiny_x4.weights.h5")
    assert generator.config.num_blocks == 1 and generator.card["licence"] == "non-commercial"
