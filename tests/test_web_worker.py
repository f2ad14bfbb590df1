"""The web page's worker process and what it runs: limits that kill it, the tiled bicubic
and the files of a real job."""

import io as bytes_io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan.web import work
from srgan.web.worker import Cancelled, JobFailed, Worker


@pytest.fixture
def worker():
    made = []

    def make(runner, memory_limit_mb=None):
        made.append(Worker(runner, memory_limit_mb))
        return made[-1]

    yield make
    for w in made:
        w.kill()


def never(*_):
    return None


def test_the_worker_process_is_kept_for_the_next_job(worker):
    w = worker("web_fakes:echo")
    notes = []
    first = w.run({"n": 1}, lambda f, note: notes.append((f, note)), never, 30)
    second = w.run({"n": 2}, lambda *a: None, never, 30)
    assert first["task"] == {"n": 1} and second["task"] == {"n": 2}
    assert first["pid"] == second["pid"] == w.pid and w.starts == 1
    assert notes == [(1.0, "echo")]


def test_memory_limit_kills_the_worker_and_the_next_job_gets_a_new_one(worker):
    w = worker("web_fakes:hog", memory_limit_mb=300)
    with pytest.raises(JobFailed, match="more than the memory limit of 300 MiB"):
        w.run({}, lambda *a: None, never, 60)
    assert w.pid is None
    w.runner = "web_fakes:echo"
    assert w.run({}, lambda *a: None, never, 30)["pid"] == w.pid and w.starts == 2


def test_a_worker_killed_from_outside_fails_its_job_in_one_line(worker):
    w = worker("web_fakes:suicide")
    with pytest.raises(JobFailed) as failed:
        w.run({}, lambda *a: None, never, 30)
    assert str(failed.value) == "the worker process was killed by SIGKILL (out of memory?)"


def test_stop_and_time_limit_kill_the_running_job(worker):
    w = worker("web_fakes:hog")
    with pytest.raises(Cancelled, match="^changed my mind$"):
        w.run({}, lambda *a: None, lambda: "changed my mind", 60)
    with pytest.raises(JobFailed, match="stopped after the time limit of 0.5 s"):
        w.run({}, lambda *a: None, never, 0.5)
    assert w.pid is None and w.starts == 2


@pytest.mark.parametrize("shape, scale", [((37, 29, 3), 4), ((23, 40, 4), 3), ((30, 26, 3), 2)])
def test_tiled_bicubic_matches_the_whole_image_and_stays_in_tiles(monkeypatch, shape, scale):
    from srgan.inference import upscale

    image = np.random.default_rng(1).integers(0, 256, shape, np.uint8)
    whole = upscale.interpolate(image, scale)
    largest, interpolate = [], upscale.interpolate

    def spy(tile, s):
        largest.append(tile.shape[0] * tile.shape[1] * s * s)
        return interpolate(tile, s)

    monkeypatch.setattr(upscale, "interpolate", spy)
    tiled = work.tiled_bicubic(image, scale, tile_out=16)
    assert tiled.shape == whole.shape and tiled.dtype == np.uint8
    assert np.abs(tiled.astype(int) - whole).max() <= 1
    assert np.mean(tiled == whole) > 0.999
    # Each float32 tile covers its core plus the context, never the whole output.
    assert max(largest) <= (16 + 2 * work.BICUBIC_PAD * scale) ** 2 < whole.size / shape[2]


def test_run_job_writes_png_level_1_and_bicubic_needs_one_file(tmp_path):
    image = np.random.default_rng(2).integers(0, 256, (10, 12, 4), np.uint8)
    Image.fromarray(image).save(tmp_path / "up.png")
    task = work.Task(upload=str(tmp_path / "up.png"), folder=str(tmp_path), prefix="1-ab",
                     method="bicubic", scale=2, max_pixels=1000)
    notes = []
    out = work.run_job(task, lambda *a: notes.append(a))
    assert out["files"] == {"result": str(tmp_path / "1-ab-result.png"),
                            "bicubic": str(tmp_path / "1-ab-result.png")}
    assert out["size"] == (24, 20) and notes[-1] == (1, 1, "bicubic tile 1/1")
    written = Path(out["files"]["result"]).read_bytes()
    pixels = np.asarray(Image.open(bytes_io.BytesIO(written)))
    assert pixels.shape == (20, 24, 4)
    level1 = bytes_io.BytesIO()
    Image.fromarray(pixels).save(level1, format="PNG", compress_level=1)
    assert written == level1.getvalue()


def test_run_job_restores_faces_when_asked(tmp_path):
    """A sample face in a small photo, x4 with bicubic: "Restore faces" changes the face
    and leaves the photo's far corners as they were."""
    from srgan.data.pipeline import sample_face_paths

    face = Image.open(sample_face_paths()[0]).convert("RGB").resize((40, 48))
    photo = Image.new("RGB", (120, 90), (70, 110, 90))
    photo.paste(face, (40, 20))
    photo.save(tmp_path / "up.png")
    results = []
    for faces in (False, True):
        task = work.Task(upload=str(tmp_path / "up.png"), folder=str(tmp_path),
                         prefix=f"{int(faces)}-ab", method="bicubic", scale=4,
                         max_pixels=10**6, face_enhance=faces)
        out = work.run_job(task, lambda *a: None)
        results.append(np.asarray(Image.open(out["files"]["result"])))
    plain, restored = results
    assert plain.shape == restored.shape == (360, 480, 3)
    changed = np.any(plain != restored, axis=-1)
    assert changed[80:280, 160:320].mean() > 0.3
    assert not changed[:40].any() and not changed[:, :60].any()


def test_a_task_the_pipe_cannot_carry_fails_alone_and_the_queue_goes_on(tmp_path):
    from srgan.web.jobs import JobQueue, QueueLimits

    for n in range(2):  # each job deletes its upload when it ends
        Image.new("RGB", (4, 3)).save(tmp_path / f"up{n}.png")
    good = work.Task(upload=str(tmp_path / "up1.png"), folder=str(tmp_path), prefix="2",
                     method="bicubic", scale=2, max_pixels=100)
    bad = work.Task(**{**good.__dict__, "upload": str(tmp_path / "up0.png"),
                       "zssr_steps": lambda: 3})  # a lambda does not pickle
    queue = JobQueue(QueueLimits(), Worker("web_fakes:run"))
    try:
        ids = [queue.submit(queue.reserve("a", 1), f"{n}.png", task, 30, Path(task.upload))
               for n, task in enumerate([bad, good])]
        for _ in range(300):
            if queue.status(ids[1])["state"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        assert queue.status(ids[0])["error"].startswith("0.png: the worker failed (")
        assert queue.status(ids[1])["state"] == "done" and queue.alive()
    finally:
        queue.close()
