"""Kill -9 a tiny training run at random moments and check that nothing is lost.

    python -m scripts.kill9 [--kills 20] [--seed 0] [--workdir DIR]

Each round starts ``train.py`` (the tests' tiny model, scripts/synthetic.py, ``--deterministic``,
2 pre-training then GAN epochs of 2 steps, so one save every 2 steps) on synthetic faces
and SIGKILLs it: a third of the rounds inside a checkpoint save, which the test hook
``$SRGAN_TEST_SLOW_SAVE`` stretches (paused after ``ckpt-N`` is written, before the index
names it), the others at a random moment of training (the hook is on in every round, so
some of those land in a save too). After every kill it checks:

1. the next run resumes ("resuming from .../ckpt-R") whenever a save had completed;
2. no completed checkpoint is lost: every save the killed run reported is still in the
   index, readable, and R >= the last one, so the step goes back by less than one save
   interval (the steps since that save);
3. R is a save the index names, with its files, never a temp file or a killed save's
   leftover; the next run removes such leftovers;
4. the exported generator still loads.

Finally the run is completed and compared with an uninterrupted run of the same length:
the checkpointed weights, optimizer states and counters must be identical.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from scripts.synthetic import TINY_FLAGS, smooth_face

ROOT = Path(__file__).resolve().parents[1]

SAVE_PAUSE_S = 1.0
SAVES_EVERY = 2  # steps: one save per epoch of 2 steps
SAVED = re.compile(r"^saved (\S+) \(step (\d+)\)", re.M)
RESUMED = re.compile(r"^resuming from (\S+): step (\d+)", re.M)
HOOK = "test hook: pausing"


def make_faces(folder: Path, count: int = 6) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        smooth_face(rng, 40 + 3 * i, 36 + 2 * i).save(folder / f"face_{i}.png")
    return folder


def train_cmd(run: Path, faces: Path, epochs: int) -> list[str]:
    return [sys.executable, str(ROOT / "train.py"), *TINY_FLAGS, "--data", str(faces),
            "--checkpoint-dir", str(run / "ckpt"), "--logdir", str(run / "logs"),
            "--results-dir", str(run / "results"), "--steps-per-epoch", "2",
            "--pretrain-epochs", "2", "--epochs", str(epochs), "--deterministic",
            "--no-val"]


def start(cmd: list[str], log: Path, slow_save: bool) -> subprocess.Popen:
    env = dict(os.environ, SRGAN_TEST_SLOW_SAVE=str(SAVE_PAUSE_S) if slow_save else "")
    with open(log, "wb") as fh:
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def wait_for(proc: subprocess.Popen, log: Path, pattern: str, count: int = 1,
             timeout: float = 300) -> bool:
    """Wait until ``pattern`` occurs ``count`` times in ``log``; False if the run ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(re.findall(pattern, log.read_text(errors="replace"), re.M)) >= count:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    raise TimeoutError(f"{log}: no {pattern!r} x{count} within {timeout} s")


def indexed_saves(state_dir: Path) -> list[str]:
    """Saves the ``checkpoint`` index names, oldest first."""
    import tensorflow as tf

    ckpt = tf.train.get_checkpoint_state(str(state_dir))
    return list(ckpt.all_model_checkpoint_paths) if ckpt else []


def leftovers(run: Path) -> list[str]:
    """Files a killed save left: TensorFlow temp folders, saves the index does not name,
    atomic-write temp files."""
    state = run / "ckpt" / "state"
    named = {Path(p).name for p in indexed_saves(state)}
    out = [p.name for p in state.glob("ckpt-*")
           if "_temp" in p.name or re.match(r"ckpt-\d+", p.name).group(0) not in named]
    return sorted(out + [p.name for p in (run / "ckpt").glob(".*.tmp-*")])


def checkpoint_tensors(path: str) -> dict:
    import tensorflow as tf

    reader = tf.train.load_checkpoint(path)
    return {k: reader.get_tensor(k) for k, _ in tf.train.list_variables(path)
            if "save_counter" not in k and "OBJECT_GRAPH" not in k}


def check_kill(run: Path, text: str, reported: list[int], expect_min: int | None,
               named: list[int]) -> dict:
    """Checks after one kill; ``text`` is the killed run's output, ``reported`` every step
    any killed run reported saved so far, ``expect_min`` the last of those before this
    run, ``named`` the steps the index named when this run started."""
    from srgan.models.weights import load_generator

    problems = []
    resumed = RESUMED.search(text)
    r = int(resumed.group(2)) if resumed else None
    if expect_min is not None and not resumed and re.search(r"^(pretrain|gan): ", text, re.M):
        problems.append("did not resume")
    if resumed:
        if expect_min is not None and r < expect_min:
            problems.append(f"resumed step {r} < last completed save {expect_min}")
        if not re.fullmatch(r".*/state/ckpt-\d+", resumed.group(1)) or r not in named:
            problems.append(f"resumed from {resumed.group(1)}, not a save the index named")
    saves = indexed_saves(run / "ckpt" / "state")
    steps = sorted(int(p.rsplit("-", 1)[1]) for p in saves)
    for s in sorted(set(reported))[-3:]:  # the index keeps the last 3
        if s not in steps:
            problems.append(f"completed save ckpt-{s} lost")
    for p in saves:
        try:
            checkpoint_tensors(p)
        except Exception as e:  # noqa: BLE001 - any failure is a finding
            problems.append(f"{p} unreadable: {e}")
    weights = run / "ckpt" / "generator.weights.h5"
    if weights.exists():
        try:
            load_generator(weights)
        except Exception as e:  # noqa: BLE001
            problems.append(f"exported generator unreadable: {e}")
    return {"resumed": r, "index": steps, "problems": problems}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", type=Path, default=None)
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="kill9-"))
    faces, run = make_faces(work / "faces"), work / "killed"
    shutil.rmtree(run, ignore_errors=True)
    reported: list[int] = []
    rows, failures, in_save = [], 0, 0
    print(f"{'kill':>4}  {'where':<26} {'last save':>9} {'resumed':>7} {'saved':>9} "
          f"{'index':<12} {'leftovers':<28} result")
    for k in range(1, args.kills + 1):
        log = work / f"run_{k:02d}.log"
        expect_min = max(reported) if reported else None
        proc = start(train_cmd(run, faces, 100_000), log, slow_save=True)
        if rng.random() < 1 / 3:
            nth = int(rng.integers(1, 4))
            alive = wait_for(proc, log, HOOK, nth)
            time.sleep(rng.uniform(0.05, 0.8) * SAVE_PAUSE_S)
            where = f"inside save #{nth}"
            in_save += 1
        else:
            alive = wait_for(proc, log, r"^(pretrain|gan): epochs")
            delay = rng.uniform(0, 12)
            time.sleep(delay)
            where = f"{delay:.2f} s into training"
        if not alive or proc.poll() is not None:
            print(f"run {k} ended before the kill:\n{log.read_text()}")
            return 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        text = log.read_text(errors="replace")
        new = [int(s) for _, s in SAVED.findall(text)]
        reported += new
        left = leftovers(run)
        result = check_kill(run, text, reported, expect_min, rows[-1]["index"] if rows else [])
        if left and k < args.kills:
            result["expect_cleanup"] = True
        if k > 1 and rows[-1].get("expect_cleanup") and "leftover files" not in text:
            result["problems"].append("previous kill's leftovers not removed")
        failures += bool(result["problems"])
        rows.append(result)
        index = ",".join(map(str, result["index"])) or "-"
        print(f"{k:>4}  {where:<26} {str(expect_min):>9} {str(result['resumed']):>7} "
              f"{','.join(map(str, new)) or '-':>9} {index:<12} {','.join(left) or '-':<28} "
              f"{'; '.join(result['problems']) or 'ok'}", flush=True)

    # Finish the run, then compare with one that was never interrupted.
    import tensorflow as tf

    latest = tf.train.latest_checkpoint(str(run / "ckpt" / "state"))
    done = checkpoint_tensors(latest)["gan_epochs/.ATTRIBUTES/VARIABLE_VALUE"] if latest else 0
    total = int(done) + 1
    finals = {}
    for name in ("killed", "uninterrupted"):
        out = subprocess.run(train_cmd(work / name, faces, total), capture_output=True,
                             text=True, cwd=ROOT)
        if out.returncode:
            print(f"{name} run failed:\n{out.stdout}\n{out.stderr}")
            return 2
        finals[name] = checkpoint_tensors(
            tf.train.latest_checkpoint(str(work / name / "ckpt" / "state")))
    a, b = finals["killed"], finals["uninterrupted"]
    identical = a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    step = int(a["g_optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE"])
    resumes = sum(r["resumed"] is not None for r in rows)
    print(f"tally: {args.kills} kills ({in_save} inside a save, {args.kills - in_save} at "
          f"random moments of training); {resumes} runs resumed from a checkpoint; "
          f"{failures} kills with a problem; saves every {SAVES_EVERY} steps; completed "
          f"to step {step}: weights, optimizer states and counters "
          f"{'identical to' if identical else 'DIFFERENT from'} an uninterrupted run")
    return 0 if not failures and identical else 1


if __name__ == "__main__":
    sys.exit(main())
