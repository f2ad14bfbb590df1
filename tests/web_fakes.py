"""Runners for the web page's worker process in tests: no TensorFlow, so a worker starts
in about a second. Each takes a :class:`srgan.web.work.Task` as ``run_job`` does and acts
by its method:

- ``bicubic``: nearest-neighbour upscaling, written as ``run_job`` writes its files;
- ``srgan``: the same once the file ``<folder>/go`` exists (a job that runs until the test
  lets it finish; at most 60 s);
- ``srresnet``: fails with a two-line message;
- ``zssr``: the same as ``bicubic`` after sleeping 2 s.
"""

import os
import signal
import time
from pathlib import Path

import numpy as np

from srgan import files


def run(task, progress):
    image = files.read_image(task.upload, max_pixels=task.max_pixels, keep_alpha=True)
    if task.method == "srresnet":
        raise ValueError("out of luck\nsecond line")
    if task.method == "srgan":
        progress(1, 2, "waiting")
        for _ in range(600):
            if (Path(task.folder) / "go").exists():
                break
            time.sleep(0.1)
    if task.method == "zssr":
        time.sleep(2)
    sr = np.repeat(np.repeat(image, task.scale, 0), task.scale, 1)
    outputs = {}
    for kind in ("result", "bicubic"):
        path = files.safe_output_path(task.folder, f"{task.prefix}-{kind}.png")
        outputs[kind] = str(files.atomic_save_image(path, sr, png_compression=1))
    return {"files": outputs, "size": (sr.shape[1], sr.shape[0])}


def hog(task, progress):
    """Holds 400 MB (touched, so resident) for 30 s."""
    block = np.ones(400 * 2**20, np.uint8)
    time.sleep(30)
    return {"size": block.size}


def suicide(task, progress):
    """SIGKILLs its own process, as the out-of-memory killer would."""
    progress(1, 2, "about to die")
    time.sleep(0.3)
    os.kill(os.getpid(), signal.SIGKILL)


def echo(task, progress):
    """Returns the task, after one progress message."""
    progress(1, 1, "echo")
    return {"task": task, "pid": os.getpid()}
