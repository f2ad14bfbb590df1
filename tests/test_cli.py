"""train.py and predict.py end to end on a tiny config, and their one-line errors."""

import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from srgan.cli import predict_main, train_main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_train_then_predict_end_to_end(tmp_path, tiny_flags, face_dir, capsys):
    # Five training faces are too few to hold any out, so validate on a named folder.
    assert train_main(tiny_flags + ["--epochs", "2", "--steps-per-epoch", "2",
                                    "--pretrain-epochs", "1", "--quiet", "--log-every", "2",
                                    "--sample-every", "1", "--val-data", str(face_dir),
                                    "--val-max-images", "1"]) == 0
    ckpt, results = tmp_path / "ckpt", tmp_path / "results"
    assert (ckpt / "generator.weights.h5").is_file() and (ckpt / "config.json").is_file()
    assert sorted(p.name for p in results.glob("*.png")) == [
        f"{prefix}_{n:04d}_sample_{i}.png" for prefix, n in
        [("epoch", 1), ("epoch", 2), ("pretrain", 1)] for i in range(2)]
    events = EventAccumulator(str(tmp_path / "logs"), size_guidance={"images": 0}).Reload()
    scalars = set(events.Tags()["scalars"]) | set(events.Tags()["tensors"])
    for name in ("g_loss", "content_loss", "adv_loss", "d_loss", "d_real", "d_fake", "psnr"):
        assert f"gan/{name}" in scalars, name
    assert {"lr/generator", "lr/discriminator", "pretrain/g_loss"} <= scalars
    # Step values every --log-every 2 generator steps: pretraining is steps 1-2, GAN 3-6.
    assert [e.step for e in events.Tensors("pretrain/g_loss")] == [2]
    assert [e.step for e in events.Tensors("gan/d_loss")] == [4, 6]
    assert [e.step for e in events.Tensors("gan/epoch_d_loss")] == [4, 6]
    # Validation on the held-out file: every epoch of both phases, and the best generator.
    assert {"val/psnr", "val/ssim", "val/lpips", "val/bicubic_psnr", "val/bicubic_lpips"} <= scalars
    assert len((ckpt / "validation.csv").read_text().splitlines()) == 1 + 3
    assert {"generator_best.weights.h5", "generator_best.json"} <= {p.name for p in ckpt.iterdir()}
    assert {"samples/sample_0", "samples/sample_1"} <= set(events.Tags()["images"]) | scalars

    out = tmp_path / "pred"
    weights = str(ckpt / "generator.weights.h5")
    assert predict_main(["--weights", weights, "-o", str(out)]) == 0
    table = capsys.readouterr().out
    assert "grace_hopper" in table and "bicubic" in table
    assert (out / "grace_hopper_sr.png").is_file() and (out / "astronaut_triptych.png").is_file()

    lr_dir = tmp_path / "lr"
    (lr_dir / "sub").mkdir(parents=True)
    Image.fromarray(np.full((7, 9, 4), 200, np.uint8), "RGBA").save(lr_dir / "sub" / "x.png")
    Image.fromarray(np.full((5, 6), 90, np.uint8), "L").save(lr_dir / "g.jpg")
    (lr_dir / "broken.png").write_bytes(b"\x89PNG junk")
    rc = predict_main(["-i", str(lr_dir), "-o", str(out), "--weights", weights])
    assert rc == 1  # one input failed; the others were still written
    assert Image.open(out / "sub_x_x4.png").size == (36, 28)
    assert Image.open(out / "sub_x_x4.png").mode == "RGBA"
    assert Image.open(out / "g_x4.png").size == (24, 20)
    assert not (out / "broken_x4.png").exists()
    assert "broken.png" in capsys.readouterr().err


@pytest.mark.parametrize("argv, words", [
    (["--data", "{tmp}/empty"], "no images"),
    (["--perceptual", "vgg19", "--vgg-weights", "{tmp}/missing.h5"], "vgg16-offline"),
    (["--hr-size", "100"], "multiple of 16"),
])
def test_train_errors_are_one_line(tmp_path, tiny_flags, capsys, argv, words):
    (tmp_path / "empty").mkdir()
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert train_main(tiny_flags + argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0]


def test_predict_without_checkpoint_names_what_to_run(tmp_path, capsys):
    assert predict_main(["--weights", str(tmp_path / "generator.weights.h5")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "python train.py" in err


@pytest.mark.parametrize("script, argv, words", [
    ("predict.py", ["--weights", "none.weights.h5"], "python train.py"),
    ("evaluate.py", ["--data", ".", "--weights", "none.weights.h5"], "python train.py"),
    ("train.py", ["--data", "empty"], "no images"),
    ("app.py", ["--host", "256.0.0.1"], "cannot listen on 256.0.0.1:7860"),
])
def test_scripts_are_thin_entry_points(tmp_path, monkeypatch, capsys, script, argv, words):
    """Each script file, run as __main__ in this process: its exit code and last line."""
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [script, *argv])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(ROOT / script), run_name="__main__")
    assert exit_.value.code == 2 and words in capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.slow
def test_a_script_runs_in_a_fresh_interpreter(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "predict.py"), "--weights",
                          "none.weights.h5"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 2 and "python train.py" in out.stderr.strip().splitlines()[-1]
