"""Measuring tools for :mod:`benchmarks.bench`: graph FLOP counts, machine peaks, timers, RSS.

FLOPs are counted on the graph TensorFlow actually runs: a traced ``tf.function``, pruned to
the ops its outputs and side effects (variable updates) depend on, since the gradient code
also builds ops nobody uses (e.g. kernel gradients of the frozen VGG) that never execute.
Convolutions (forward and both backward kernels) and matrix products count
``2 x multiply-adds`` from their static shapes; element-wise ops, BatchNorm, activations,
pooling and the optimizer update are left out (a few percent of a step at most).
"""

from __future__ import annotations

import math
import resource
import sys
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import tensorflow as tf

CONV_OPS = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter")
MATMUL_OPS = ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3")


def _live_ops(graph) -> list:
    """Ops that run: ancestors of the graph's outputs and control outputs (side effects)."""
    stack = [t.op for t in graph.outputs] + list(graph.control_outputs)
    seen = {}
    while stack:
        op = stack.pop()
        if op.name in seen:
            continue
        seen[op.name] = op
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return list(seen.values())


def _shape(tensor) -> list[int]:
    dims = tensor.shape.as_list()
    if None in dims:
        raise ValueError(f"{tensor.name}: FLOP count needs static shapes, got {dims}")
    return dims


def op_flops(op) -> int:
    """``2 x multiply-adds`` of one conv or matmul op from its static shapes; else 0.

    A conv does ``N*Ho*Wo*F`` outputs of ``kh*kw*C`` multiply-adds; its two backward ops
    have the same count (the filter is ``(kh, kw, C, F)``, the output ``(N, Ho, Wo, F)``).
    """
    if op.type in CONV_OPS:
        if op.type == "Conv2DBackpropFilter":
            filt, out = _shape(op.outputs[0]), _shape(op.inputs[2])
        else:
            filt = _shape(op.inputs[1])
            out = _shape(op.outputs[0] if op.type == "Conv2D" else op.inputs[2])
        return 2 * math.prod(out) * filt[0] * filt[1] * filt[2]
    if op.type in MATMUL_OPS:
        a = _shape(op.inputs[0])
        transposed = op.get_attr("transpose_a" if op.type == "MatMul" else "adj_x")
        k = a[-2] if transposed else a[-1]
        return 2 * math.prod(_shape(op.outputs[0])) * k
    return 0


def graph_flops(concrete_function) -> int:
    """FLOPs of one call of a traced ``tf.function`` (see the module docstring)."""
    return sum(op_flops(op) for op in _live_ops(concrete_function.graph))


def best_time(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Seconds of the fastest of ``repeats`` calls of ``fn`` after ``warmup`` calls.

    ``fn`` must block until its work is done (return numpy values, not pending tensors).
    The minimum is the estimate least disturbed by other processes on a shared machine.
    """
    for _ in range(warmup):
        fn()
    return min(_timed(fn) for _ in range(repeats))


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved_times(fns: dict, repeats: int, warmup: int = 1) -> dict:
    """Best time of each ``fns[name]()``, calls interleaved round-robin.

    Interleaving spreads a burst of load from other processes over all cases, so their
    ratios stay meaningful on a noisy machine. Returns ``{name: seconds}``.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(_timed(fn))
    return {name: min(t) for name, t in times.items()}


def conv_case(calls: int = 1, size: int = 64, channels: int = 256):
    """A large 3x3 ``same`` conv, ``(1, size, size, C) -> (1, size, size, C)``, run
    ``calls`` times: ``(run, flops)``. Its GFLOP/s is the machine's practical conv peak,
    the yardstick for the train step's achieved rate."""
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((1, size, size, channels), np.float32))
    # Chained (not repeated, which graph optimisation would merge); variance-preserving.
    k = tf.constant(rng.standard_normal((3, 3, channels, channels), np.float32)
                    / np.float32(np.sqrt(9 * channels)))

    @tf.function
    def conv():
        y = x
        for _ in range(calls):
            y = tf.nn.conv2d(y, k, 1, "SAME")
        return y

    flops = 2 * size * size * channels * channels * 9 * calls
    return lambda: fetch(conv()), flops


def conv_peak(repeats: int = 5) -> tuple[float, int]:
    """``(GFLOP/s, flops per call)`` of :func:`conv_case`, best of ``repeats``."""
    run, flops = conv_case()
    return flops / best_time(run, repeats) / 1e9, flops


def matmul_case(n: int = 2048):
    """An ``n x n`` float32 matrix product: ``(run, flops)``. Its GFLOP/s is the most this
    machine's float32 arithmetic gives any exact computation."""
    a = tf.constant(np.random.default_rng(0).standard_normal((n, n), np.float32))
    matmul = tf.function(lambda: tf.matmul(a, a))
    return lambda: matmul().numpy(), 2 * n ** 3


def matmul_peak(repeats: int = 5, n: int = 2048) -> float:
    """GFLOP/s of :func:`matmul_case`, best of ``repeats``."""
    run, flops = matmul_case(n)
    return flops / best_time(run, repeats) / 1e9


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, MiB.

    Linux's ``VmHWM``, which starts afresh at ``exec``; ``ru_maxrss`` would carry over the
    peak of the parent a subprocess was forked from. Elsewhere, ``ru_maxrss``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, else KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def fetch(values: Iterable) -> list:
    """Block until tensors are computed: their numpy values, for timing."""
    return [np.asarray(v) for v in tf.nest.flatten(values)]
