"""FLOP counting on traced graphs, and the benchmark's smoke run."""

import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tensorflow as tf

from benchmarks import bench, perf

X = tf.TensorSpec((2, 8, 6, 3))
K = tf.TensorSpec((3, 3, 3, 5))
ROOT = Path(__file__).resolve().parents[1]
CONV_FLOPS = 2 * 2 * 8 * 6 * 5 * 3 * 3 * 3  # 2 x outputs x multiply-adds per output


def _flops(fn, *specs):
    return perf.graph_flops(tf.function(fn).get_concrete_function(*specs))


def test_forward_conv_and_matmul():
    assert _flops(lambda x, k: tf.nn.conv2d(x, k, 1, "SAME"), X, K) == CONV_FLOPS
    a, b = tf.TensorSpec((4, 7)), tf.TensorSpec((5, 7))
    assert _flops(lambda a, b: tf.matmul(a, b, transpose_b=True), a, b) == 2 * 4 * 5 * 7


def _grads(wrt):
    def fn(x, k):
        with tf.GradientTape() as tape:
            tape.watch([x, k])
            y = tf.nn.conv2d(x, k, 1, "SAME")
        return y, tape.gradient(y, [x, k][wrt] if wrt is not None else [x, k])
    return fn


@pytest.mark.parametrize("wrt, passes", [(None, 3), (0, 2), (1, 2)])
def test_backward_counts_only_the_gradients_that_run(wrt, passes):
    # Forward + input gradient + kernel gradient; the unused one is pruned, not counted.
    assert _flops(_grads(wrt), X, K) == passes * CONV_FLOPS


def test_dead_ops_are_not_counted():
    def fn(x, k):
        tf.nn.conv2d(x, k, 1, "SAME")  # result unused: never runs
        return x + 1.0
    assert _flops(fn, X, K) == 0


@pytest.mark.slow
def test_peak_rss_follows_an_allocation():
    """A fresh process, whose peak starts near its current size: 256 MiB written -> +256.
    It runs perf.peak_rss_mb's own source, without importing TensorFlow (seconds)."""
    code = ("import resource, sys\nfrom pathlib import Path\nimport numpy as np\n"
            + textwrap.dedent(inspect.getsource(perf.peak_rss_mb))
            + "before = peak_rss_mb(); x = np.ones(256 * 2**20 // 8); "
              "print(before, peak_rss_mb())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    before, after = map(float, out.stdout.split()[-2:])
    assert 250 < after - before < 270


@pytest.mark.slow
def test_bench_quick_smoke_run(tmp_path, capsys):
    out = tmp_path / "bench.txt"
    assert bench.main(["--quick", "--steps", "1", "--batch-size", "1",
                       "--pretrain-batch-size", "1", "--variants", "subpixel", "--no-flags",
                       "--no-ablation", "--no-memory", "-o", str(out)]) == 0
    text = out.read_text()
    for expected in ("gan step", "pretrain step", "inference", "tiling", "tf.data", "backends",
                     "tflite-float16", "keras-xla", "profile", "GFLOP/s"):
        assert expected in text
    assert text.strip() in capsys.readouterr().out
    lines = text.splitlines()
    rows = [line for line in lines if line.startswith("backends")]
    assert [line.split(",")[0] for line in rows] == ["backends 8->32", "backends 16->64"]
    assert "keras 1.000" not in rows[0] and "(1.00x)" in rows[0] and "keras x8" in rows[0]
    assert "onnx x8" in rows[0] and "| onnx " in rows[1]
    # The ceiling follows the images/s row: FLOPs, achieved rate, matmul rate, bound.
    ceiling = re.fullmatch(r"  exact float32 ceiling: ([0-9.e+-]+) GFLOP per image .* "
                           r"at ([0-9.]+) GFLOP/s, .* at most ([0-9.]+)x faster",
                           lines[lines.index(rows[0]) + 1])
    assert ceiling and all(float(value) > 0 for value in ceiling.groups())


def test_ablation_times_each_choice_against_the_shipped_step(monkeypatch):
    """The four GAN steps it compares, each built as the choice says (stub steps: each
    choice's model is tested where it is built, and the smoke run above times real ones)."""
    from benchmarks import sections, workloads

    built = []

    def build(sizes, variant, conv_mode="fast"):
        built.append((variant, sizes.model.get("disc_head", "patch"), conv_mode == "stock"))
        return "model", "optimizers"

    monkeypatch.setattr(workloads, "build_srgan", build)
    monkeypatch.setattr(workloads, "train_step", lambda *a: (lambda: None, 0))
    lines = []
    sections.ablation(lines.append, bench.parse_args(["--quick", "--steps", "1"]),
                      bench.sizes_for(bench.parse_args(["--quick"])), 2)
    # (variant, discriminator head, built with Keras's stock convolutions)
    assert built == [("subpixel", "patch", False), ("subpixel", "patch", True),
                     ("subpixel", "global", False), ("nearest", "patch", True)]
    assert lines[0].startswith("what each choice gains, GAN step batch 2")
    assert [line.split()[0] for line in lines[1:]] == ["as", "stock", "global", "nearest"]
    assert lines[1].endswith(" 1.00x")


def test_bench_only_backends_runs_that_section_alone(tmp_path, monkeypatch):
    """The section itself is checked by the smoke run above."""
    from benchmarks import sections

    ran = []
    for name in ("machine", "steps", "upscaling", "seams", "pipeline", "profile"):
        monkeypatch.setattr(sections, name, lambda *a, name=name: ran.append(name))
    monkeypatch.setattr(sections, "backends", lambda report, *a: report("backends row"))
    out = tmp_path / "bench.txt"
    assert bench.main(["--quick", "--steps", "1", "--only-backends", "-o", str(out)]) == 0
    assert not ran and "backends row" in out.read_text().splitlines()


def test_bench_data_case_runs():
    assert set(bench.run_child("data::2", bench.parse_args(["--quick"]))) == {"peak_rss_mb"}


@pytest.mark.slow
def test_bench_case_runs_in_a_fresh_process():
    assert set(bench.in_child("base", ["--quick"])) == {"peak_rss_mb"}
    # A child that fails says so (here before TensorFlow starts: a flag it does not know).
    with pytest.raises(RuntimeError, match=r"(?s)^bench case base failed: .*--no-such-flag"):
        bench.in_child("base", ["--no-such-flag"])


def test_unknown_bench_case_is_an_error():
    with pytest.raises(ValueError, match="unknown bench case 'nope'"):
        bench.run_child("nope", bench.parse_args(["--quick"]))


def test_old_bench_flag_names_still_work_with_one_warning_each(capsys):
    args = bench.parse_args(["--batch", "2", "4", "--pretrain-batch", "8", "--out", "b.txt"])
    assert (args.batch_size, args.pretrain_batch_size, args.output) == ([2, 4], [8], "b.txt")
    assert capsys.readouterr().err.splitlines() == [
        "warning: --batch is deprecated; use --batch-size",
        "warning: --pretrain-batch is deprecated; use --pretrain-batch-size",
        "warning: --out is deprecated; use -o/--output"]
    args = bench.parse_args([])
    assert (args.batch_size, args.pretrain_batch_size) == ([1, 16], [16])
    assert capsys.readouterr().err == ""
